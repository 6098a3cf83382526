"""Odd input never gets a 500 (issue 15, items 7 and 8).

A real instance answers a body it cannot read with 400 ``Exception while reading request``
(servicenow-behaviour §1.1, §3: the envelope of KB0747638's payload refusal). Deeply nested
JSON (``[`` x 100,000) is such a body; a lone surrogate in a JSON string is valid JSON that no
UTF-8 store can hold, and is stored with U+FFFD instead.
"""

from __future__ import annotations

import base64
import re

import httpx
import pytest
from flask import Flask

from tests.mock_servicenow.test_jwt_bearer import (  # noqa: F401 (fixtures)
    Endpoint,
    endpoint,
    refused,
    rsa_key,
)

DEEP = b"[" * 100_000
DEEP_OBJECT = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
UNREADABLE = {"message": "Exception while reading request",
              "detail": "The payload is not valid JSON."}
INCIDENT = "/api/now/table/incident"


def _json_writes(app: Flask) -> list[tuple[str, str]]:
    """Every POST/PUT/PATCH route of the JSON surfaces (``/api/``, ``/_emulator/``), with
    path parameters filled in."""
    found = []
    for rule in app.url_map.iter_rules():
        path = rule.rule
        if not path.startswith(("/api/", "/_emulator/")):
            continue
        for method in sorted((rule.methods or set()) & {"POST", "PUT", "PATCH"}):
            filled = re.sub(r"<(?:any\(v1(?:, v2)?\):)?version>", "v1", path)
            filled = re.sub(r"<[^>]*table>", "incident", filled)
            filled = re.sub(r"<[^>]*>", "x", filled)
            found.append((method, filled))
    return sorted(set(found))


def test_the_json_surfaces_are_all_listed(snow_app: Flask) -> None:
    paths = {path for _method, path in _json_writes(snow_app)}
    for expected in (INCIDENT, "/api/now/v1/batch", "/api/x_mioms_m365ticket/v1/connection",
                     "/_emulator/clock", "/_emulator/faults", "/_emulator/idp/sso",
                     "/_emulator/idp/users", "/_emulator/instances", "/_emulator/scenarios/x"):
        assert expected in paths, sorted(paths)


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["arrays", "objects"])
def test_deeply_nested_json_is_a_400_everywhere(snow_app: Flask, snow_admin: httpx.Client,
                                                body: bytes) -> None:
    readers = []
    for method, path in _json_writes(snow_app):
        answer = snow_admin.request(method, path, content=body,
                                    headers={"Content-Type": "application/json"})
        assert answer.status_code < 500, (method, path, answer.text[:300])
        if answer.status_code == 400 and answer.json()["error"] == UNREADABLE:
            readers.append(path)
    for path in (INCIDENT, "/api/now/v1/batch", "/api/x_mioms_m365ticket/v1/connection",
                 "/_emulator/clock", "/_emulator/faults", "/_emulator/idp/sso",
                 "/_emulator/idp/users", "/_emulator/instances"):
        assert path in readers, (path, readers)


def test_deep_json_inside_a_batch_item_is_that_items_400(snow_admin: httpx.Client) -> None:
    item = {"id": "deep", "method": "POST", "url": INCIDENT,
            "headers": [{"name": "Content-Type", "value": "application/json"}],
            "body": base64.b64encode(DEEP).decode()}
    answer = snow_admin.post("/api/now/v1/batch", json={"batch_request_id": "1",
                                                        "rest_requests": [item]})
    assert answer.status_code == 200
    served = answer.json()["serviced_requests"][0]
    assert served["status_code"] == 400


def test_deeply_nested_batch_ids_are_echoed_without_a_500(snow_admin: httpx.Client) -> None:
    deep_id = b"[" * 900 + b"]" * 900
    body = (b'{"batch_request_id":' + deep_id + b',"rest_requests":[{"id":' + deep_id
            + b',"method":' + deep_id + b',"url":"/api/now/table/incident"}]}')
    answer = snow_admin.post("/api/now/v1/batch", content=body,
                             headers={"Content-Type": "application/json"})
    assert answer.status_code in (200, 400), answer.text[:300]


