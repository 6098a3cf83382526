"""OAuth use cases: clients, token issue/refresh/revoke, bearer lookup, authorization codes.

Ground truth: servicenow-behaviour §4. Tokens are never stored in clear: an
``oauth_credential`` row keeps the SHA-256 of its token (``token_hash``) and leaves ``token``
empty, so admins reading the table through the Table API see the rows without secret values.
A token's value is an HMAC of its row's sys_id under an instance key (kept in
``_emulator_state``): the instance can re-derive a *current* token to answer a repeated
password grant with the same access token, as the platform does (§4.1), without storing it.

Client secrets (``oauth_entity.client_secret``) are never stored in clear either: the column
holds a PBKDF2 hash, whatever wrote it (Table API, checklist, scenario, :func:`create_client`),
so no read, query, ordering or aggregate reaches the value (issue 15). A secret the platform
generates (left blank on insert, §4.3) is, like a token, an HMAC of the entity's sys_id under
the instance key: ``serve`` re-derives it to print the demo client's secret at every start
(:func:`generated_client_secret`), and prints nothing once an admin set another one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any

from mock_servicenow.dictionary.values import to_wire
from mock_servicenow.domain.identity import users
from mock_servicenow.domain.identity.oauth_entities import (
    DEFAULT_SCOPE,
    AuthorizationCode,
    Client,
    Token,
)
from mock_servicenow.domain.identity.passwords import hash_password
from mock_servicenow.domain.platform.clock import format_glide, parse_glide
from mock_servicenow.domain.platform.context import Context, Principal
from mock_servicenow.domain.platform.seed import storage_row
from mock_servicenow.errors import NotAuthenticated
from mock_servicenow.store import identity_tables, rows

ACCESS = "access_token"
REFRESH = "refresh_token"

#: Property that enables the client_credentials grant (servicenow-behaviour §4.1, KB1645212).
CLIENT_CREDENTIALS_PROPERTY = "glide.oauth.inbound.client.credential.grant_type.enabled"
#: First release with the client_credentials grant (servicenow-behaviour §4.1).
CLIENT_CREDENTIALS_RELEASE = "washingtondc"
#: Authorize pages require ``state`` when this is true (servicenow-behaviour §4.2).
STATE_REQUIRED_PROPERTY = "glide.oauth.state.parameter.required"

#: Lifetime of an authorization code. The reference is silent; RFC 6749 §4.1.2 asks for a
#: short one ("maximum ... of 10 minutes RECOMMENDED"); the platform's is about a minute.
CODE_LIFESPAN = 60

_KEY_STATE = "oauth.token_key"


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def sys_property(ctx: Context, name: str) -> str | None:
    """The value of a ``sys_properties`` row, ``None`` when the property does not exist."""
    found = rows.find_by(ctx.db, ctx.dictionary, "sys_properties", name=name)
    if not found:
        return None
    value = found[0].get("value")
    return None if value is None else str(value)


def property_true(ctx: Context, name: str, *, default: bool = False) -> bool:
    """A boolean system property (``true``, case-insensitive)."""
    value = sys_property(ctx, name)
    if value is None:
        return default
    return value.strip().lower() == "true"


def set_property(ctx: Context, name: str, value: str) -> None:
    """Create or update a system property (control-plane conveniences, tests)."""
    found = rows.find_by(ctx.db, ctx.dictionary, "sys_properties", name=name)
    if found:
        rows.update(ctx.db, ctx.dictionary, "sys_properties", str(found[0]["sys_id"]),
                    {"value": value, "sys_updated_on": ctx.now_glide()})
        return
    row = storage_row(ctx.dictionary, "sys_properties", {"name": name, "value": value,
                                                         "type": "string"},
                      stamp=ctx.now_glide(), user_name=ctx.user.user_name)
    row["sys_id"] = ctx.platform.ids.sys_id()
    rows.insert(ctx.db, ctx.dictionary, "sys_properties", row)


# --- clients -------------------------------------------------------------------------------

def _client_from_row(ctx: Context, row: dict[str, Any]) -> Client:
    fields = ctx.dictionary.fields("oauth_entity")
    redirect = to_wire(fields["redirect_url"], row.get("redirect_url"))
    return Client(
        sys_id=str(row["sys_id"]),
        client_id=str(row["client_id"]),
        name=str(row.get("name") or ""),
        stored_secret=row.get("client_secret"),
        redirect_uris=tuple(u.strip() for u in redirect.split(",") if u.strip()),
        logo_url=str(row.get("logo_url") or ""),
        user_sys_id=row.get("user") or None,
        access_token_lifespan=int(row.get("access_token_lifespan")
                                  or ctx.platform.access_token_lifespan),
        refresh_token_lifespan=int(row.get("refresh_token_lifespan")
                                   or ctx.platform.refresh_token_lifespan),
        public=bool(row.get("public_client")),
        verifier=ctx.platform.verifier,
        jwt=row.get("sys_class_name") == "oauth_jwt",
    )


def client_of(ctx: Context, row: dict[str, Any]) -> Client:
    """The :class:`Client` of an ``oauth_entity`` (or ``oauth_jwt``) row."""
    return _client_from_row(ctx, row)


def find_client(ctx: Context, client_id: str | None) -> Client | None:
    """The active ``oauth_entity`` of type ``client`` with this ``client_id`` (§4.3)."""
    if not client_id:
        return None
    for row in rows.find_by(ctx.db, ctx.dictionary, "oauth_entity", client_id=client_id):
        if row.get("active") and (row.get("type") or "client") == "client":
            return _client_from_row(ctx, row)
    return None


def create_client(ctx: Context, name: str, *, redirect_url: str = "",
                  client_secret: str | None = None, user_sys_id: str | None = None,
                  access_token_lifespan: int | None = None,
                  refresh_token_lifespan: int | None = None) -> tuple[str, str, str]:
    """Register an ``oauth_entity`` (type ``client``); returns ``(sys_id, client_id, secret)``.

    ``client_id`` is 32 hex and the secret generated when blank, as on the platform (§4.3).
    """
    client_id = ctx.platform.ids.client_id()
    sys_id = ctx.platform.ids.sys_id()
    secret = client_secret or derived_client_secret(ctx, sys_id)
    values: dict[str, Any] = {
        "name": name, "client_id": client_id, "redirect_url": redirect_url, "type": "client",
        "active": "true",
    }
    if user_sys_id:
        values["user"] = user_sys_id
    if access_token_lifespan is not None:
        values["access_token_lifespan"] = str(access_token_lifespan)
    if refresh_token_lifespan is not None:
        values["refresh_token_lifespan"] = str(refresh_token_lifespan)
    row = storage_row(ctx.dictionary, "oauth_entity", values, stamp=ctx.now_glide(),
                      user_name=ctx.user.user_name)
    row["sys_id"] = sys_id
    row["client_secret"] = stored_client_secret(ctx, secret)
    rows.insert(ctx.db, ctx.dictionary, "oauth_entity", row)
    return sys_id, client_id, secret


def client_credentials_allowed(ctx: Context, client: Client) -> bool:
    """Washington DC or later, the property set to true, and an OAuth Application User (§4.1)."""
    return (ctx.platform.release.at_least(CLIENT_CREDENTIALS_RELEASE)
            and property_true(ctx, CLIENT_CREDENTIALS_PROPERTY)
            and bool(client.user_sys_id))


# --- tokens --------------------------------------------------------------------------------

def _token_key(ctx: Context) -> bytes:
    key = rows.get_state(ctx.db, _KEY_STATE)
    if key is None:
        key = ctx.platform.ids.token()
        rows.set_state(ctx.db, _KEY_STATE, key)
    return key.encode("ascii")


def stored_client_secret(ctx: Context, secret: str) -> str:
    """What ``oauth_entity.client_secret`` holds for ``secret``: its PBKDF2 hash."""
    return hash_password(secret, iterations=ctx.platform.password_hash_iterations)


def derived_client_secret(ctx: Context, entity_sys_id: str) -> str:
    """The secret the platform generates for the entity ``entity_sys_id`` (32 URL-safe
    characters, re-derivable from the instance key, never stored)."""
    message = f"oauth_entity.client_secret:{entity_sys_id}".encode()
    digest = hmac.new(_token_key(ctx), message, "sha512").digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")[:32]


def generated_client_secret(ctx: Context, row: dict[str, Any]) -> str | None:
    """The entity's client secret when it is still the one the platform generated, else
    ``None`` (an admin set their own: it cannot be shown, only its hash is kept)."""
    secret = derived_client_secret(ctx, str(row["sys_id"]))
    return secret if ctx.platform.verifier.verify(row.get("client_secret"), secret) else None


def _token_value(ctx: Context, sys_id: str) -> str:
    """86 URL-safe characters like the platform's tokens (servicenow-behaviour §4.1)."""
    digest = hmac.new(_token_key(ctx), sys_id.encode("ascii"), "sha512").digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")[:86]


