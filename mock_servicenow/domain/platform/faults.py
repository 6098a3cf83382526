"""Fault injection: rules that make matching requests fail the way a real instance can fail.

A rule matches by HTTP method and path and does one of four things (issue 8 item 5):

* ``status``: answer with that status and the platform's error envelope instead of running
  the request (servicenow-behaviour §1.5 status-code table, §3 envelope);
* ``latency``: sleep ``seconds`` (real time: slowness is the point), then run the request;
* ``rate_limit``: answer 429 ``Rate limit exceeded`` with ``Retry-After``,
  ``X-RateLimit-Limit``, ``X-RateLimit-Reset`` and ``X-RateLimit-Rule``
  (servicenow-behaviour §1.5, "Rate limited", DOC);
* ``drop_after_commit``: run the request fully (its writes are committed), then break the
  connection instead of answering (what a client sees when a node dies after COMMIT);
* ``page``: answer every request of the instance (not the control plane, not the identity
  provider stand-in) with one of the platform's whole-instance pages instead of running it
  (:data:`PAGES`: a hibernating developer instance, an instance being upgraded).

Matching: ``method`` is an HTTP method or ``*`` (any); ``path`` is a glob over the request
path without query string (``fnmatch`` rules, case-sensitive: ``*`` matches any characters
including ``/``), so a plain path matches exactly and ``/api/now/table/incident*`` is a prefix.
``times`` limits how many matching requests a rule affects (then it expires); without it the
rule stays until removed or until the instance is reset.

Rules live in the instance database (``_emulator_fault``) so every worker process of
``serve --workers N`` applies them, and reset clears them with the rest of the data.
Nothing here knows about HTTP servers: the web layer turns a :class:`FaultPlan` into a sleep,
an error response or a dropped connection.
"""

from __future__ import annotations

import fnmatch
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlite_utils

from mock_servicenow.domain.platform.context import Context
from mock_servicenow.domain.platform.ids import IdGenerator
from mock_servicenow.errors import (
    InvalidRequest,
    NotAuthenticated,
    NotAuthorized,
    RateLimited,
    RecordNotFound,
    ServiceNowError,
)
from mock_servicenow.store import faults as store

