"""The emulator's OAuth answers match ``contracts/oauth.openapi.yaml``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml
from flask import Flask

from tests.mock_servicenow.identity_helpers import make_client

CONTRACT = Path(__file__).resolve().parents[2] / "contracts" / "oauth.openapi.yaml"


@pytest.fixture(scope="module")
def contract() -> dict[str, Any]:
    return yaml.safe_load(CONTRACT.read_text())  # type: ignore[no-any-return]


def schema(contract: dict[str, Any], status: str) -> dict[str, Any]:
    response = contract["paths"]["/oauth_token.do"]["post"]["responses"][status]
    ref = response["content"]["application/json"]["schema"]["$ref"]
    resolved = contract["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return resolved  # type: ignore[no-any-return]


def test_token_answers_follow_the_contract(snow_app: Flask, snow_client: httpx.Client,
                                           contract: dict[str, Any]) -> None:
    _, client_id, secret = make_client(snow_app)
    ok = snow_client.post("/oauth_token.do", data={
        "grant_type": "password", "client_id": client_id, "client_secret": secret,
        "username": "admin", "password": "admin"})
    jsonschema.validate(ok.json(), schema(contract, "200"))
    refreshed = snow_client.post("/oauth_token.do", data={
        "grant_type": "refresh_token", "client_id": client_id, "client_secret": secret,
        "refresh_token": ok.json()["refresh_token"]})
    jsonschema.validate(refreshed.json(), schema(contract, "200"))
    bad = snow_client.post("/oauth_token.do", data={"grant_type": "password"})
    assert bad.status_code == 401
    jsonschema.validate(bad.json(), schema(contract, "401"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"error": "invalid_grant"}, schema(contract, "401"))


def test_contract_lists_the_identity_endpoints(contract: dict[str, Any]) -> None:
    assert set(contract["paths"]) == {"/oauth_token.do", "/oauth_revoke_token.do",
                                      "/oauth_auth.do"}
    grants = contract["components"]["schemas"]["TokenRequest"]["properties"]["grant_type"]
    assert set(grants["enum"]) == {"password", "refresh_token", "authorization_code",
                                   "client_credentials",
                                   "urn:ietf:params:oauth:grant-type:jwt-bearer"}
