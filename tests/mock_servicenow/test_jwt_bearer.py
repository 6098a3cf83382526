"""The OAuth JWT bearer grant at ``/oauth_token.do`` (issue 18).

Set up as create-jwt-endpoint says, through the Table API the way public setup scripts do it:
the client's certificate in ``sys_certificate``, an ``oauth_jwt`` endpoint, a
``jwt_verifier_map`` for the key id. Assertions are signed with ``cryptography`` alone (not the
library the emulator verifies with). The instance clock is frozen, so ``exp`` and ``nbf`` are
exact.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask import Flask
from joserfc.jwk import RSAKey

from tests.mock_servicenow.auth_profile_helpers import (
    FAILURE,
    JWT_GRANT,
    create,
    self_signed,
    sign_hs256,
    sign_jwt,
    user_sys_id,
)
from tests.mock_servicenow.identity_helpers import update_user

NOW = "2026-10-01 12:00:00"
EPOCH = int(datetime(2026, 10, 1, 12, 0, 0, tzinfo=UTC).timestamp())
SECRET = "Jwt-client-secret-4f1a"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@dataclass
class Endpoint:
    """An OAuth JWT API endpoint for external clients, and how to talk to it."""

    client: httpx.Client
    admin: httpx.Client
    sys_id: str
    client_id: str
    key: rsa.RSAPrivateKey

    def claims(self, **changes: Any) -> dict[str, Any]:
        claims = {"iss": self.client_id, "aud": self.client_id, "sub": "beth.anglin",
                  "iat": EPOCH, "exp": EPOCH + 300, "jti": str(uuid.uuid4())}
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not None}

    def assertion(self, **changes: Any) -> str:
        return sign_jwt(self.claims(**changes), self.key)

    def exchange(self, assertion: str | None = None, **form: str) -> httpx.Response:
        data = {"grant_type": JWT_GRANT, "client_id": self.client_id, "client_secret": SECRET,
                "assertion": assertion if assertion is not None else self.assertion()}
        data.update(form)
        return self.client.post("/oauth_token.do", data={k: v for k, v in data.items() if v})

    def log(self) -> list[str]:
        found = self.admin.get("/api/now/table/syslog", params={
            "sysparm_query": "source=OAuth JWT^ORDERBYsys_created_on",
            "sysparm_fields": "message"}).json()["result"]
        return [r["message"] for r in found]

    def set(self, **values: str) -> None:
        assert self.admin.patch(f"/api/now/table/oauth_jwt/{self.sys_id}",
                                json=values).status_code == 200


@pytest.fixture
def endpoint(snow_admin: httpx.Client, snow_client: httpx.Client,
             rsa_key: rsa.RSAPrivateKey) -> Iterator[Endpoint]:
    certificate = create(snow_admin, "sys_certificate", {
        "name": "JWT client", "format": "PEM", "type": "trust_store",
        "pem_certificate": self_signed(rsa_key)})
    jwt = create(snow_admin, "oauth_jwt", {"name": "JWT app", "client_secret": SECRET,
                                            "user_field": "user_name"})
    create(snow_admin, "jwt_verifier_map", {"name": "k1", "oauth_jwt": jwt["sys_id"],
                                            "kid": "k1", "sys_certificate": certificate["sys_id"]})
    snow_client.post("/_emulator/clock", json={"action": "freeze", "at": NOW})
    yield Endpoint(snow_client, snow_admin, jwt["sys_id"], jwt["client_id"], rsa_key)


def refused(answer: httpx.Response) -> bool:
    """The token endpoint's one failure (servicenow-behaviour §4.1)."""
    return answer.status_code == 401 and answer.json() == FAILURE


def test_a_signed_assertion_gets_an_access_token_and_no_refresh_token(
        endpoint: Endpoint) -> None:
    answer = endpoint.exchange()
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert list(body) == ["access_token", "scope", "token_type", "expires_in"]
    assert (body["scope"], body["token_type"], body["expires_in"]) == ("useraccount", "Bearer",
                                                                       1799)
    assert len(body["access_token"]) == 86
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    created = endpoint.client.post("/api/now/table/incident", headers=bearer,
                                   json={"short_description": "raised over a JWT"})
    assert created.status_code == 201
    assert created.json()["result"]["sys_created_by"] == "beth.anglin"


