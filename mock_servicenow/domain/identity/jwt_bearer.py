"""The OAuth JWT bearer grant (``urn:ietf:params:oauth:grant-type:jwt-bearer``), inbound.

Source: https://www.servicenow.com/docs/r/platform-security/authentication/create-jwt-endpoint.html
("Create an OAuth JWT API endpoint for external clients"):

* an ``oauth_jwt`` record (an ``oauth_entity``): client id and secret (a public client may
  omit both in the request), the **User Field** of ``sys_user`` the ``sub`` claim is matched
  against, **Enable JTI Verification** (default on: "require a new token every token
  exchange"), **Clock Skew** for ``exp`` and ``nbf`` (default 300 s), the access token
  lifespan;
* **JWT Verifier Maps** (``jwt_verifier_map``): the key for a ``kid``, a shared key or a
  certificate of ``sys_certificate`` (the client's public key);
* **OAuth JWT Claim Validations** (``oauth_jwt_claims``): custom claims, and ``iss`` when it
  differs from the client id;
* claims: ``aud`` must match the client id, ``sub`` identifies the user, ``iss`` matches the
  client id (or the claim validation), ``exp``; algorithms RS256, RS384, RS512, ES256, ES384,
  ES512 (and, with a verifier map's shared key, HS256/384/512);
* the answer is ``{"access_token", "scope", "token_type", "expires_in"}``: "The inbound JWT
  grant type doesn't include refresh tokens".

Also from real instances: the grant is refused for a user with the ``admin`` role ("Grant
access to admin is not allowed"; public PDI notes and setup scripts), and every failure is the
token endpoint's opaque 401 (servicenow-behaviour §4.1) with the reason only in the instance
log: the emulator writes it to ``syslog`` (source ``OAuth JWT``; the wording is the
emulator's), never with the assertion itself.

A JWKS URL (``oauth_jwt.jwks_url``) is read only from a local file (``file://``): nothing may
reach the network.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, OctKey, RSAKey

from mock_servicenow.domain.identity import users
from mock_servicenow.domain.platform.clock import format_glide
from mock_servicenow.domain.platform.context import Context, Principal
from mock_servicenow.domain.platform.seed import storage_row
from mock_servicenow.store import auth_tables, identity_tables, rows

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SIGNATURE_ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512")
SHARED_KEY_ALGORITHMS = ("HS256", "HS384", "HS512")
#: joserfc refuses HMAC keys under 112 bits (NIST SP 800-131A): so does the emulator.
MIN_SHARED_KEY_BYTES = 14
MAX_JTI_SECONDS = 366 * 24 * 3600
ADMIN_REFUSAL = "Grant access to admin is not allowed"
LOG_SOURCE = "OAuth JWT"

Key = RSAKey | ECKey | OctKey | KeySet


class JwtRefused(Exception):
    """The assertion cannot be exchanged; ``str()`` is the reason written to ``syslog``."""


def find_entity(ctx: Context, client_id: str | None) -> dict[str, Any] | None:
    """The active ``oauth_jwt`` with this client id, or ``None``."""
    if not client_id:
        return None
    for row in rows.find_by(ctx.db, ctx.dictionary, "oauth_jwt", client_id=client_id):
        if row.get("active"):
            return row
    return None


def public_entity_for(ctx: Context, assertion: str) -> dict[str, Any] | None:
    """For a request without client credentials: the active *public* ``oauth_jwt`` whose
    client id is the assertion's audience (or issuer), read before verification."""
    try:
        _, claims = _unverified(assertion)
    except JwtRefused:
        return None
    audience = claims.get("aud")
    candidates = [*(audience if isinstance(audience, list) else [audience]), claims.get("iss")]
    for value in candidates:
        if isinstance(value, str):
            found = find_entity(ctx, value)
            if found is not None and found.get("public_client"):
                return found
    return None


def exchange(ctx: Context, entity: Mapping[str, Any], assertion: str) -> Principal:
    """The user a valid assertion for ``entity`` names; :class:`JwtRefused` (reason logged to
    ``syslog``) otherwise. Records the assertion's ``jti`` when verification is on."""
    try:
        return _exchange(ctx, entity, assertion)
    except JwtRefused as refused:
        log_refusal(ctx, entity, str(refused))
        raise


