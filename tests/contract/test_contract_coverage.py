"""Every route the Flask app registers appears in a contract, and every contract operation is
implemented (issue 8 item 2). Fails with the list of what is missing on either side.

HEAD and OPTIONS are not skipped on faith. Werkzeug answers HEAD for every GET rule; the
contracts say so (HEAD = GET without a body, servicenow-behaviour §1.1) and
:func:`test_head_is_get_without_a_body` proves it for every documented GET. Flask's automatic
OPTIONS is switched off (``PROVIDE_AUTOMATIC_OPTIONS``): a real instance does not support it,
so OPTIONS must be a 405 everywhere, and any rule that still accepts OPTIONS (or HEAD without
GET) has to be documented like any other operation.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule

from mock_servicenow.web.record_pages import own_page_methods

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}
#: The pages' catch-all (a table's list or form); it never serves a path a page owns.
CATCH_ALL = "record_pages.record_page"
_ANY = re.compile(r"<any\(([^)]*)\):[^>]+>")
_VARIABLE = re.compile(r"<[^>]+>")


def documents() -> dict[str, dict[str, Any]]:
    """Every contract, by file name."""
    return {p.name: yaml.safe_load(p.read_text())
            for p in sorted(CONTRACTS.glob("*.openapi.yaml"))}


def _parameter(spec: dict[str, Any], parameter: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in parameter:
        return dict(spec["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[1]])
    return parameter


def contract_operations(docs: dict[str, dict[str, Any]] | None = None
                        ) -> list[tuple[str, str, str]]:
    """(METHOD, path template, a concrete path) for every documented operation; the concrete
    path takes each path parameter's first enum value, else ``1``."""
    operations = []
    for spec in (documents() if docs is None else docs).values():
        for path, item in (spec.get("paths") or {}).items():
            for method, operation in item.items():
                if method not in METHODS:
                    continue
                values = {}
                for parameter in [*item.get("parameters", []),
                                  *operation.get("parameters", [])]:
                    parameter = _parameter(spec, parameter)
                    if parameter.get("in") == "path":
                        enum = parameter.get("schema", {}).get("enum")
                        values[parameter["name"]] = str(enum[0]) if enum else "1"
                concrete = path
                for name, value in values.items():
                    concrete = concrete.replace(f"{{{name}}}", value)
                operations.append((method.upper(), path, concrete))
    return operations


def _template(path: str) -> re.Pattern[str]:
    """An OpenAPI path template as a pattern (``{name}``: one segment or part of one)."""
    parts = re.split(r"\{[^}]+\}", path)
    return re.compile("[^/]+".join(re.escape(part) for part in parts))


def _implied_head(rule: Rule) -> bool:
    # Werkzeug adds HEAD to every rule that has GET; those HEADs are "GET without a body",
    # proven below for every documented GET. A HEAD on a rule without GET is a real operation.
    return "GET" in (rule.methods or set())


def _spelled_out(path: str) -> list[str]:
    """A rule's concrete paths: an ``any(v1, v2)`` converter as each of its words (contracts
    write ``/api/now/v1/...`` or an ``{api_version}``), any other variable as ``1``."""
    found = _ANY.search(path)
    if found is None:
        return [_VARIABLE.sub("1", path)]
    return [variant for word in found.group(1).split(",")
            for variant in _spelled_out(path[:found.start()] + word.strip(" '\"")
                                        + path[found.end():])]


def undocumented_routes(app: Flask, docs: dict[str, dict[str, Any]] | None = None
                        ) -> set[tuple[str, str]]:
    """(METHOD, rule) for every method a registered rule accepts that no contract documents
    on a path template matching the rule's paths."""
    documented: dict[str, list[re.Pattern[str]]] = {}
    for method, path, _ in contract_operations(docs):
        documented.setdefault(method, []).append(_template(path))
    missing = set()
    for rule in app.url_map.iter_rules():
        for method in rule.methods or ():
            if method == "HEAD" and _implied_head(rule):
                continue
            for concrete in _spelled_out(rule.rule):
                if not any(t.fullmatch(concrete) for t in documented.get(method, [])):
                    missing.add((method, rule.rule))
    return missing


def unserved_operations(app: Flask, docs: dict[str, dict[str, Any]] | None = None
                        ) -> set[tuple[str, str]]:
    """(METHOD, path) for every documented operation no rule routes. An operation may be
    served by a rule with a variable where the contract has a word (GET
    /api/now/attachment/upload is GET /api/now/attachment/<sys_id>: the contracts document
    such paths, "Not an operation of its own"); the pages' catch-all never counts for a path
    a page owns (it answers that page's 405)."""
    adapter = app.url_map.bind("dev00000.service-now.test")
    unserved = set()
    for method, path, concrete in contract_operations(docs):
        try:
            rule, _ = adapter.match(concrete, method=method, return_rule=True)
        except HTTPException:
            unserved.add((method, path))
            continue
        if rule.endpoint == CATCH_ALL:
            with app.test_request_context(concrete, method=method):
                if own_page_methods(concrete):
                    unserved.add((method, path))
    return unserved


