"""JSON bodies (web/bodies.py), shared by the Table API and the CMDB Instance API: a lone
UTF-16 surrogate spelled by a JSON escape is not a character (no text column can store it),
so it is refused like broken JSON instead of failing deep in the store with a 500; a
surrogate pair is an ordinary character (servicenow-behaviour §1.1, §3)."""

from __future__ import annotations

import httpx
import pytest

from tests.mock_servicenow.table_api_helpers import envelope

HEADERS = {"Content-Type": "application/json"}


@pytest.mark.parametrize(("path", "template", "stored"), [
    ("/api/now/table/incident", '{"short_description": "%s"}', ("short_description",)),
    ("/api/now/table/incident", '[{"short_description": "%s"}]', ("short_description",)),
    ("/api/now/cmdb/instance/cmdb_ci_appl",
     '{"attributes": {"name": "%s"}, "source": "ServiceNow"}', ("attributes", "name")),
])
def test_lone_surrogates_are_broken_json_and_pairs_are_characters(
        snow_admin: httpx.Client, path: str, template: str, stored: tuple[str, ...]) -> None:
    for lone in ("\\ud800", "\\uDFFF", "x\\udc00y"):
        response = snow_admin.post(path, content=(template % lone).encode(), headers=HEADERS)
        assert envelope(response, 400) == {"message": "Exception while reading request",
                                           "detail": "The payload is not valid JSON."}
    pair = snow_admin.post(path, content=(template % "\\ud83d\\ude00").encode(),
                           headers=HEADERS)
    assert pair.status_code == 201, pair.text
    value = pair.json()["result"]
    for key in stored:
        value = value[key]
    assert value == "\U0001f600"