def log_refusal(ctx: Context, entity: Mapping[str, Any] | None, reason: str) -> None:
    """A ``syslog`` error naming the entity and the reason (never the assertion)."""
    name = f"'{entity.get('name')}' ({entity.get('client_id')})" if entity else "(none)"
    row = storage_row(ctx.dictionary, "syslog", {
        "level": "2", "source": LOG_SOURCE,
        "message": f"JWT bearer grant refused for OAuth JWT API endpoint {name}: {reason}",
    }, stamp=ctx.now_glide(), user_name=ctx.user.user_name)
    row["sys_id"] = ctx.platform.ids.sys_id()
    rows.insert(ctx.db, ctx.dictionary, "syslog", row)


def _unverified(assertion: str) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        compact = jws.extract_compact(assertion.encode("ascii"))
        claims = json.loads(compact.payload)
    except (JoseError, ValueError, UnicodeEncodeError, RecursionError):
        raise JwtRefused("the assertion is not a signed JWT") from None
    if not isinstance(claims, dict):
        raise JwtRefused("the assertion's payload is not a JSON object")
    return dict(compact.headers()), claims


def _exchange(ctx: Context, entity: Mapping[str, Any], assertion: str) -> Principal:
    headers, _ = _unverified(assertion)
    claims = _verified_claims(ctx, entity, assertion, headers)
    client_id = str(entity.get("client_id") or "")
    audience = claims.get("aud")
    if client_id not in (audience if isinstance(audience, list) else [audience]):
        raise JwtRefused(f"the 'aud' claim {audience!r} is not the client id")
    validations = [r for r in rows.find_by(ctx.db, ctx.dictionary, "oauth_jwt_claims",
                                           oauth_jwt=entity["sys_id"]) if r.get("active")]
    if not any(r.get("claim_name") == "iss" for r in validations) \
            and claims.get("iss") != client_id:
        raise JwtRefused(f"the 'iss' claim {claims.get('iss')!r} is not the client id and no "
                         "claim validation names another issuer")
    for validation in validations:
        _check_claim(claims, validation)
    _check_times(ctx, entity, claims)
    principal = _subject(ctx, entity, claims)
    _check_replay(ctx, entity, claims, assertion)
    return principal


def _verified_claims(ctx: Context, entity: Mapping[str, Any], assertion: str,
                     headers: Mapping[str, Any]) -> dict[str, Any]:
    algorithm = headers.get("alg")
    if algorithm not in SIGNATURE_ALGORITHMS + SHARED_KEY_ALGORITHMS:
        raise JwtRefused(f"the algorithm {algorithm!r} is not supported")
    kid = headers.get("kid")
    keys = _keys(ctx, entity, kid if isinstance(kid, str) else None)
    if not keys:
        raise JwtRefused(f"no JWT verifier map holds a key for kid {kid!r}")
    for key, algorithms in keys:
        if algorithm not in algorithms:
            continue
        try:
            return dict(jwt.decode(assertion, key, algorithms=list(algorithms)).claims)
        except (JoseError, ValueError, TypeError):
            continue
    raise JwtRefused(f"the signature does not verify with the key of kid {kid!r}")


def _keys(ctx: Context, entity: Mapping[str, Any],
          kid: str | None) -> list[tuple[Key, Sequence[str]]]:
    """Candidate keys: the verifier maps of ``kid`` (every map when the token names none),
    then the JWKS file."""
    found: list[tuple[Key, Sequence[str]]] = []
    maps = rows.find_by(ctx.db, ctx.dictionary, "jwt_verifier_map", oauth_jwt=entity["sys_id"])
    for verifier in maps:
        if kid is not None and (verifier.get("kid") or "") != kid:
            continue
        shared = verifier.get("shared_key")
        if shared and len(str(shared).encode("utf-8")) >= MIN_SHARED_KEY_BYTES:
            found.append((OctKey.import_key(str(shared)), SHARED_KEY_ALGORITHMS))
        if verifier.get("sys_certificate"):
            key = _certificate_key(ctx, str(verifier["sys_certificate"]))
            if key is not None:
                found.append((key, SIGNATURE_ALGORITHMS))
    jwks = _jwks(entity)
    if jwks is not None:
        found.append((jwks, SIGNATURE_ALGORITHMS))
    return found


def _certificate_key(ctx: Context, sys_id: str) -> RSAKey | ECKey | None:
    """The public key of an active ``sys_certificate`` (PEM)."""
    row = rows.get(ctx.db, ctx.dictionary, "sys_certificate", sys_id)
    if row is None or not row.get("active") or not row.get("pem_certificate"):
        return None
    try:
        certificate = x509.load_pem_x509_certificate(
            str(row["pem_certificate"]).strip().encode("ascii"))
        public = certificate.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    except (ValueError, UnicodeEncodeError):
        return None
    for kind in (RSAKey, ECKey):
        try:
            return kind.import_key(public)
        except (JoseError, ValueError, TypeError):
            continue
    return None


