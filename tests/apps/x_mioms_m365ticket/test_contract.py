"""contracts/m365ticket-app.openapi.yaml holds for the emulator.

Two ways: every answer of a scripted scenario is validated against the documented schema of
its operation and status (jsonschema), and schemathesis generates requests (valid and not)
for every operation: no 500s, documented statuses, content types and bodies.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import referencing
import schemathesis
import yaml
from flask import Flask
from hypothesis import HealthCheck, settings

from mock_servicenow.app import create_app
from mock_servicenow.apps.x_mioms_m365ticket.constants import OAUTH_ENTITY_NAME
from mock_servicenow.pytest_plugin import IN_PROCESS_BASE_URL
from mock_servicenow.settings import Settings
from mock_servicenow.store import rows

CONTRACT = Path(__file__).resolve().parents[3] / "contracts" / "m365ticket-app.openapi.yaml"
DOCUMENT: dict[str, Any] = yaml.safe_load(CONTRACT.read_text())
PREFIX = "/api/x_mioms_m365ticket/v1"
ADMIN = {"Authorization": "Basic " + base64.b64encode(b"admin:admin").decode()}

schema = schemathesis.openapi.from_path(str(CONTRACT))


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


@pytest.fixture(scope="module")
def contract_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One instance for the generated requests (hypothesis reuses it across examples)."""
    directory = tmp_path_factory.mktemp("contract")
    settings_ = Settings(database_path=str(directory / "instance.db"), home=directory,
                         admin_password="admin", password_hash_iterations=1000,
                         secret_key="contract", random_seed=7)
    app = create_app(settings_)
    yield app
    app.extensions["mock_servicenow"].instance.close()


@schema.parametrize()
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_generated_requests_follow_the_contract(case: Any, contract_app: Flask) -> None:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    case.call_and_validate(app=contract_app, headers=ADMIN,
                           checks=[not_a_server_error, status_code_conformance,
                                   content_type_conformance, response_schema_conformance])