def test_the_registry_entry_and_its_records(endpoint: Endpoint) -> None:
    entity = endpoint.admin.get(f"/api/now/table/oauth_entity/{endpoint.sys_id}").json()
    assert entity["result"]["sys_class_name"] == "oauth_jwt"
    assert entity["result"]["client_secret"] == ""
    jwt = endpoint.admin.get(f"/api/now/table/oauth_jwt/{endpoint.sys_id}").json()["result"]
    assert (jwt["enable_jti_verification"], jwt["clock_skew"], jwt["user_field"]) == (
        "true", "300", "user_name")
    # A client id sent on insert is kept (setup scripts set their own); otherwise generated.
    own = create(endpoint.admin, "oauth_jwt", {"name": "own id", "client_id": "aws-sir-1234"})
    assert own["client_id"] == "aws-sir-1234" and own["client_secret"] == ""
    plain = create(endpoint.admin, "oauth_entity", {"name": "plain", "client_id": "mine"})
    assert plain["client_id"] != "mine" and len(plain["client_id"]) == 32


@pytest.mark.parametrize(("case", "reason"), [
    ("other key", "the signature does not verify"),
    ("unknown kid", "no JWT verifier map holds a key for kid 'nope'"),
    ("expired", "the JWT has expired"),
    ("not yet valid", "the JWT is not valid yet"),
    ("no exp", "the 'exp' claim is missing"),
    ("wrong audience", "the 'aud' claim 'someone-else' is not the client id"),
    ("wrong issuer", "the 'iss' claim 'someone-else' is not the client id"),
    ("unmapped subject", "no user has user_name 'ghost.user'"),
    ("no subject", "the 'sub' claim is missing"),
    ("admin", "Grant access to admin is not allowed"),
    ("alg none", "the algorithm 'none' is not supported"),
    ("not a jwt", "the assertion is not a signed JWT"),
])
def test_every_refusal_is_the_same_401_with_its_reason_in_syslog(
        endpoint: Endpoint, case: str, reason: str) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048) \
        if case == "other key" else endpoint.key
    claims = endpoint.claims(**{
        "expired": {"exp": EPOCH - 301},
        "not yet valid": {"nbf": EPOCH + 301},
        "no exp": {"exp": None},
        "wrong audience": {"aud": "someone-else"},
        "wrong issuer": {"iss": "someone-else"},
        "unmapped subject": {"sub": "ghost.user"},
        "no subject": {"sub": None},
        "admin": {"sub": "admin"},
    }.get(case, {}))
    assertion = sign_jwt(claims, other, kid="nope" if case == "unknown kid" else "k1")
    if case == "alg none":
        head, payload, _ = assertion.split(".")
        assertion = f"{_b64json({'alg': 'none', 'kid': 'k1'})}.{payload}."
        assert head
    if case == "not a jwt":
        assertion = "not-a-jwt"
    answer = endpoint.exchange(assertion)
    assert refused(answer)
    assert answer.headers["Cache-Control"] == "no-store"
    logged = endpoint.log()
    assert len(logged) == 1 and reason in logged[0], logged
    assert logged[0].startswith("JWT bearer grant refused for OAuth JWT API endpoint 'JWT app'")
    assert assertion not in logged[0] or case == "not a jwt"


def _b64json(value: dict[str, Any]) -> str:
    import base64

    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def test_the_clock_skew_allows_five_minutes_either_way(endpoint: Endpoint) -> None:
    assert endpoint.exchange(endpoint.assertion(exp=EPOCH - 299)).status_code == 200
    assert endpoint.exchange(endpoint.assertion(nbf=EPOCH + 299)).status_code == 200
    endpoint.set(clock_skew="0")
    assert refused(endpoint.exchange(endpoint.assertion(exp=EPOCH - 1)))
    assert refused(endpoint.exchange(endpoint.assertion(nbf=EPOCH + 1)))
    assert endpoint.exchange(endpoint.assertion(exp=EPOCH + 1, nbf=EPOCH)).status_code == 200


