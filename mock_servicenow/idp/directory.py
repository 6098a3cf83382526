"""The IdP stand-in's directory, signing key and ID tokens.

The signing key is generated on first use and kept in ``_emulator_state`` so every worker
process signs with the same key; its public half is what an ``sso_properties`` row trusts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey

from mock_servicenow.domain.identity import sso
from mock_servicenow.domain.identity.passwords import hash_password
from mock_servicenow.domain.platform.context import Context
from mock_servicenow.domain.platform.scenarios import ScenarioError
from mock_servicenow.store import identity_tables, rows

_KEY_STATE = "idp.signing_key"
#: Lifetime of an ID token (Azure AD issues one-hour tokens; the instance checks ``exp``).
ID_TOKEN_LIFESPAN = 3600


class IdpUserError(ValueError):
    """An IdP directory request that cannot be applied (missing user name or email)."""


def signing_key(ctx: Context) -> RSAKey:
    """The IdP's private key (created on first use)."""
    pem = rows.get_state(ctx.db, _KEY_STATE)
    if pem is None:
        key = RSAKey.generate_key(2048, private=True)
        pem = key.as_pem(private=True).decode("ascii")
        with ctx.db.atomic():
            rows.set_state(ctx.db, _KEY_STATE, pem)
    return RSAKey.import_key(pem)


def public_pem(ctx: Context) -> str:
    """The public half of the signing key, PEM (what ``sso_properties.signing_key`` holds)."""
    return signing_key(ctx).as_pem(private=False).decode("ascii")


def public_view(row: dict[str, Any]) -> dict[str, str]:
    """A directory user without the password hash."""
    return {"user_name": str(row["user_name"]), "email": str(row["email"]),
            "name": str(row["name"])}


def list_users(ctx: Context) -> list[dict[str, str]]:
    """Every directory user (no secrets)."""
    return [public_view(row) for row in identity_tables.list_idp_users(ctx.db)]


def add_user(ctx: Context, *, user_name: str, email: str, password: str,
             name: str | None = None) -> dict[str, str]:
    """Create or replace a directory user; returns it without the password."""
    if not user_name or not email or not password:
        raise IdpUserError("user_name, email and password are required")
    row = {"user_name": user_name, "email": email, "name": name or user_name,
           "password_hash": hash_password(password,
                                          iterations=ctx.platform.password_hash_iterations)}
    with ctx.db.atomic():
        identity_tables.upsert_idp_user(ctx.db, row)
    return public_view(row)


def remove_user(ctx: Context, user_name: str) -> bool:
    """Delete a directory user; ``False`` when unknown."""
    with ctx.db.atomic():
        return identity_tables.delete_idp_user(ctx.db, user_name)


def authenticate(ctx: Context, login: str, password: str) -> dict[str, Any] | None:
    """The directory user for this login (user name or email) and password, or ``None``."""
    row = identity_tables.find_idp_user(ctx.db, login)
    if row is None or not ctx.platform.verifier.verify(row["password_hash"], password):
        return None
    return row


def id_token(ctx: Context, user: dict[str, Any], *, issuer: str, audience: str,
             nonce: str | None) -> str:
    """A signed (RS256) OpenID Connect ID token for ``user``, timed by the instance clock."""
    now = ctx.now()
    claims: dict[str, Any] = {
        "iss": issuer, "aud": audience, "sub": str(user["user_name"]),
        "iat": int(now.timestamp()), "nbf": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ID_TOKEN_LIFESPAN)).timestamp()),
        "email": str(user["email"]), "preferred_username": str(user["user_name"]),
        "name": str(user["name"]),
    }
    if nonce:
        claims["nonce"] = nonce
    return jwt.encode({"alg": "RS256", "typ": "JWT"}, claims, signing_key(ctx))


#: The audience the stand-in's ID tokens carry by default (as ``/_emulator/idp/sso`` uses).
SCENARIO_CLIENT_ID = "servicenow-instance"


def sso_scenario_action(ctx: Context, args: Mapping[str, Any], _clock: object) -> None:
    """Scenario action ``sso: {enabled: true|false}``: what ``POST /_emulator/idp/sso`` does.

    Points the instance at this stand-in (issuer and sign-in URL under ``ctx.base_url``, the
    URL the scenario was applied through) and switches multi-provider SSO on or off.
    """
    enabled = args.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ScenarioError("sso needs 'enabled': true or false")
    base = (ctx.base_url or "http://127.0.0.1:8080").rstrip("/")
    sso.configure_local_idp(ctx, enabled=enabled, issuer=base + "/_idp",
                            auth_url=base + "/_idp/authorize", signing_key=public_pem(ctx),
                            client_id=SCENARIO_CLIENT_ID)