def test_every_route_is_in_a_contract_and_every_operation_is_served(snow_app: Flask) -> None:
    undocumented = sorted(undocumented_routes(snow_app))
    unimplemented = sorted(unserved_operations(snow_app))
    assert not undocumented and not unimplemented, (
        f"routes missing from contracts/: {undocumented}\n"
        f"contract operations not served: {unimplemented}"
    )


def test_the_comparison_sees_a_new_route_and_an_unserved_operation(snow_app: Flask) -> None:
    """The coverage check is not vacuous: an undocumented route (and its OPTIONS) shows up, and
    so do documented operations nothing serves (a method a route lacks, a page's method that
    only the catch-all would take)."""
    snow_app.add_url_rule("/api/now/undocumented/<thing>", "undocumented_probe",
                          lambda thing: "", methods=["GET", "OPTIONS"])
    assert undocumented_routes(snow_app) == {("GET", "/api/now/undocumented/<thing>"),
                                             ("OPTIONS", "/api/now/undocumented/<thing>")}
    probe = {"probe": {"paths": {
        "/api/now/table/{tableName}": {"put": {}},
        "/logout.do": {"post": {}},
        "/api/now/attachment/upload": {"get": {}},
    }}}
    assert unserved_operations(snow_app, probe) == {("PUT", "/api/now/table/{tableName}"),
                                                   ("POST", "/logout.do")}


def test_no_route_answers_options(snow_app: Flask, snow_admin: httpx.Client) -> None:
    """OPTIONS is not a ServiceNow method (§1.1): 405 with the envelope on API paths."""
    assert not [r.rule for r in snow_app.url_map.iter_rules() if "OPTIONS" in (r.methods or ())]
    api = snow_admin.options("/api/now/table/incident")
    assert api.status_code == 405
    assert api.json()["error"]["message"] == "Method not Supported"
    assert "OPTIONS" not in api.headers["allow"]
    page = snow_admin.options("/login.do")
    assert page.status_code == 405 and page.headers["content-type"].startswith("text/html")


def _sample_path(path: str, item: dict[str, Any], operation: dict[str, Any],
                 spec: dict[str, Any], sys_id: str) -> str:
    """A concrete URL for a documented path: enum or example values, a real incident sys_id."""
    parameters = [*item.get("parameters", []), *operation.get("parameters", [])]
    values: dict[str, str] = {}
    for parameter in parameters:
        if "$ref" in parameter:
            parameter = spec["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[1]]
        if parameter.get("in") != "path":
            continue
        schema = parameter.get("schema", {})
        if parameter["name"] == "sys_id":
            values["sys_id"] = sys_id
        elif "enum" in schema:
            values[parameter["name"]] = str(schema["enum"][0])
        elif schema.get("examples"):
            values[parameter["name"]] = str(schema["examples"][0])
        else:
            values[parameter["name"]] = "control-plane.openapi.yaml"
    return re.sub(r"\{([^}]+)\}", lambda m: values[m.group(1)], path)


def test_head_is_get_without_a_body(snow_admin: httpx.Client) -> None:
    """For every documented GET: HEAD answers the same status and content type, no body."""
    sys_id = snow_admin.get("/api/now/table/incident",
                            params={"sysparm_limit": 1}).json()["result"][0]["sys_id"]
    checked = 0
    for name, spec in documents().items():
        for path, item in spec["paths"].items():
            if "get" not in item:
                continue
            url = _sample_path(path, item, item["get"], spec, sys_id)
            got = snow_admin.get(url)
            head = snow_admin.head(url)
            assert (head.status_code, head.content) == (got.status_code, b""), (name, url)
            assert head.headers.get("content-type") == got.headers.get("content-type"), url
            checked += 1
    assert checked >= 20


@pytest.mark.parametrize("name", sorted(p.name for p in CONTRACTS.glob("*.openapi.yaml")))
def test_every_operation_describes_its_errors(name: str) -> None:
    """Each operation documents at least one 4xx answer (issue 8 item 1). Only pages that
    cannot fail (a form, a redirect: 200/302 and nothing else) are exempt; never an API path."""
    spec = documents()[name]
    silent = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            statuses = set(operation["responses"])
            if any(s.startswith("4") for s in statuses):
                continue
            if operation.get("x-cannot-fail"):
                continue  # documented, with the reason, in the contract itself
            is_api = path.startswith(("/api/", "/_emulator/", "/oauth_"))
            if is_api or not statuses <= {"200", "302"}:
                silent.append(f"{method.upper()} {path}")
    assert not silent, f"operations without documented errors: {silent}"


def test_the_contracts_are_served_by_the_control_plane(snow_client: httpx.Client) -> None:
    listed = snow_client.get("/_emulator/contracts").json()["contracts"]
    names = {c["name"] for c in listed}
    assert names == set(documents())
    body = snow_client.get("/_emulator/contracts/control-plane.openapi.yaml")
    assert body.headers["content-type"].startswith("application/yaml")
    assert yaml.safe_load(body.text)["openapi"].startswith("3.1")
    traversal = snow_client.get("/_emulator/contracts/..%2Fpyproject.toml")
    assert traversal.status_code in (400, 404) and "project" not in traversal.text
    missing = snow_client.get("/_emulator/contracts/nope.openapi.yaml")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "No such contract"
