"""Internal identity tables: pending authorization codes and the IdP stand-in's directory.

Neither is a ServiceNow table (the platform keeps codes out of the Table API, and the IdP is
another system), so they live in ``_``-prefixed tables created by migrations. These helpers
never commit: the calling domain function owns the transaction.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from mock_servicenow.dictionary import Dictionary
from mock_servicenow.store import rows
from mock_servicenow.store.db import cached_config
from mock_servicenow.store.rows import fetch_dict, fetch_dicts


def insert_code(db: sqlite_utils.Database, values: dict[str, Any]) -> None:
    """Store one authorization code row (``code_hash`` is the key; the code is never stored)."""
    rows.insert_values(db, "_oauth_authorization_code", values)


def get_code(db: sqlite_utils.Database, code_hash: str) -> dict[str, Any] | None:
    """The code row with this hash, or ``None``."""
    return fetch_dict(db.execute("SELECT * FROM _oauth_authorization_code WHERE code_hash = ?",
                           [code_hash]))


def mark_code_used(db: sqlite_utils.Database, code_hash: str) -> bool:
    """Flag a code as used; ``False`` when it was already used (single use)."""
    cursor = db.execute(
        "UPDATE _oauth_authorization_code SET used = 1 WHERE code_hash = ? AND used = 0",
        [code_hash],
    )
    return bool(cursor.rowcount)


def list_idp_users(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every IdP directory user, by user name."""
    cursor = db.execute("SELECT * FROM _idp_user ORDER BY user_name")
    return fetch_dicts(cursor)


def find_idp_user(db: sqlite_utils.Database, login: str) -> dict[str, Any] | None:
    """The IdP user whose user name or email is ``login`` (case-insensitive)."""
    return fetch_dict(db.execute(
        "SELECT * FROM _idp_user WHERE lower(user_name) = lower(?) OR lower(email) = lower(?)",
        [login, login],
    ))


def upsert_idp_user(db: sqlite_utils.Database, values: dict[str, Any]) -> None:
    """Create or replace an IdP user (complete row)."""
    rows.insert_values(db, "_idp_user", values, replace=True)


def delete_idp_user(db: sqlite_utils.Database, user_name: str) -> bool:
    """Remove an IdP user; ``False`` when there was none."""
    cursor = db.execute("DELETE FROM _idp_user WHERE lower(user_name) = lower(?)", [user_name])
    return bool(cursor.rowcount)


def insert_session(db: sqlite_utils.Database, values: dict[str, Any]) -> None:
    """Store one interactive session (keyed by the hash of its id)."""
    rows.insert_values(db, "_session", values)


def get_session(db: sqlite_utils.Database, session_hash: str) -> dict[str, Any] | None:
    """The session row, or ``None``."""
    return fetch_dict(db.execute("SELECT * FROM _session WHERE session_hash = ?", [session_hash]))


def extend_session(db: sqlite_utils.Database, session_hash: str, expires_at: str) -> None:
    """Push a session's idle expiry forward."""
    db.execute("UPDATE _session SET expires_at = ? WHERE session_hash = ?",
               [expires_at, session_hash])


def delete_session(db: sqlite_utils.Database, session_hash: str) -> None:
    """Forget a session (logout, expiry)."""
    db.execute("DELETE FROM _session WHERE session_hash = ?", [session_hash])


def role_names(db: sqlite_utils.Database, user_sys_id: str) -> frozenset[str]:
    """Names of the active roles granted to a user (``sys_user_has_role`` -> ``sys_user_role``);
    asked on every authenticated request, remembered while the configuration is
    unchanged (``db.cached_config``)."""
    def load() -> frozenset[str]:
        cursor = db.execute(
            "SELECT r.name FROM sys_user_has_role h JOIN sys_user_role r ON r.sys_id = h.role "
            "WHERE h.user = ? AND coalesce(h.state, 'active') = 'active'",
            [user_sys_id],
        )
        return frozenset(str(name) for (name,) in cursor.fetchall())
    return cached_config(db, ["sys_user_has_role", "sys_user_role"], ("roles of", user_sys_id),
                         load)


