"""The recording transport's validator, on a tiny contract of its own."""

from __future__ import annotations

from typing import Any

import httpx
import yaml

from tests.connector.recording import RecordingTransport, validate_exchange

TINY: dict[str, Any] = yaml.safe_load("""
openapi: 3.1.0
info: {title: tiny, version: "1"}
paths:
  /api/now/table/{table}:
    get:
      parameters:
        - {name: sysparm_limit, in: query, required: true, schema: {type: integer, minimum: 1}}
      responses:
        "200":
          content:
            application/json:
              schema: {$ref: "#/components/schemas/List"}
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object, additionalProperties: {type: string}}
      responses:
        "201": {description: created}
components:
  schemas:
    List:
      type: object
      required: [result]
      properties: {result: {type: array}}
""")

URL = "https://x.service-now.com/api/now/table/incident"


def test_a_conforming_exchange_has_no_problems() -> None:
    request = httpx.Request("GET", URL + "?sysparm_limit=5")
    assert validate_exchange(TINY, request, httpx.Response(200, json={"result": []})) == []


def test_each_kind_of_departure_is_reported() -> None:
    assert validate_exchange(TINY, httpx.Request("GET", "https://x/other"), None) == \
        ["GET /other: not documented"]
    problems = validate_exchange(TINY, httpx.Request("GET", URL), None)
    assert problems == ["GET /api/now/table/incident: missing required query parameter "
                        "sysparm_limit"]
    assert validate_exchange(TINY, httpx.Request("GET", URL + "?sysparm_limit=0"), None)
    assert validate_exchange(TINY, httpx.Request("GET", URL + "?sysparm_limit=x"), None)
    bad_body = httpx.Request("POST", URL, json={"priority": 1})
    assert any("request body" in p for p in validate_exchange(TINY, bad_body, None))
    form = httpx.Request("POST", URL, data={"a": "b"})
    assert any("media type" in p for p in validate_exchange(TINY, form, None))
    ok = httpx.Request("GET", URL + "?sysparm_limit=1")
    assert any("status 500" in p for p in validate_exchange(TINY, ok, httpx.Response(500)))
    assert any("result" in p for p in validate_exchange(TINY, ok, httpx.Response(200, json={})))
    assert any("requires a request body" in p
               for p in validate_exchange(TINY, httpx.Request("POST", URL), None))


def test_the_transport_records_and_collects_problems() -> None:
    inner = httpx.MockTransport(lambda request: httpx.Response(200, json={"result": []}))
    recorder = RecordingTransport(inner, [TINY])
    with httpx.Client(transport=recorder) as client:
        client.get(URL, params={"sysparm_limit": "2"})
        client.get(URL)
    assert len(recorder.exchanges) == 2
    assert recorder.exchanges[0].response is not None
    assert recorder.problems == ["GET /api/now/table/incident: missing required query "
                                 "parameter sysparm_limit"]