def _token_from_row(ctx: Context, row: dict[str, Any]) -> Token:
    return Token(
        sys_id=str(row["sys_id"]),
        kind=str(row["type"]),
        client_sys_id=str(row["peer"]),
        user_sys_id=row.get("user") or None,
        scope=str(row.get("scope") or DEFAULT_SCOPE),
        expires_at=parse_glide(str(row["expires"])),
        revoked=bool(row.get("revoked")),
        now=ctx.now,
        parent=row.get("parent") or None,
    )


def _insert_credential(ctx: Context, client: Client, user_sys_id: str | None, kind: str,
                       scope: str, lifespan: int, parent: str | None = None) -> tuple[str, str]:
    sys_id = ctx.platform.ids.sys_id()
    value = _token_value(ctx, sys_id)
    expires = ctx.now() + timedelta(seconds=lifespan)
    values: dict[str, Any] = {
        "name": client.name, "type": kind, "peer": client.sys_id, "user": user_sys_id or "",
        "scope": scope, "expires": format_glide(expires), "parent": parent or "",
        "revoked": "false",
    }
    row = storage_row(ctx.dictionary, "oauth_credential", values, stamp=ctx.now_glide(),
                      user_name=ctx.user.user_name)
    row.update(sys_id=sys_id, token_hash=_hash(value), token=None)
    rows.insert(ctx.db, ctx.dictionary, "oauth_credential", row)
    return sys_id, value


