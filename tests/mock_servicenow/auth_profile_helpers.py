"""Helpers for the issue-18 identity tests: API keys and access policies set up the way an
admin (or a setup script) does it through the Table API, JWTs signed with ``cryptography``
alone, and certificates."""

from __future__ import annotations

import base64
import datetime
import json
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.x509.oid import NameOID

TABLE_GET_POLICY = "Table GET API Access Policy"
BASIC_PROFILE = "BasicAuth for none public processors "
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
FAILURE = {"error_description": "access_denied", "error": "server_error"}


def one(admin: httpx.Client, table: str, query: str) -> dict[str, Any]:
    """The first record of ``table`` matching ``query`` (raw values, no links)."""
    answer = admin.get(f"/api/now/table/{table}", params={
        "sysparm_query": query, "sysparm_exclude_reference_link": "true"})
    assert answer.status_code == 200, answer.text
    found = answer.json()["result"]
    assert found, f"no {table} with {query}"
    return dict(found[0])


def create(admin: httpx.Client, table: str, values: dict[str, Any]) -> dict[str, Any]:
    """POST a record; returns it (raw values, no links)."""
    answer = admin.post(f"/api/now/table/{table}", json=values,
                        params={"sysparm_exclude_reference_link": "true"})
    assert answer.status_code == 201, answer.text
    return dict(answer.json()["result"])


def user_sys_id(admin: httpx.Client, user_name: str) -> str:
    """A user's sys_id."""
    return str(one(admin, "sys_user", f"user_name={user_name}")["sys_id"])


def api_key_profile(admin: httpx.Client, *, sent_as: str = "auth_header",
                    prefix: str | None = None) -> str:
    """An active API key profile (``http_key_auth``) on the platform's auth parameter."""
    parameter = one(admin, "sys_token_auth_parameter",
                    f"parameter_name=x-sn-apikey^type={sent_as}")
    if prefix is not None:
        assert admin.patch(f"/api/now/table/sys_token_auth_parameter/{parameter['sys_id']}",
                           json={"prefix": prefix}).status_code == 200
    return str(create(admin, "http_key_auth", {
        "name": f"API key ({sent_as})", "auth_parameter": parameter["sys_id"],
        "active": "true", "sys_class_name": "http_key_auth"})["sys_id"])


def map_profile(admin: httpx.Client, policy: str, profile: str) -> None:
    """Attach a profile to a policy (``sys_auth_profile_mapping``)."""
    create(admin, "sys_auth_profile_mapping",
           {"api_access_policy": policy, "inbound_auth_profile": profile})


def allow_api_keys(admin: httpx.Client, *, sent_as: str = "auth_header", map_basic: bool = True,
                   prefix: str | None = None, **policy: str) -> str:
    """ClosedSSPM's steps: activate the Table GET policy for all tables (``policy`` changes
    more), map an API key profile and, unless told not to, the Basic profile; returns the
    policy's sys_id."""
    found = one(admin, "sys_api_access_policy", f"name={TABLE_GET_POLICY}")
    # Read before the policy is active: a policy takes effect at once, and it covers GETs.
    basic = one(admin, "std_http_auth", f"nameLIKE{BASIC_PROFILE.strip()}")
    profile = api_key_profile(admin, sent_as=sent_as, prefix=prefix)
    assert admin.patch(f"/api/now/table/sys_api_access_policy/{found['sys_id']}", json={
        "active": "true", "apply_all_tables": "true", **policy}).status_code == 200
    if map_basic:
        map_profile(admin, found["sys_id"], basic["sys_id"])
    map_profile(admin, found["sys_id"], profile)
    return str(found["sys_id"])


def new_api_key(admin: httpx.Client, user_name: str, **values: str) -> tuple[str, str]:
    """``(sys_id, token)`` of a new key for ``user_name``."""
    created = create(admin, "api_key", {"name": f"key of {user_name}",
                                        "user": user_sys_id(admin, user_name), **values})
    return str(created["sys_id"]), str(created["token"])


# -- JWTs signed with cryptography alone ------------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sign_jwt(claims: dict[str, Any], key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
             *, kid: str | None = "k1", alg: str | None = None) -> str:
    """A compact JWS: RS256 with an RSA key, ES256 with a P-256 key (``cryptography`` only,
    not the library the emulator verifies with)."""
    alg = alg or ("RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256")
    header: dict[str, Any] = {"alg": alg, "typ": "JWT"}
    if kid is not None:
        header["kid"] = kid
    signing_input = (_b64(json.dumps(header).encode()) + "." +
                     _b64(json.dumps(claims).encode())).encode("ascii")
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    else:
        r, s = utils.decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return signing_input.decode("ascii") + "." + _b64(signature)


def sign_hs256(claims: dict[str, Any], shared_key: str, kid: str = "shared") -> str:
    """An HS256 JWT (a verifier map's shared key)."""
    import hmac

    header = {"alg": "HS256", "typ": "JWT", "kid": kid}
    signing_input = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())
    digest = hmac.new(shared_key.encode(), signing_input.encode(), "sha256").digest()
    return signing_input + "." + _b64(digest)


def self_signed(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
                common_name: str = "jwt client") -> str:
    """A self-signed certificate (PEM) for ``key``, the way a client uploads its public key."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=30))
                   .sign(key, hashes.SHA256()))
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