def _jwks(entity: Mapping[str, Any]) -> KeySet | None:
    """The key set of a ``file://`` JWKS URL; any other URL is never fetched (no network)."""
    url = str(entity.get("jwks_url") or "").strip()
    if not url:
        return None
    parsed = urlparse(url)
    if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
        raise JwtRefused(f"the JWKS URL {url} is not a local file (file://...): the emulator "
                         "does not reach the network")
    try:
        document = json.loads(Path(unquote(parsed.path)).read_text(encoding="utf-8"))
        return KeySet.import_key_set(document)
    except (OSError, ValueError, TypeError, JoseError):
        raise JwtRefused(f"the JWKS file {unquote(parsed.path)} cannot be read as a JSON "
                         "Web Key Set") from None


def _check_claim(claims: Mapping[str, Any], validation: Mapping[str, Any]) -> None:
    name = str(validation.get("claim_name") or "")
    if not name:
        return
    expected = str(validation.get("claim_value") or "")
    value = claims.get(name)
    if isinstance(value, bool):
        actual = "true" if value else "false"
    elif isinstance(value, list):
        if expected in [str(v) for v in value]:
            return
        actual = json.dumps(value)
    else:
        actual = "" if value is None else str(value)
    if actual != expected:
        raise JwtRefused(f"the '{name}' claim does not have the value its claim validation "
                         "requires")


def _check_times(ctx: Context, entity: Mapping[str, Any], claims: Mapping[str, Any]) -> None:
    skew = int(entity.get("clock_skew") or 0)
    now = ctx.now().timestamp()
    expires = claims.get("exp")
    if not isinstance(expires, int | float) or isinstance(expires, bool):
        raise JwtRefused("the 'exp' claim is missing or not a number")
    if now > float(expires) + skew:
        raise JwtRefused("the JWT has expired ('exp' plus the clock skew is past)")
    not_before = claims.get("nbf")
    if not_before is not None:
        if not isinstance(not_before, int | float) or isinstance(not_before, bool):
            raise JwtRefused("the 'nbf' claim is not a number")
        if now < float(not_before) - skew:
            raise JwtRefused("the JWT is not valid yet ('nbf' minus the clock skew is ahead)")


def _subject(ctx: Context, entity: Mapping[str, Any], claims: Mapping[str, Any]) -> Principal:
    subject = claims.get("sub")
    field = str(entity.get("user_field") or "email")
    if not isinstance(subject, str) or not subject:
        raise JwtRefused("the 'sub' claim is missing")
    if field == "sys_id":
        row = users.get_user(ctx, subject)
    else:
        found = identity_tables.user_sys_id_by(
            ctx.db, field if field in ("email", "user_name") else "email", subject)
        row = users.get_user(ctx, found) if found else None
    if row is None:
        raise JwtRefused(f"no user has {field} {subject!r} (the 'sub' claim, matched on the "
                         "User Field)")
    if not users.can_authenticate(row):
        raise JwtRefused(f"the user {row.get('user_name')} is inactive or locked out")
    principal = users.principal_for(ctx, row, via="bearer")
    if "admin" in principal.roles:
        raise JwtRefused(ADMIN_REFUSAL)
    return principal


def _check_replay(ctx: Context, entity: Mapping[str, Any], claims: Mapping[str, Any],
                  assertion: str) -> None:
    if not entity.get("enable_jti_verification"):
        return
    name = str(entity.get("jti_claim") or "jti")
    jti = claims.get(name)
    # Without a jti the token itself is the value that may not come twice.
    seen = jti if isinstance(jti, str) and jti else assertion
    digest = hashlib.sha256(seen.encode("utf-8")).hexdigest()
    skew = int(entity.get("clock_skew") or 0)
    # Kept while the token could still be accepted (a year at most: far-future expiries).
    left = min(float(claims["exp"]) + skew - ctx.now().timestamp(), MAX_JTI_SECONDS)
    keep_until = format_glide(ctx.now() + timedelta(seconds=max(0.0, left) + 1))
    if not auth_tables.use_jti(ctx.db, str(entity["sys_id"]), digest, keep_until,
                               ctx.now_glide()):
        raise JwtRefused(f"the JWT was already exchanged (JTI verification: the '{name}' "
                         "value was used before)")
