"""Server-side records of interactive sessions (``_session``), timed by the instance clock.

The browser's ``glide_session_store`` cookie carries a random session id; the instance keeps
only its hash, the user and an idle expiry. Logging out deletes the record, so a copied
cookie is dead afterwards; a session idle for longer than ``glide.ui.session_timeout``
minutes (30 by default on the platform) ends, and the control plane's clock drives that.
Kept with the SSO modules because SSO and local logins both end in one of these sessions.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from mock_servicenow.domain.identity import oauth_tokens
from mock_servicenow.domain.platform.clock import format_glide, parse_glide
from mock_servicenow.domain.platform.context import Context
from mock_servicenow.store import identity_tables
from mock_servicenow.store.db import write_transaction

TIMEOUT_PROPERTY = "glide.ui.session_timeout"
DEFAULT_TIMEOUT_MINUTES = 30


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _timeout(ctx: Context) -> timedelta:
    raw = oauth_tokens.sys_property(ctx, TIMEOUT_PROPERTY)
    try:
        minutes = int(raw) if raw else DEFAULT_TIMEOUT_MINUTES
    except ValueError:
        minutes = DEFAULT_TIMEOUT_MINUTES
    return timedelta(minutes=max(minutes, 1))


def open_session(ctx: Context, user_sys_id: str, user_token: str) -> str:
    """Record a new session for a user; returns its id (for the cookie only)."""
    session_id = secrets.token_urlsafe(32)
    now = ctx.now()
    expires = format_glide(now + _timeout(ctx))  # read before the write (see session_user)
    with write_transaction(ctx.db):
        identity_tables.insert_session(ctx.db, {
            "session_hash": _hash(session_id), "user_sys_id": user_sys_id,
            "user_token": _hash(user_token), "data": "{}", "created_at": format_glide(now),
            "expires_at": expires,
        })
    return session_id


def session_user(ctx: Context, session_id: str | None) -> str | None:
    """The user of a live session (its idle expiry pushed forward), or ``None``."""
    if not session_id:
        return None
    key = _hash(session_id)
    row = identity_tables.get_session(ctx.db, key)
    if row is None:
        return None
    now = ctx.now()
    # The timeout is read before the write: a read inside a deferred transaction followed by
    # a write fails at once ("database is locked") when another request commits in between,
    # which concurrent page loads of one browser do (issue 16). The write takes its turn.
    expires = format_glide(now + _timeout(ctx))
    with write_transaction(ctx.db):
        if now >= parse_glide(str(row["expires_at"])):
            identity_tables.delete_session(ctx.db, key)
            return None
        identity_tables.extend_session(ctx.db, key, expires)
    return str(row["user_sys_id"]) if row["user_sys_id"] else None


def close_session(ctx: Context, session_id: str | None) -> None:
    """End a session (logout)."""
    if session_id:
        with ctx.db.atomic():
            identity_tables.delete_session(ctx.db, _hash(session_id))
