"""Multi-provider SSO on the instance side (servicenow-behaviour §6).

When ``glide.authenticate.multisso.enabled`` is true and an active ``sso_properties`` row
exists, interactive logins go to that identity provider. Its ID token is validated for real
(RS256 signature with the configured key, issuer, audience = the configured client id,
expiry by the instance clock, nonce) and mapped to ``sys_user`` by email or user name. A
web-service-only user cannot log in through SSO either (§6).
"""

from __future__ import annotations

from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from mock_servicenow.domain.identity import oauth_tokens, users
from mock_servicenow.domain.platform.context import Context, Principal
from mock_servicenow.domain.platform.seed import storage_row
from mock_servicenow.store import identity_tables, rows

MULTISSO_PROPERTY = "glide.authenticate.multisso.enabled"
#: Name of the record the control plane's convenience creates for the local IdP stand-in.
LOCAL_IDP_NAME = "Azure AD (emulator identity provider)"


class SsoRefused(Exception):
    """The identity provider's answer cannot log anyone in; ``str()`` is the page's message."""


def active_provider(ctx: Context) -> dict[str, Any] | None:
    """The identity provider logins go to, or ``None`` when SSO is off (§6).

    The ``default`` provider wins; otherwise the first active one by name.
    """
    if not oauth_tokens.property_true(ctx, MULTISSO_PROPERTY):
        return None
    return provider(ctx, None)


def provider(ctx: Context, sys_id: str | None) -> dict[str, Any] | None:
    """An active ``sso_properties`` row (``sys_id``), or the default/first active one."""
    candidates = [r for r in rows.find_by(ctx.db, ctx.dictionary, "sso_properties", active=1)]
    if sys_id is not None:
        candidates = [r for r in candidates if r["sys_id"] == sys_id]
    candidates.sort(key=lambda r: (not r.get("default"), str(r.get("name") or "")))
    return candidates[0] if candidates else None


def validate_id_token(ctx: Context, idp: dict[str, Any], token: str,
                      nonce: str | None) -> dict[str, Any]:
    """The claims of a valid ID token from ``idp``; :class:`SsoRefused` otherwise."""
    try:
        key = RSAKey.import_key(str(idp.get("signing_key") or ""))
        decoded = jwt.decode(token, key, algorithms=["RS256"])
    except (JoseError, ValueError, TypeError):
        raise SsoRefused("The identity provider's response could not be verified "
                         "(invalid signature).") from None
    claims = dict(decoded.claims)
    if claims.get("iss") != idp.get("issuer"):
        raise SsoRefused("The identity provider's response has the wrong issuer.")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if idp.get("client_id") not in audiences:
        raise SsoRefused("The identity provider's response was not issued for this instance "
                         "(audience mismatch).")
    now = ctx.now().timestamp()
    try:
        expires = float(claims["exp"])
        not_before = float(claims.get("nbf", 0))
    except (KeyError, TypeError, ValueError):
        raise SsoRefused("The identity provider's response has no valid expiry.") from None
    if now >= expires:
        raise SsoRefused("The identity provider's response has expired.")
    if now < not_before:
        raise SsoRefused("The identity provider's response is not valid yet.")
    if nonce and claims.get("nonce") != nonce:
        raise SsoRefused("The identity provider's response does not belong to this login "
                         "(nonce mismatch).")
    return claims


def map_user(ctx: Context, idp: dict[str, Any], claims: dict[str, Any]) -> Principal:
    """The ``sys_user`` the claims name (by email or user name); :class:`SsoRefused` otherwise."""
    claim = str(idp.get("user_claim") or "email")
    field = "user_name" if idp.get("user_field") == "user_name" else "email"
    value = claims.get(claim)
    if not isinstance(value, str) or not value:
        raise SsoRefused(f"The identity provider did not send the '{claim}' claim.")
    found = identity_tables.user_sys_id_by(ctx.db, field, value)
    if found is None:
        raise SsoRefused(f"User {value} signed in at the identity provider, but no user with "
                         f"{'that email' if field == 'email' else 'that user ID'} exists on "
                         "this instance. Ask an administrator to create the user, or log in "
                         "with a local account.")
    row = users.get_user(ctx, found)
    if row is None or not users.can_authenticate(row):
        raise SsoRefused(f"User {value} is not active or is locked out on this instance.")
    if row.get("web_service_access_only"):
        raise SsoRefused(identity_refusal())
    return users.principal_for(ctx, row, via="session")


def identity_refusal() -> str:
    """Message for a web-service-only user at an interactive login (§6).

    The reference gives no captured wording; the platform documents that non-interactive
    users "can't log in to the ServiceNow UI" (c_NonInteractiveSessions), which this says.
    """
    return ("This user is a web service access only (non-interactive) user and cannot log "
            "in to the user interface.")


def configure_local_idp(ctx: Context, *, enabled: bool, issuer: str, auth_url: str,
                        signing_key: str, client_id: str) -> dict[str, Any]:
    """Point the instance at the IdP stand-in and switch multi-provider SSO on or off.

    Creates (or updates) the default ``sso_properties`` row named :data:`LOCAL_IDP_NAME`,
    then sets ``glide.authenticate.multisso.enabled``. Returns the row's wire summary.
    """
    with ctx.db.atomic():
        values = {"name": LOCAL_IDP_NAME, "active": "true", "default": "true", "type": "oidc",
                  "issuer": issuer, "client_id": client_id, "auth_url": auth_url,
                  "signing_key": signing_key, "user_claim": "email", "user_field": "email"}
        found = rows.find_by(ctx.db, ctx.dictionary, "sso_properties", name=LOCAL_IDP_NAME)
        row = storage_row(ctx.dictionary, "sso_properties", values, stamp=ctx.now_glide(),
                          user_name=ctx.user.user_name)
        if found:
            sys_id = str(found[0]["sys_id"])
            row.pop("sys_created_on", None)
            row.pop("sys_created_by", None)
            row.pop("sys_mod_count", None)
            rows.update(ctx.db, ctx.dictionary, "sso_properties", sys_id, row)
        else:
            sys_id = ctx.platform.ids.sys_id()
            row["sys_id"] = sys_id
            rows.insert(ctx.db, ctx.dictionary, "sso_properties", row)
        oauth_tokens.set_property(ctx, MULTISSO_PROPERTY, "true" if enabled else "false")
    return {"sys_id": sys_id, "name": LOCAL_IDP_NAME, "issuer": issuer, "client_id": client_id,
            "multisso_enabled": enabled}
