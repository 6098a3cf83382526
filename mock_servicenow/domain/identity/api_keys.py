"""REST API keys: ``x-sn-apikey`` authentication (Washington DC and later).

Sources: https://www.servicenow.com/docs/r/platform-security/authentication/api-key-and-hmac-rest-apis.html
(an API key is tied to a user; sent as a header or a query parameter; usable only through API
access policies), https://www.servicenow.com/docs/r/xanadu/platform-security/authentication/configure-api-key.html
(the ``api_key`` record: Name, Description, Active, User, Auth Scope, the generated Token,
Expiry "empty value means no expiration"), servicenow-behaviour §4.1 (``x-sn-apikey``, from
ansible's client), and setup scripts written against real instances (the token is a
``now_...`` value the platform generates; the REST API does not return it in clear
afterwards).

The emulator generates the token on insert, shows it once (in the response to the request
that created the key, through the Table API or the ``/api_key.do`` page) and keeps only its
SHA-256, so nobody can read it back: a real instance shows it on the form again, an emulator
that stores no secret cannot (docs/identity.md). A wrong, inactive or expired key, a key of an
inactive or locked-out user, and a key on an API whose access policy does not allow API keys
all get the platform's 401 envelope (servicenow-behaviour §1.5); nothing says which.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from mock_servicenow.domain.identity import api_access, users
from mock_servicenow.domain.platform.clock import parse_glide
from mock_servicenow.domain.platform.context import Context, Principal
from mock_servicenow.errors import InvalidRequest, NotAuthenticated
from mock_servicenow.store import auth_tables

#: First release with REST API keys (api-key-and-hmac-rest-apis, "Washingtondc" release).
API_KEY_RELEASE = "washingtondc"
#: The platform's keys read ``now_...`` (setup scripts against real instances).
TOKEN_PREFIX = "now_"


def token_hash(token: str) -> str:
    """The stored form of a token (``api_key.token_hash``)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh key: ``now_`` and 43 URL-safe characters (256 random bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def generate(row: dict[str, object]) -> str:
    """Insert business rule of ``api_key``: a new token, stored hashed; returns it in clear
    for the one response that shows it."""
    token = new_token()
    row["token"] = None
    row["token_hash"] = token_hash(token)
    return token


def is_expired(ctx: Context, expires: object) -> bool:
    """An expiry in the past (instance clock), or one that is not a date-time; empty never
    expires (configure-api-key)."""
    if not expires:
        return False
    try:
        return parse_glide(str(expires)) <= ctx.now()
    except ValueError:
        return True


def authenticate(ctx: Context, value: str, sent_as: str, call: api_access.RestCall) -> Principal:
    """The user of the API key ``value`` sent ``sent_as`` (header or query parameter) on
    ``call``; :class:`NotAuthenticated` for every refusal."""
    if not ctx.platform.release.at_least(API_KEY_RELEASE):
        raise NotAuthenticated()
    token = api_access.api_key_allowed(ctx, call, sent_as, value)
    if not token:
        raise NotAuthenticated()
    key = auth_tables.api_key_by_hash(ctx.db, ctx.dictionary, token_hash(token))
    if key is None or not key.get("active") or not key.get("user"):
        raise NotAuthenticated()
    if is_expired(ctx, key.get("expires")):
        raise NotAuthenticated()
    row = users.get_user(ctx, str(key["user"]))
    if row is None or not users.can_authenticate(row):
        raise NotAuthenticated()
    return users.principal_for(ctx, row, via="api_key")


def create_key(ctx: Context, *, name: str, user_name: str, description: str = "",
               expires: str = "", active: bool = True) -> dict[str, Any]:
    """The ``/api_key.do`` form's New: an ``api_key`` for the user called ``user_name``,
    inserted like a Table API insert (ACLs, business rules); the answer (display values and
    values of every field) carries the token, the only time it is shown. 400 for an unknown
    user."""
    from mock_servicenow.domain.table import records  # records -> business rules -> here

    user = users.find_user(ctx, user_name.strip())
    if user is None:
        raise InvalidRequest(f"No user with User ID '{user_name.strip()}'")
    return records.create_record(ctx, "api_key", {
        "name": name, "description": description, "user": user["sys_id"],
        "expires": expires.strip(), "active": "true" if active else "false"},
        options=records.ReadOptions(display_value="all"))