def _response(access: str, refresh: str | None, scope: str, expires_in: int) -> dict[str, Any]:
    """Keys in the captured order (servicenow-behaviour §4.1)."""
    body: dict[str, Any] = {"access_token": access}
    if refresh is not None:
        body["refresh_token"] = refresh
    body.update(scope=scope, token_type="Bearer", expires_in=expires_in)
    return body


def _current_access(ctx: Context, client: Client, user_sys_id: str,
                    scope: str) -> dict[str, Any] | None:
    """A still-valid access token (with a valid refresh parent) of this client, user and scope."""
    found = identity_tables.current_access_token(ctx.db, client.sys_id, user_sys_id, scope,
                                                 ctx.now_glide())
    if found is None:
        return None
    sys_id, expires, parent = found["sys_id"], found["expires"], found["parent"]
    left = int((parse_glide(str(expires)) - ctx.now()).total_seconds()) - 1
    return _response(_token_value(ctx, str(sys_id)), _token_value(ctx, str(parent)), scope,
                     max(left, 0))


def issue(ctx: Context, client: Client, user_sys_id: str | None, scope: str | None, *,
          grant_type: str, include_refresh: bool) -> dict[str, Any]:
    """Issue (and store) tokens; the success JSON of ``/oauth_token.do`` (§4.1).

    ``expires_in`` is the entity's lifespan minus one (1799 for 1800). A repeated password
    grant within an access token's lifetime returns that same token (§4.1).
    """
    scope = scope or DEFAULT_SCOPE
    if grant_type == "password" and user_sys_id:
        current = _current_access(ctx, client, user_sys_id, scope)
        if current is not None:
            return current
    refresh_id: str | None = None
    refresh_value: str | None = None
    if include_refresh:
        refresh_id, refresh_value = _insert_credential(
            ctx, client, user_sys_id, REFRESH, scope, client.refresh_token_lifespan)
    _, access_value = _insert_credential(ctx, client, user_sys_id, ACCESS, scope,
                                         client.access_token_lifespan, parent=refresh_id)
    return _response(access_value, refresh_value, scope, client.access_token_lifespan - 1)