def test_an_assertion_is_exchanged_once(endpoint: Endpoint) -> None:
    assertion = endpoint.assertion()
    assert endpoint.exchange(assertion).status_code == 200
    assert refused(endpoint.exchange(assertion))
    assert "already exchanged" in endpoint.log()[-1]
    # Without a jti the assertion itself may not come twice either.
    no_jti = endpoint.assertion(jti=None)
    assert endpoint.exchange(no_jti).status_code == 200
    assert refused(endpoint.exchange(no_jti))
    # With JTI verification off, the same assertion may be exchanged again.
    endpoint.set(enable_jti_verification="false")
    assert endpoint.exchange(assertion).status_code == 200


@pytest.mark.parametrize("form", [
    {"client_secret": "Wrong-secret-123"},
    {"client_id": "not-a-client"},
    {"client_secret": ""},
    {"assertion": ""},
])
def test_client_authentication_and_the_assertion_are_required(endpoint: Endpoint,
                                                              form: dict[str, str]) -> None:
    assertion = form.pop("assertion", None)
    assert refused(endpoint.exchange(assertion, **form))


def test_an_inactive_endpoint_or_a_plain_registry_entry_cannot_use_the_grant(
        endpoint: Endpoint) -> None:
    plain = create(endpoint.admin, "oauth_entity", {"name": "plain", "client_secret": SECRET})
    assert refused(endpoint.exchange(client_id=plain["client_id"]))
    endpoint.set(active="false")
    assert refused(endpoint.exchange())


def test_the_request_must_be_a_form_without_credentials_in_the_url(endpoint: Endpoint) -> None:
    assertion = endpoint.assertion()
    as_json = endpoint.client.post("/oauth_token.do", json={
        "grant_type": JWT_GRANT, "client_id": endpoint.client_id, "client_secret": SECRET,
        "assertion": assertion})
    assert refused(as_json)
    in_query = endpoint.client.post("/oauth_token.do", params={"assertion": assertion},
                                    data={"grant_type": JWT_GRANT,
                                          "client_id": endpoint.client_id,
                                          "client_secret": SECRET})
    assert refused(in_query)


@pytest.mark.parametrize(("field", "subject"), [
    ("email", "beth.anglin@example.com"), ("user_name", "beth.anglin"), ("sys_id", None)])
def test_the_subject_is_matched_on_the_user_field(endpoint: Endpoint, field: str,
                                                  subject: str | None) -> None:
    endpoint.set(user_field=field)
    sub = subject or user_sys_id(endpoint.admin, "beth.anglin")
    answer = endpoint.exchange(endpoint.assertion(sub=sub))
    assert answer.status_code == 200, endpoint.log()
    bearer = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    endpoint.client.get("/api/now/table/incident?sysparm_limit=1", headers=bearer)
    entries = endpoint.client.get("/_emulator/journal", params={"limit": 1}).json()["entries"]
    assert entries[-1]["user"] == "beth.anglin"


def test_inactive_and_locked_out_users_are_refused(snow_app: Flask, endpoint: Endpoint) -> None:
    beth = user_sys_id(endpoint.admin, "beth.anglin")
    update_user(snow_app, beth, locked_out=1)
    assert refused(endpoint.exchange())
    update_user(snow_app, beth, locked_out=0, active=0)
    assert refused(endpoint.exchange())
    assert "inactive or locked out" in endpoint.log()[-1]


def test_claim_validations_name_another_issuer_and_custom_claims(endpoint: Endpoint) -> None:
    create(endpoint.admin, "oauth_jwt_claims", {"oauth_jwt": endpoint.sys_id,
                                                "claim_name": "iss",
                                                "claim_value": "https://idp.example.test"})
    create(endpoint.admin, "oauth_jwt_claims", {"oauth_jwt": endpoint.sys_id,
                                                "claim_name": "tenant", "claim_value": "acme"})
    assert endpoint.exchange(endpoint.assertion(
        iss="https://idp.example.test", tenant="acme")).status_code == 200
    assert refused(endpoint.exchange(endpoint.assertion(iss="https://idp.example.test",
                                                        tenant="other")))
    assert refused(endpoint.exchange(endpoint.assertion(tenant="acme")))