ACTIONS = ("status", "latency", "rate_limit", "drop_after_commit", "page")
METHODS = ("*", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")

#: SQLite's largest rowid: rule ids are rowids.
_MAX_ROWID = 2**63 - 1

#: The longest latency a rule may ask for (a typo should not hang a CI job for hours).
MAX_LATENCY_SECONDS = 300.0

#: Paths a rule never affects, so a test can always list, clear faults and reset.
EXEMPT_PREFIXES = ("/_emulator/faults", "/_emulator/reset")

#: Bodies for server-side statuses. The platform sends its envelope (servicenow-behaviour §3)
#: for every REST failure; §1.5 lists 500, 502 and 503 among the codes clients retry on. The
#: wording of these three is inferred (INF): ServiceNow's generic texts are not captured.
SERVER_ERRORS: dict[int, tuple[str, str | None]] = {
    500: ("Internal Server Error", "An unexpected error occurred while processing the request"),
    502: ("Bad Gateway", "The instance did not answer the load balancer in time"),
    503: ("Service Unavailable", "The instance is temporarily unavailable; try again later"),
    504: ("Gateway Timeout", "The instance did not answer the load balancer in time"),
}


@dataclass(frozen=True)
class InstancePage:
    """A page the whole instance answers with, whatever was asked (``page`` rules)."""

    status: int
    template: str
    source: str


#: Whole-instance pages. ``hibernating``: a sleeping developer instance answers every request,
#: REST and OAuth included, with HTTP 200 and an HTML page titled ``Instance Hibernating page``
#: (servicenow-behaviour §1.1; clients detect exactly that: status 200, ``<html>``, that title,
#: e.g. demisto's ServiceNow v2 integration). ``upgrading``: while an upgrade restarts the
#: instance's node, connections are reset and requests fail until it is back
#: (KB0678054 q7, https://support.servicenow.com/kb?id=kb_article_view&sysparm_article=KB0678054);
#: the emulator answers 503 with an HTML page, the status a load balancer gives for a node
#: that is down (inferred: the page's text is not captured).
PAGES: dict[str, InstancePage] = {
    "hibernating": InstancePage(200, "instance_hibernating.html", "servicenow-behaviour §1.1"),
    "upgrading": InstancePage(503, "instance_upgrading.html", "KB0678054"),
}
#: Paths a ``page`` rule leaves alone: the emulator's control plane and the identity
#: provider stand-in are not the instance, and the page's own style sheet and script (the
#: emulator's ``/styles/`` and ``/scripts/`` assets) must load for the page to show.
PAGE_EXEMPT_PREFIXES = ("/_emulator/", "/_idp/", "/styles/", "/scripts/")


class FaultRuleNotFound(ServiceNowError):
    """404 for ``DELETE /_emulator/faults/<id>`` naming no rule (envelope per §3)."""

    status = 404
    message = "No Record found"
    detail = "No fault rule with this id"


class InvalidFaultRule(InvalidRequest):
    """400 for a rule the control plane cannot use; ``detail`` says which field and why."""

    message = "Invalid fault rule"


@dataclass(frozen=True)
class FaultRule:
    """One rule as stored and listed (``remaining`` is ``None`` for unlimited)."""

    id: int
    method: str
    path: str
    action: str
    status: int | None = None
    seconds: float | None = None
    retry_after: int | None = None
    limit: int | None = None
    message: str | None = None
    detail: str | None = None
    page: str | None = None
    retry_after_header: bool | None = None
    remaining: int | None = None
    created_at: str = ""

    def matches(self, method: str, path: str) -> bool:
        """True when this rule applies to a ``method`` request for ``path``."""
        if self.method not in ("*", method.upper()):
            return False
        if self.action == "page" and path.startswith(PAGE_EXEMPT_PREFIXES):
            return False
        return fnmatch.fnmatchcase(path, self.path)

    def to_json(self) -> dict[str, Any]:
        """What ``GET /_emulator/faults`` shows (absent options left out)."""
        shown: dict[str, Any] = {"id": self.id, "method": self.method, "path": self.path,
                                 "action": self.action}
        for name in ("status", "seconds", "retry_after", "limit", "message", "detail", "page",
                     "retry_after_header"):
            value = getattr(self, name)
            if value is not None:
                shown[name] = value
        shown["times"] = self.remaining
        shown["created_at"] = self.created_at
        return shown


@dataclass
class FaultPlan:
    """What the web layer must do to one request: sleep, then fail, drop, or carry on."""

    sleep_seconds: float = 0.0
    error: ServiceNowError | None = None
    drop_after_commit: bool = False
    page: InstancePage | None = None
    applied: list[int] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        """True when no rule applied."""
        return not self.applied


def _int(body: dict[str, Any], name: str, *, low: int, high: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidFaultRule(f"'{name}' must be an integer from {low} to {high}")
    return value


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 1000:
        raise InvalidFaultRule(f"'{name}' must be a string of at most 1000 characters")
    return value


def _seconds(seconds: Any) -> float:
    if (isinstance(seconds, bool) or not isinstance(seconds, int | float)
            or not math.isfinite(seconds) or not 0 <= seconds <= MAX_LATENCY_SECONDS):
        raise InvalidFaultRule(
            f"'seconds' must be a number from 0 to {MAX_LATENCY_SECONDS:g} for 'latency'")
    return float(seconds)


def parse_rule(body: dict[str, Any]) -> dict[str, Any]:
    """Validate a ``POST /_emulator/faults`` body into the fields of a rule (400 otherwise)."""
    known = {"method", "path", "action", "status", "seconds", "retry_after", "limit", "times",
             "message", "detail", "page", "retry_after_header"}
    unknown = sorted(set(body) - known)
    if unknown:
        raise InvalidFaultRule(f"unknown field(s): {', '.join(unknown)}")
    method = body.get("method", "*")
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise InvalidFaultRule(f"'method' must be one of {', '.join(METHODS)}")
    path = body.get("path")
    if not isinstance(path, str) or not path.startswith("/") or len(path) > 2000:
        raise InvalidFaultRule("'path' must be a path starting with '/' (glob characters allowed)")
    if any(path.startswith(prefix) for prefix in EXEMPT_PREFIXES):
        raise InvalidFaultRule("the fault and reset endpoints cannot be faulted")
    action = body.get("action")
    if action not in ACTIONS:
        raise InvalidFaultRule(f"'action' must be one of {', '.join(ACTIONS)}")
    rule: dict[str, Any] = {"method": method.upper(), "path": path, "action": action,
                            "times": _int(body, "times", low=1, high=1_000_000)}
    # Every field given is checked, whatever the action: a status of 399 next to a
    # "latency" action is out of range (a 400), not silently ignored (docs/faults.md).
    _int(body, "status", low=400, high=599)
    _int(body, "retry_after", low=0, high=86_400)
    _int(body, "limit", low=1, high=10_000_000)
    _text(body, "message")
    _text(body, "detail")
    if "seconds" in body and body["seconds"] is not None:
        _seconds(body["seconds"])
    page = body.get("page")
    if page is not None and (not isinstance(page, str) or page not in PAGES):
        raise InvalidFaultRule(f"'page' must be one of {', '.join(PAGES)}")
    header = body.get("retry_after_header")
    if header is not None and not isinstance(header, bool):
        raise InvalidFaultRule("'retry_after_header' must be true or false")
    if action == "status":
        status = _int(body, "status", low=400, high=599)
        if status is None:
            raise InvalidFaultRule("'status' (400 to 599) is required for action 'status'")
        rule["status"] = status
        rule["message"] = _text(body, "message")
        rule["detail"] = _text(body, "detail")
    elif action == "latency":
        rule["seconds"] = _seconds(body.get("seconds"))
    elif action == "rate_limit":
        rule["retry_after"] = _int(body, "retry_after", low=0, high=86_400)
        rule["limit"] = _int(body, "limit", low=1, high=10_000_000)
        rule["retry_after_header"] = header
    elif action == "page":
        if page is None:
            raise InvalidFaultRule(f"'page' ({', '.join(PAGES)}) is required for action 'page'")
        rule["page"] = page
    return rule


def _from_row(row: dict[str, Any]) -> FaultRule:
    spec = json.loads(row["spec"])
    return FaultRule(id=row["id"], method=row["method"], path=row["path"], action=row["action"],
                     remaining=row["remaining"], created_at=row["created_at"], **spec)


def add_rule(ctx: Context, body: dict[str, Any]) -> FaultRule:
    """Validate and store a rule; returns it with its id."""
    rule = parse_rule(body)
    spec = {k: rule[k] for k in ("status", "seconds", "retry_after", "limit", "message", "detail",
                                 "page", "retry_after_header")
            if rule.get(k) is not None}
    with ctx.db.atomic():
        rule_id = store.add_rule(ctx.db, method=rule["method"], path=rule["path"],
                                 action=rule["action"], spec=json.dumps(spec),
                                 remaining=rule["times"], created_at=ctx.now_glide())
    return FaultRule(id=rule_id, method=rule["method"], path=rule["path"],
                     action=rule["action"], remaining=rule["times"],
                     created_at=ctx.now_glide(), **spec)


def list_rules(ctx: Context) -> list[FaultRule]:
    """Every live rule, oldest first."""
    return [_from_row(row) for row in store.all_rules(ctx.db)]


def remove_rule(ctx: Context, rule_id: int) -> None:
    """Delete one rule (404 envelope when there is none, also for an id no rule can have:
    SQLite's rowids are 64-bit, so a larger one names nothing rather than overflowing)."""
    if not 0 < rule_id <= _MAX_ROWID:
        raise FaultRuleNotFound()
    with ctx.db.atomic():
        if not store.delete_rule(ctx.db, rule_id):
            raise FaultRuleNotFound()


def clear_rules(ctx: Context) -> int:
    """Delete every rule; returns how many there were."""
    with ctx.db.atomic():
        return store.delete_all(ctx.db)


def rate_limit_error(rule: FaultRule, now: datetime) -> RateLimited:
    """The 429 a real instance sends when an inbound REST rate limit rule trips.

    servicenow-behaviour §1.5 "Rate limited" (DOC): ``Retry-After`` (seconds),
    ``X-RateLimit-Limit``, ``X-RateLimit-Reset`` (unix time of the window's end, from the
    instance clock so tests can pin it) and ``X-RateLimit-Rule`` (the rule's sys_id in
    ``sys_rate_limit_rules``); no ``X-RateLimit-Remaining``.
    """
    retry_after = 3600 if rule.retry_after is None else rule.retry_after
    limit = 100 if rule.limit is None else rule.limit
    reset_at = int(now.timestamp()) + retry_after
    # A stable sys_id-shaped value per rule, as a sys_rate_limit_rules row would have.
    rule_sys_id = IdGenerator(rule.id).sys_id()
    headers = {"Retry-After": str(retry_after), "X-RateLimit-Limit": str(limit),
               "X-RateLimit-Reset": str(reset_at), "X-RateLimit-Rule": rule_sys_id}
    if rule.retry_after_header is False:
        # A 429 without Retry-After (a proxy in front of the instance, or an instance that
        # leaves it out): only the X-RateLimit-* headers say when the window ends.
        del headers["Retry-After"]
    return RateLimited(f"Rate limit of {limit} requests per hour for Table API exceeded",
                       headers=headers)


def status_error(rule: FaultRule) -> ServiceNowError:
    """The platform's envelope for ``rule.status`` (servicenow-behaviour §1.5, §3)."""
    status = rule.status or 500
    known: dict[int, type[ServiceNowError]] = {401: NotAuthenticated, 403: NotAuthorized,
                                               404: RecordNotFound}
    error: ServiceNowError
    if status in known:
        error = known[status]()
        if status == 401:
            # The captured 401 carries its challenge header (servicenow-behaviour §1.5).
            error.headers["WWW-Authenticate"] = 'BASIC realm="Service-now"'
    elif status in SERVER_ERRORS:
        message, detail = SERVER_ERRORS[status]
        error = ServiceNowError(detail, message=message)
    elif status == 400:
        error = InvalidRequest()
    else:
        error = ServiceNowError(message="Request failed")
    error.status = status
    if rule.message is not None:
        error.message = rule.message
    if rule.detail is not None:
        error.detail = rule.detail
    return error


def plan_for(db: sqlite_utils.Database, method: str, path: str,
             now: Callable[[], datetime]) -> FaultPlan:
    """Which rules apply to this request, each consuming one of its ``times``.

    Every matching ``latency`` rule adds its sleep; then the oldest matching rule of another
    kind decides the outcome (one failure per request). Rules used up by a concurrent
    request in another worker are skipped. ``now`` (the instance clock) is only read when a
    rate-limit rule applies: the common case, no rule, costs one query and nothing else.
    """
    plan = FaultPlan()
    if path.startswith(EXEMPT_PREFIXES):
        return plan
    rows = store.all_rules(db)
    if not rows:
        return plan
    candidates = [rule for rule in map(_from_row, rows) if rule.matches(method, path)]
    if not candidates:
        return plan
    with db.atomic():
        for rule in candidates:
            if rule.action == "latency":
                if store.consume(db, rule.id):
                    plan.sleep_seconds += rule.seconds or 0.0
                    plan.applied.append(rule.id)
                continue
            if plan.error is not None or plan.drop_after_commit or plan.page is not None:
                continue
            if not store.consume(db, rule.id):
                continue
            plan.applied.append(rule.id)
            if rule.action == "drop_after_commit":
                plan.drop_after_commit = True
            elif rule.action == "page":
                plan.page = PAGES[rule.page or ""]
            elif rule.action == "rate_limit":
                plan.error = rate_limit_error(rule, now())
            else:
                plan.error = status_error(rule)
    return plan