def user_by_sys_id(db: sqlite_utils.Database, dictionary: Dictionary,
                   sys_id: str) -> dict[str, Any] | None:
    """The ``sys_user`` row with this sys_id (a copy), or ``None``; asked on every
    Bearer-authenticated request, remembered while the configuration is unchanged
    (``db.cached_config``)."""
    found = cached_config(db, ["sys_user"], ("sys_user by sys_id", sys_id),
                        lambda: rows.get(db, dictionary, "sys_user", sys_id))
    return None if found is None else dict(found)


def credential_by_hash(db: sqlite_utils.Database, dictionary: Dictionary,
                       token_hash: str) -> dict[str, Any] | None:
    """The ``oauth_credential`` row of a token's hash (a copy), or ``None``; asked on every
    Bearer-authenticated request, remembered while the configuration is unchanged
    (``db.cached_config``: a revocation or a new grant is a change)."""
    found = cached_config(db, ["oauth_credential"], ("oauth_credential by hash", token_hash),
                          lambda: tuple(
        rows.find_by(db, dictionary, "oauth_credential", token_hash=token_hash)))
    return dict(found[0]) if found else None


def user_by_name(db: sqlite_utils.Database, dictionary: Dictionary,
                 user_name: str) -> dict[str, Any] | None:
    """The ``sys_user`` row with this ``user_name`` (a copy: callers may change it), or
    ``None``; asked on every Basic-authenticated request, remembered while the data is
    unchanged (``db.cached_config``)."""
    found = cached_config(db, ["sys_user"], ("sys_user by user_name", user_name),
                          lambda: tuple(
        rows.find_by(db, dictionary, "sys_user", user_name=user_name)))
    return dict(found[0]) if found else None


def user_sys_id_by(db: sqlite_utils.Database, field: str, value: str) -> str | None:
    """The first ``sys_user`` whose ``email`` or ``user_name`` equals ``value``, ignoring case."""
    if field not in ("email", "user_name"):
        raise ValueError(f"cannot look users up by {field!r}")
    found = db.execute(
        f"SELECT sys_id FROM sys_user WHERE lower({field}) = lower(?) ORDER BY sys_id", [value]
    ).fetchone()
    return None if found is None else str(found[0])


def current_access_token(db: sqlite_utils.Database, client_sys_id: str, user_sys_id: str,
                         scope: str, now: str) -> dict[str, Any] | None:
    """A still-valid access token (with a valid refresh parent) of this client, user, scope."""
    return fetch_dict(db.execute(
        "SELECT a.sys_id, a.expires, a.parent FROM oauth_credential a "
        "JOIN oauth_credential r ON r.sys_id = a.parent "
        "WHERE a.type = 'access_token' AND a.peer = ? AND a.user = ? AND a.scope = ? "
        "AND coalesce(a.revoked, 0) = 0 AND a.expires > ? "
        "AND coalesce(r.revoked, 0) = 0 AND r.expires > ? "
        "ORDER BY a.expires DESC LIMIT 1",
        [client_sys_id, user_sys_id, scope, now, now],
    ))


def revoke_token_family(db: sqlite_utils.Database, sys_id: str, stamp: str) -> None:
    """Mark a credential and every credential issued under it (its access tokens) revoked."""
    db.execute(
        "UPDATE oauth_credential SET revoked = 1, sys_updated_on = ?, "
        "sys_mod_count = coalesce(sys_mod_count, 0) + 1 WHERE sys_id = ? OR parent = ?",
        [stamp, sys_id, sys_id],
    )


def holds_privileged_role(db: sqlite_utils.Database, user_sys_id: str) -> bool:
    """True when the user holds ``admin`` or a role flagged ``elevated_privilege`` (asked only
    when someone who is not an admin changes a user)."""
    found = db.execute(
        "SELECT 1 FROM sys_user_has_role h JOIN sys_user_role r ON r.sys_id = h.role "
        "WHERE h.user = ? AND coalesce(h.state, 'active') = 'active' "
        "AND (r.name IN ('admin', 'security_admin') OR r.elevated_privilege = 1) LIMIT 1",
        [user_sys_id]).fetchone()
    return found is not None