def refresh_access(ctx: Context, client: Client, refresh: Token, refresh_value: str,
                   scope: str | None = None) -> dict[str, Any]:
    """A new access token for a refresh token, which is kept and echoed (§4.1)."""
    scope = scope or refresh.scope
    _, access_value = _insert_credential(ctx, client, refresh.user_sys_id, ACCESS, scope,
                                         client.access_token_lifespan, parent=refresh.sys_id)
    return _response(access_value, refresh_value, scope, client.access_token_lifespan - 1)


def find_token(ctx: Context, value: str | None, kind: str) -> Token | None:
    """The valid (not revoked, not expired) token of ``kind`` with this value, or ``None``."""
    if not value:
        return None
    found = identity_tables.credential_by_hash(ctx.db, ctx.dictionary, _hash(value))
    if found is None or found.get("type") != kind:
        return None
    token = _token_from_row(ctx, found)
    if token.is_revoked() or token.is_expired():
        return None
    return token


def user_of(ctx: Context, user_sys_id: str | None, *, via: str) -> Principal | None:
    """The principal of a token's user when that user may still authenticate (§4.1, §6)."""
    if not user_sys_id:
        return None
    row = users.get_user(ctx, user_sys_id)
    if row is None or not users.can_authenticate(row):
        return None
    return users.principal_for(ctx, row, via=via)


def bearer_principal(ctx: Context, value: str) -> Principal:
    """The user of a valid access token; :class:`NotAuthenticated` otherwise (§4.1)."""
    token = find_token(ctx, value, ACCESS)
    principal = user_of(ctx, token.user_sys_id, via="bearer") if token else None
    if principal is None:
        raise NotAuthenticated()
    return principal


def revoke(ctx: Context, value: str | None) -> bool:
    """Mark a token (and, for a refresh token, its access tokens) revoked (§4.3)."""
    if not value:
        return False
    with ctx.db.atomic():
        found = rows.find_by(ctx.db, ctx.dictionary, "oauth_credential", token_hash=_hash(value))
        if not found:
            return False
        sys_id = str(found[0]["sys_id"])
        stamp = ctx.now_glide()
        identity_tables.revoke_token_family(ctx.db, sys_id, stamp)
    return True


# --- authorization codes -------------------------------------------------------------------

def save_code(ctx: Context, code: str, *, client: Client, user_sys_id: str, redirect_uri: str,
              scope: str, code_challenge: str | None = None,
              code_challenge_method: str | None = None) -> None:
    """Remember an authorization code (hashed) for :data:`CODE_LIFESPAN` seconds."""
    now = ctx.now()
    identity_tables.insert_code(ctx.db, {
        "code_hash": _hash(code), "client_id": client.client_id, "user_sys_id": user_sys_id,
        "redirect_uri": redirect_uri, "scope": scope, "code_challenge": code_challenge,
        "code_challenge_method": code_challenge_method, "created_at": format_glide(now),
        "expires_at": format_glide(now + timedelta(seconds=CODE_LIFESPAN)), "used": 0,
    })


def find_code(ctx: Context, code: str | None, client: Client) -> AuthorizationCode | None:
    """An unused, unexpired code issued to ``client``, or ``None``."""
    if not code:
        return None
    row = identity_tables.get_code(ctx.db, _hash(code))
    if row is None or row["used"] or row["client_id"] != client.client_id:
        return None
    found = AuthorizationCode(
        code_hash=str(row["code_hash"]), client_id=str(row["client_id"]),
        user_sys_id=str(row["user_sys_id"]), redirect_uri=str(row["redirect_uri"] or ""),
        scope=str(row["scope"] or DEFAULT_SCOPE), expires_at=parse_glide(str(row["expires_at"])),
        now=ctx.now, code_challenge=row["code_challenge"],
        code_challenge_method=row["code_challenge_method"],
    )
    return None if found.is_expired() else found


def use_code(ctx: Context, code: AuthorizationCode) -> None:
    """Consume a code: it cannot be exchanged twice."""
    identity_tables.mark_code_used(ctx.db, code.code_hash)


def hash_secret(ctx: Context, secret: str) -> str:
    """A password-style hash with the instance's cost (IdP directory passwords)."""
    return hash_password(secret, iterations=ctx.platform.password_hash_iterations)


def now(ctx: Context) -> datetime:
    """The instance clock (for callers outside the domain that need expiry times)."""
    return ctx.now()
