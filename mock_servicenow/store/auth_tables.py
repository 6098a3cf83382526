"""Storage for inbound authentication (issue 18): API keys, REST API access policies with their
profiles, client-certificate mappings, and the JWT bearer grant's used ``jti`` values.

The lookups made while authenticating a request are remembered while the configuration is
unchanged (``db.cached_config``): a request pays a dictionary lookup, not a query. These
helpers never commit: the calling domain function owns the transaction.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from mock_servicenow.dictionary import Dictionary
from mock_servicenow.store import rows
from mock_servicenow.store.db import cached_config
from mock_servicenow.store.rows import fetch_dicts

#: The tables :func:`access_policies` reads.
POLICY_TABLES = ("sys_api_access_policy", "sys_auth_profile_mapping", "inbound_auth_profile",
                 "sys_token_auth_parameter")


def api_key_by_hash(db: sqlite_utils.Database, dictionary: Dictionary,
                    token_hash: str) -> dict[str, Any] | None:
    """The ``api_key`` row of a token's SHA-256 (a copy), or ``None``; remembered while the
    configuration is unchanged."""
    found = cached_config(db, ["api_key"], ("api_key by hash", token_hash), lambda: tuple(
        rows.find_by(db, dictionary, "api_key", token_hash=token_hash)))
    return dict(found[0]) if found else None


def access_policies(db: sqlite_utils.Database) -> tuple[tuple[dict[str, Any],
                                                               tuple[dict[str, Any], ...]], ...]:
    """Every active ``sys_api_access_policy`` row with the profiles mapped to it (their class,
    type, active flag and, for API key profiles, the auth parameter), oldest mapping first.

    Asked for every authenticated REST request: one shared, remembered answer for the whole
    instance (an instance without active policies answers ``()`` from memory). Callers must
    not mutate the rows.
    """
    def load() -> tuple[tuple[dict[str, Any], tuple[dict[str, Any], ...]], ...]:
        policies = fetch_dicts(db.execute(
            "SELECT * FROM sys_api_access_policy WHERE coalesce(active, 1) = 1 "
            "ORDER BY sys_created_on, sys_id"))
        if not policies:
            return ()
        # An auth parameter is a reference; a setup script may also have written its name
        # (a display value), which the platform resolves: both are accepted.
        mapped = fetch_dicts(db.execute(
            "SELECT m.api_access_policy AS policy, m.sys_created_on AS mapped_on, "
            "p.sys_id, p.sys_class_name, coalesce(p.active, 1) AS active, p.type, "
            "t.parameter_name, t.type AS parameter_type, t.prefix "
            "FROM sys_auth_profile_mapping m "
            "JOIN inbound_auth_profile p ON p.sys_id = m.inbound_auth_profile "
            "LEFT JOIN sys_token_auth_parameter t "
            "ON t.sys_id = p.auth_parameter OR t.name = p.auth_parameter "
            "ORDER BY m.sys_created_on, m.sys_id"))
        by_policy: dict[str, list[dict[str, Any]]] = {}
        for profile in mapped:
            by_policy.setdefault(str(profile["policy"]), []).append(profile)
        return tuple((policy, tuple(by_policy.get(str(policy["sys_id"]), ())))
                     for policy in policies)
    return cached_config(db, POLICY_TABLES, ("active api access policies",), load)


def user_certificate(db: sqlite_utils.Database, dictionary: Dictionary,
                     fingerprint: str) -> dict[str, Any] | None:
    """The active ``sys_user_certificate`` mapping of a certificate's SHA-256 fingerprint (a
    copy), or ``None``; remembered while the configuration is unchanged."""
    found = cached_config(db, ["sys_user_certificate"], ("user certificate", fingerprint),
                          lambda: tuple(r for r in rows.find_by(
                              db, dictionary, "sys_user_certificate", fingerprint=fingerprint)
                              if r.get("active") in (1, None)))
    return dict(found[0]) if found else None


def use_jti(db: sqlite_utils.Database, entity: str, jti_hash: str, expires_at: str,
            now: str) -> bool:
    """Record a JWT's ``jti`` (hashed) for the entity until the token expires; ``False`` when
    it was already used and has not expired (a replay)."""
    db.execute("DELETE FROM _oauth_jwt_jti WHERE expires_at <= ?", [now])
    cursor = db.execute(
        "INSERT OR IGNORE INTO _oauth_jwt_jti (entity, jti_hash, expires_at) VALUES (?, ?, ?)",
        [entity, jti_hash, expires_at])
    return bool(cursor.rowcount)
