"""Inbound REST rate limiting (servicenow-behaviour §1.5 "Rate limited", §10 item 10).

Rules live in ``sys_rate_limit_rules`` (hourly windows, per user, per role or for all users,
per REST API). A request over the limit is a 429 ``Rate limit exceeded`` with ``Retry-After``,
``X-RateLimit-Limit``, ``X-RateLimit-Reset`` (unix seconds) and ``X-RateLimit-Rule`` (the rule's
sys_id); no ``X-RateLimit-Remaining`` (not documented). Windows follow the instance clock, so
a test advances ``/_emulator/clock`` past the hour instead of waiting.

The platform counts per node and flushes every 30 s, so a real instance lets a few requests
over the limit through; the emulator counts exactly (documented difference).
"""

from __future__ import annotations

from mock_servicenow.domain.platform.context import Context, Principal
from mock_servicenow.errors import RateLimited
from mock_servicenow.store import rate_limit_store

WINDOW_SECONDS = 3600


def _window(ctx: Context) -> tuple[int, int]:
    """``(now, start of its hourly window)`` in unix seconds, by the instance clock."""
    now = int(ctx.now().timestamp())
    return now, now - now % WINDOW_SECONDS


def use_up(ctx: Context, rule_sys_id: str, user_sys_id: str, requests: int) -> None:
    """Count ``requests`` already made by the user under the rule in the current window (a
    scenario's "the integration has used its hour" state; the platform's Rate Limit Counts)."""
    _, window = _window(ctx)
    rate_limit_store.set_count(ctx.db, rule_sys_id, user_sys_id, window, requests)


def enforce(ctx: Context, user: Principal, api_name: str) -> None:
    """Count this request against every rule that applies; raise the 429 when one is exceeded."""
    rules = rate_limit_store.active_rules(ctx.db, api_name)
    if not rules:
        return
    now, window = _window(ctx)
    for rule in rules:
        kind = rule["type"] or "user"
        if kind == "user" and rule["user"] != user.sys_id:
            continue
        if kind == "role" and rule["role_name"] not in user.roles:
            continue
        with ctx.db.atomic():
            count = rate_limit_store.increment(ctx.db, rule["sys_id"], user.sys_id, window)
        limit = int(rule["max_requests"] or 0)
        if count > limit:
            reset_at = window + WINDOW_SECONDS
            raise RateLimited(
                f"Rate limit of {limit} requests per hour for {api_name} exceeded",
                headers={
                    "Retry-After": str(max(1, reset_at - now)),
                    "X-RateLimit-Limit": str(limit),
                    "X-RateLimit-Reset": str(reset_at),
                    "X-RateLimit-Rule": str(rule["sys_id"]),
                },
            )