def test_an_ec_key_and_a_shared_key_verify_too(endpoint: Endpoint,
                                               ec_key: ec.EllipticCurvePrivateKey) -> None:
    certificate = create(endpoint.admin, "sys_certificate", {
        "name": "EC client", "pem_certificate": self_signed(ec_key)})
    create(endpoint.admin, "jwt_verifier_map", {"name": "ec", "oauth_jwt": endpoint.sys_id,
                                                "kid": "ec1",
                                                "sys_certificate": certificate["sys_id"]})
    assert endpoint.exchange(sign_jwt(endpoint.claims(), ec_key, kid="ec1")).status_code == 200
    create(endpoint.admin, "jwt_verifier_map", {"name": "shared", "oauth_jwt": endpoint.sys_id,
                                                "kid": "shared",
                                                "shared_key": "Shared-key-for-hs256-9c2e"})
    assert endpoint.exchange(sign_hs256(endpoint.claims(),
                                        "Shared-key-for-hs256-9c2e")).status_code == 200
    assert refused(endpoint.exchange(sign_hs256(endpoint.claims(), "Another-shared-key-77")))
    # The shared key is a password2 field: never read back.
    maps = endpoint.admin.get("/api/now/table/jwt_verifier_map").json()["result"]
    assert {m["shared_key"] for m in maps} == {""}


def test_a_jwks_url_is_read_from_a_local_file_only(endpoint: Endpoint, tmp_path: Path) -> None:
    jwks = tmp_path / "jwks.json"
    public = RSAKey.import_key(endpoint.key.public_key().public_bytes(
        *_public_pem_args()), parameters={"kid": "from-jwks"})
    jwks.write_text(json.dumps({"keys": [public.as_dict(private=False)]}))
    endpoint.set(jwks_url=jwks.as_uri())
    assert endpoint.exchange(sign_jwt(endpoint.claims(), endpoint.key,
                                      kid="from-jwks")).status_code == 200
    endpoint.set(jwks_url="https://keys.example.test/jwks.json")
    assert refused(endpoint.exchange(sign_jwt(endpoint.claims(), endpoint.key, kid="from-jwks")))
    assert "is not a local file" in endpoint.log()[-1]


def _public_pem_args() -> tuple[Any, Any]:
    from cryptography.hazmat.primitives import serialization

    return serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo


def test_a_public_endpoint_needs_no_client_credentials(endpoint: Endpoint) -> None:
    endpoint.set(public_client="true")
    answer = endpoint.client.post("/oauth_token.do", data={
        "grant_type": JWT_GRANT, "assertion": endpoint.assertion()})
    assert answer.status_code == 200, endpoint.log()
    endpoint.set(public_client="false")
    assert refused(endpoint.client.post("/oauth_token.do", data={
        "grant_type": JWT_GRANT, "assertion": endpoint.assertion()}))


def test_pysnc_style_client_over_a_real_socket(snow_server: str,
                                               rsa_key: rsa.RSAPrivateKey) -> None:
    """PySNC's ``ServiceNowJWTAuth`` request (form body, ``charset=UTF-8``), then the token as a
    Bearer, with ``requests`` on a real socket and the real clock."""
    import time

    admin = requests.Session()
    admin.trust_env = False
    admin.auth = ("admin", "admin")
    table = f"{snow_server}/api/now/table"
    certificate = admin.post(f"{table}/sys_certificate", json={
        "name": "PySNC", "format": "PEM", "type": "trust_store",
        "pem_certificate": self_signed(rsa_key)}).json()["result"]
    jwt = admin.post(f"{table}/oauth_jwt", json={"name": "PySNC app", "client_secret": SECRET,
                                                "user_field": "email"}).json()["result"]
    admin.post(f"{table}/jwt_verifier_map", json={
        "name": "k1", "oauth_jwt": jwt["sys_id"], "kid": "k1",
        "sys_certificate": certificate["sys_id"]}).raise_for_status()
    now = int(time.time())
    assertion = sign_jwt({"iss": jwt["client_id"], "aud": jwt["client_id"],
                          "sub": "beth.anglin@example.com", "iat": now, "exp": now + 300,
                          "jti": str(uuid.uuid4())}, rsa_key)
    answer = requests.post(f"{snow_server}/oauth_token.do", headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"}, data={
        "grant_type": JWT_GRANT, "client_id": jwt["client_id"], "client_secret": SECRET,
        "assertion": assertion})
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    incidents = requests.get(f"{table}/incident", params={"sysparm_limit": 1},
                             headers={"Authorization": f"Bearer {token}"})
    assert incidents.status_code == 200 and len(incidents.json()["result"]) == 1