def test_a_lone_surrogate_is_stored_as_a_replacement_character(snow_admin: httpx.Client) -> None:
    body = b'{"short_description": "before \\ud800 after", "description": "\\udc00"}'
    created = snow_admin.post(INCIDENT, content=body,
                              headers={"Content-Type": "application/json"})
    assert created.status_code == 201, created.text
    record = created.json()["result"]
    assert record["short_description"] == "before \ufffd after"
    assert record["description"] == "\ufffd"
    sys_id = record["sys_id"]
    patched = snow_admin.patch(f"{INCIDENT}/{sys_id}", content=b'{"work_notes": "\\ud83d"}',
                               headers={"Content-Type": "application/json"})
    assert patched.status_code == 200, patched.text
    # A valid pair (an emoji) is kept as it is.
    emoji = snow_admin.post(INCIDENT, content=b'{"short_description": "\\ud83d\\ude00"}',
                            headers={"Content-Type": "application/json"})
    assert emoji.json()["result"]["short_description"] == "\U0001F600"


@pytest.mark.parametrize("path,body", [
    ("/api/x_mioms_m365ticket/v1/connection", b'{"tenant_id": "\\ud800", "client_id": "x"}'),
    ("/_emulator/faults", b'{"path": "/nowhere", "action": "status", "status": 500, '
                          b'"message": "\\udfff"}'),
    ("/_emulator/idp/users", b'{"user_name": "s\\ud800", "email": "s@example.com", '
                             b'"password": "pw"}'),
])
def test_lone_surrogates_elsewhere_are_not_500s(snow_admin: httpx.Client, path: str,
                                                body: bytes) -> None:
    answer = snow_admin.post(path, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code < 500, answer.text[:300]


# -- item 8: the independent fuzzing run's 500s --------------------------------------------------

@pytest.mark.parametrize("rule_id", ["63905187942025338880", "9223372036854775808",
                                     "9223372036854775807", "0"])
def test_deleting_a_fault_id_past_64_bits_is_a_404(snow_client: httpx.Client,
                                                   rule_id: str) -> None:
    answer = snow_client.delete(f"/_emulator/faults/{rule_id}")
    assert answer.status_code == 404
    assert answer.json()["error"]["message"] == "No Record found"


def test_sso_after_an_extreme_clock_is_not_a_500(snow_client: httpx.Client) -> None:
    # The reported 500 (POST /_emulator/idp/sso {"enabled": false, "client_id": "00"}) came
    # after the fuzzer froze the clock at year 1: every later request broke. The clock now
    # refuses instants it cannot carry, so nothing after it breaks.
    for body in ({"action": "freeze", "at": "0001-01-01 00:00:00"},
                 {"action": "freeze", "at": "9999-12-31 23:59:59"},
                 {"action": "advance", "seconds": -3_000_000_000}):
        refused = snow_client.post("/_emulator/clock", json=body)
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"]["message"] == "Invalid clock action"
    answer = snow_client.post("/_emulator/idp/sso", json={"enabled": False, "client_id": "00"})
    assert answer.status_code == 200, answer.text
    assert snow_client.get("/_emulator/info").status_code == 200


@pytest.mark.parametrize("name", ["a%2Fb", "..%2F..%2Fpyproject.toml", "%2e%2e", "x%00",
                                  "table-api.openapi.yaml%0A"])
def test_any_contract_name_gets_the_documented_404(snow_client: httpx.Client,
                                                   name: str) -> None:
    answer = snow_client.get(f"/_emulator/contracts/{name}")
    assert answer.status_code == 404, answer.text
    assert answer.json()["error"]["message"] == "No such contract"


@pytest.mark.parametrize("page", [{}, [], 7, True, "asleep"])
def test_a_fault_rule_with_an_odd_page_is_a_400(snow_client: httpx.Client, page: object) -> None:
    # Found by scripts/fuzz: {"page": {}} was a 500 (an unhashable value tested for
    # membership).
    answer = snow_client.post("/_emulator/faults", json={"path": "/", "action": "page",
                                                         "page": page})
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["message"] == "Invalid fault rule"


# -- the JWT bearer grant's assertion (issue 18's surface, read by the same rule) ----------------

def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize("part", ["header", "payload"])
def test_a_deeply_nested_jwt_assertion_is_the_grants_401(
        endpoint: Endpoint, part: str) -> None:  # noqa: F811 (the imported fixture)
    deep = _b64(b"[" * 50_000)
    plain = _b64(b'{"alg": "RS256", "kid": "k1"}')
    assertion = f"{deep}.{plain}.sig" if part == "header" else f"{plain}.{deep}.sig"
    answer = endpoint.exchange(assertion)
    assert refused(answer), answer.text[:300]
    assert "the assertion is not a signed JWT" in endpoint.log()[0]
