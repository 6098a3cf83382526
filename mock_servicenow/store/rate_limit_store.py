"""Storage for rate limiting: the active rules of an API and the per-window counters."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from mock_servicenow.store.db import cached_config
from mock_servicenow.store.rows import fetch_dicts


def active_rules(db: sqlite_utils.Database, api_name: str) -> list[dict[str, Any]]:
    """Active ``sys_rate_limit_rules`` rows for ``api_name`` (or for every API: empty name);
    asked on every API request, remembered while the configuration is unchanged
    (``db.cached_config``)."""
    rules = cached_config(db, ["sys_rate_limit_rules", "sys_user_role"],
                          ("sys_rate_limit_rules", api_name), lambda: tuple(fetch_dicts(
        db.execute(
            "SELECT r.sys_id, r.type, r.user, r.max_requests, role.name AS role_name "
            "FROM sys_rate_limit_rules r LEFT JOIN sys_user_role role ON role.sys_id = r.role "
            "WHERE coalesce(r.active, 1) = 1 AND coalesce(r.rest_resource, '') IN (?, '')",
            [api_name]))))
    return [dict(rule) for rule in rules]


def increment(db: sqlite_utils.Database, rule: str, user: str, window: int) -> int:
    """Add one request to (rule, user, window) and return the window's count so far."""
    row = db.execute(
        "INSERT INTO _rate_limit_counter (rule, user, window_start, count) VALUES (?, ?, ?, 1) "
        "ON CONFLICT(rule, user, window_start) DO UPDATE SET count = count + 1 RETURNING count",
        [rule, user, window],
    ).fetchone()
    return int(row[0])


def set_count(db: sqlite_utils.Database, rule: str, user: str, window: int, count: int) -> None:
    """Record that ``user`` has made ``count`` requests under ``rule`` in ``window``."""
    db.execute(
        "INSERT INTO _rate_limit_counter (rule, user, window_start, count) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(rule, user, window_start) DO UPDATE SET count = excluded.count",
        [rule, user, window, count],
    )
