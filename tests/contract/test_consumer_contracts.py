"""The consumer side (issue 8 item 4): the recording transport the connector's integration
tests use (``tests/connector/recording.py``) really rejects, against the real ``contracts/``,
every kind of exchange the contracts do not document. Without this, a recorder that let
everything through would keep ``tests/integration/test_connector_journey.py`` green while the
connector and the emulator drift apart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask

from tests.connector.recording import RecordingTransport, load_contract

CONTRACTS = tuple(load_contract(p) for p in
                  sorted((Path(__file__).resolve().parents[2] / "contracts")
                         .glob("*.openapi.yaml")))
BASE = "https://dev00000.service-now.test"


def _canned(status: int, body: Any = None, content: bytes | None = None,
            content_type: str = "application/json;charset=UTF-8") -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        if content is not None:
            return httpx.Response(status, content=content,
                                  headers={"Content-Type": content_type})
        return httpx.Response(status, json=body, headers={"Content-Type": content_type})
    return httpx.MockTransport(handler)


def _problems(inner: httpx.BaseTransport, method: str, path: str, **kwargs: Any) -> list[str]:
    recorder = RecordingTransport(inner, CONTRACTS)
    with httpx.Client(transport=recorder, base_url=BASE) as client:
        client.request(method, path, **kwargs)
    return recorder.problems


def test_a_real_exchange_with_the_emulator_passes(snow_app: Flask) -> None:
    problems = _problems(httpx.WSGITransport(app=snow_app), "GET",
                         "/api/now/table/incident?sysparm_limit=2",
                         auth=("admin", "admin"))
    assert problems == []


@pytest.mark.parametrize(("inner", "method", "path", "kwargs", "expected"), [
    (_canned(200, {"result": []}), "GET", "/api/now/tables/incident", {}, "not documented"),
    (_canned(200, {"result": []}), "PURGE", "/api/now/table/incident", {}, "not documented"),
    (_canned(418, {"result": []}), "GET", "/api/now/table/incident", {}, "not documented"),
    (_canned(200, {"records": []}), "GET", "/api/now/table/incident", {}, "result"),
    (_canned(200, {"result": [{"number": ["INC1"]}]}), "GET", "/api/now/table/incident", {},
     "result"),
    (_canned(401, {"error": {"message": "x"}, "status": "failure"}), "GET",
     "/api/now/table/incident", {}, "detail"),
    (_canned(201, {"result": {}}), "POST", "/api/now/table/incident",
     {"content": b'"just a string"', "headers": {"Content-Type": "application/json"}},
     "request body"),
    (_canned(200, {"access_token": "short", "scope": "useraccount", "token_type": "Bearer",
                   "expires_in": 1799}), "POST", "/oauth_token.do",
     {"data": {"grant_type": "password"}}, "access_token"),
    (_canned(200, content=b"<html></html>", content_type="text/html"), "GET",
     "/api/x_mioms_m365ticket/v1/checklist", {}, "media type"),
], ids=["unknown path", "unknown method", "undocumented status", "wrong envelope",
        "non-scalar value", "error without detail", "body not a record", "short token",
        "html from an api"])
def test_the_recorder_rejects_what_the_contracts_do_not_document(
        inner: httpx.BaseTransport, method: str, path: str, kwargs: dict[str, Any],
        expected: str) -> None:
    problems = _problems(inner, method, path, **kwargs)
    assert problems and any(expected in p for p in problems), problems
