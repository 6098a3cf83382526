"""contracts/m365ticket-app.openapi.yaml holds for the emulator.

Every answer of a scripted scenario is validated against the documented schema of its
operation and status (jsonschema). Generated requests (schemathesis, valid and not) for every
operation of every contract run in one place: tests/contract/test_schemathesis.py.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import referencing
import yaml
from flask import Flask

from mock_servicenow.apps.x_mioms_m365ticket.constants import OAUTH_ENTITY_NAME
from mock_servicenow.pytest_plugin import IN_PROCESS_BASE_URL
from mock_servicenow.store import rows

CONTRACT = Path(__file__).resolve().parents[3] / "contracts" / "m365ticket-app.openapi.yaml"
DOCUMENT: dict[str, Any] = yaml.safe_load(CONTRACT.read_text())
PREFIX = "/api/x_mioms_m365ticket/v1"
ADMIN = {"Authorization": "Basic " + base64.b64encode(b"admin:admin").decode()}



def _validate(response: httpx.Response, path: str, method: str) -> None:
    operation = DOCUMENT["paths"][path][method]
    documented = operation["responses"][str(response.status_code)]
    if "$ref" in documented:
        documented = DOCUMENT["components"]["responses"][documented["$ref"].split("/")[-1]]
    if "content" not in documented:
        assert response.content == b""
        return
    assert response.headers["content-type"] == "application/json;charset=UTF-8"
    registry = referencing.Registry().with_resource(
        "urn:contract", referencing.Resource.from_contents(DOCUMENT,
                                                           referencing.jsonschema.DRAFT202012))
    # The documented schema, with its component references pointed at the whole document.
    target = _inline(documented["content"]["application/json"]["schema"])
    validator = jsonschema.Draft202012Validator(target, registry=registry)
    validator.validate(response.json())


def _inline(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: (f"urn:contract{v}" if k == "$ref" else _inline(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v) for v in node]
    return node


def test_scenario_answers_match_the_contract(snow_app: Flask, snow_admin: httpx.Client) -> None:
    checklist = f"{PREFIX}/checklist"
    run = "/api/x_mioms_m365ticket/v1/checklist/{step}/run"
    connection = f"{PREFIX}/connection"
    _validate(snow_admin.get(checklist), checklist, "get")
    _validate(snow_admin.post(f"{PREFIX}/checklist/roles/run"), run, "post")
    _validate(snow_admin.post(f"{PREFIX}/checklist/nope/run"), run, "post")
    _validate(snow_admin.get(connection), connection, "get")
    db = snow_app.extensions["mock_servicenow"].instance.connect()
    from mock_servicenow.dictionary import default_dictionary

    entity = rows.find_by(db, default_dictionary(), "oauth_entity", name=OAUTH_ENTITY_NAME)[0]
    db.close()
    created = snow_admin.post(connection, json={"tenant_id": "t",
                                                "client_id": entity["client_id"]})
    assert created.status_code == 201
    _validate(created, connection, "post")
    _validate(snow_admin.get(connection), connection, "get")
    _validate(snow_admin.post(connection, content=b"{", headers={"Content-Type":
                                                                 "application/json"}),
              connection, "post")
    _validate(snow_admin.post(connection, content=b"a=b", headers={
        "Content-Type": "application/x-www-form-urlencoded"}), connection, "post")
    _validate(snow_admin.delete(connection), connection, "delete")
    with httpx.Client(transport=httpx.WSGITransport(app=snow_app),
                      base_url=IN_PROCESS_BASE_URL) as anonymous:
        _validate(anonymous.get(checklist), checklist, "get")
    with httpx.Client(transport=httpx.WSGITransport(app=snow_app), base_url=IN_PROCESS_BASE_URL,
                      auth=("m365_integration", "integration")) as integration:
        _validate(integration.get(checklist), checklist, "get")
