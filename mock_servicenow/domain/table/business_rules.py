"""Server-side business rules and data policies that run on Table API writes.

Everything here works on *storage* rows (``dictionary/values.py``) inside the caller's
transaction; nothing commits. Sources (servicenow-behaviour):

* §7.1: numbering ``INC0010001`` / ``CHG0030001`` / ``PRB...``; insert defaults;
  ``opened_by`` = the caller, ``opened_at`` = ``sys_created_on``; ``sys_created_by`` /
  ``sys_updated_by`` hold the ``user_name``; ``sys_mod_count`` increments on every update.
* §7.2: incident priority from the impact x urgency lookup, recalculated server-side.
* §7.3: incident state model; resolve/close data policy (403, exact text); ``active`` flips
  to false at Closed/Canceled and stays true at Resolved; ``resolved_*``/``closed_*`` stamps.
* §7.4: change state transitions enforced by the ``Change Model: Check State Transition``
  business rule (403 abort with the captured detail).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from mock_servicenow.dictionary import Dictionary
from mock_servicenow.dictionary.records import VERSIONED_TABLES
from mock_servicenow.dictionary.values import script_default
from mock_servicenow.domain.identity import api_keys, client_certs, oauth_tokens
from mock_servicenow.domain.platform import schema
from mock_servicenow.domain.platform.context import Context
from mock_servicenow.errors import OperationFailed
from mock_servicenow.store import attachment_store, rows

#: Incident priority lookup ``dl_u_priority`` (servicenow-behaviour §7.2).
PRIORITY_MATRIX: Mapping[tuple[int, int], int] = {
    (1, 1): 1, (1, 2): 2, (1, 3): 3,
    (2, 1): 2, (2, 2): 3, (2, 3): 4,
    (3, 1): 3, (3, 2): 4, (3, 3): 5,
}

INCIDENT_RESOLVED, INCIDENT_CLOSED, INCIDENT_CANCELED = 6, 7, 8

#: Labels in the data-policy message as captured (servicenow-behaviour §7.3, FS#52443983875).
RESOLVE_MANDATORY = (("close_code", "Resolution code"), ("close_notes", "Close notes"))

#: ``ChangeRequestStateModel_<type>`` transitions (servicenow-behaviour §7.4): the ``_normal``
#: copy as captured; ``standard`` skips Assess/Authorize; ``emergency`` skips Assess.
NEW, ASSESS, AUTHORIZE, SCHEDULED, IMPLEMENT, REVIEW, CLOSED, CANCELED = -5, -4, -3, -2, -1, 0, 3, 4
CHANGE_TRANSITIONS: Mapping[str, Mapping[int, frozenset[int]]] = {
    "normal": {
        NEW: frozenset({ASSESS, CANCELED}),
        ASSESS: frozenset({NEW, AUTHORIZE, SCHEDULED, CANCELED}),
        AUTHORIZE: frozenset({NEW, SCHEDULED, CANCELED}),
        SCHEDULED: frozenset({IMPLEMENT, CANCELED}),
        IMPLEMENT: frozenset({REVIEW, CANCELED}),
        REVIEW: frozenset({CLOSED, CANCELED}),
        CLOSED: frozenset(),
        CANCELED: frozenset(),
    },
    "standard": {
        NEW: frozenset({SCHEDULED, CANCELED}),
        SCHEDULED: frozenset({IMPLEMENT, CANCELED}),
        IMPLEMENT: frozenset({REVIEW, CANCELED}),
        REVIEW: frozenset({CLOSED, CANCELED}),
        CLOSED: frozenset(),
        CANCELED: frozenset(),
    },
    "emergency": {
        NEW: frozenset({AUTHORIZE, CANCELED}),
        AUTHORIZE: frozenset({NEW, SCHEDULED, CANCELED}),
        SCHEDULED: frozenset({IMPLEMENT, CANCELED}),
        IMPLEMENT: frozenset({REVIEW, CANCELED}),
        REVIEW: frozenset({CLOSED, CANCELED}),
        CLOSED: frozenset(),
        CANCELED: frozenset(),
    },
}
CHANGE_RULE_NAME = "Change Model: Check State Transition"
#: sys_id of that business rule on the emulated instance (stable, shown in the abort detail).
CHANGE_RULE_SYS_ID = "6a8ab5c8c3031000b959fd251eba8f61"

#: Tables whose rows are inactive in these states (servicenow-behaviour §7.3, §7.4).
INACTIVE_STATES: Mapping[str, frozenset[int]] = {
    "incident": frozenset({INCIDENT_CLOSED, INCIDENT_CANCELED}),
    "change_request": frozenset({CLOSED, CANCELED}),
    "problem": frozenset({107}),
}


#: The ``javascript:`` defaults of the out-of-box dictionary that the emulator runs, by
#: script (``dictionary.values.script_default``): the caller's sys_id, the current time, the
#: record's class. ``getNextObjNumberPadded()`` is :func:`assign_number`. Defaults calling
#: other scripts (UI helpers, script includes) leave the field empty.
SCRIPT_DEFAULTS: Mapping[str, Callable[[Context, str], str | None]] = {
    "gs.getUserID()": lambda ctx, table: ctx.user.sys_id,
    "gs.nowDateTime()": lambda ctx, table: ctx.now_glide(),
    "current.getTableName()": lambda ctx, table: table,
}


@functools.lru_cache(maxsize=512)
def _script_defaults(dictionary: Dictionary, table: str) -> tuple[tuple[str, str], ...]:
    """``(field, script)`` of the table's stored fields whose default the emulator runs."""
    found = []
    for name, fld in dictionary.fields(table).items():
        script = script_default(fld.default)
        if fld.is_stored and script in SCRIPT_DEFAULTS:
            found.append((name, str(script)))
    return tuple(found)


def _is(ctx: Context, table: str, name: str) -> bool:
    return name in ctx.dictionary.ancestry(table)


def assign_number(ctx: Context, table: str, row: dict[str, Any]) -> None:
    """``number`` from the table's ``sys_number`` counter, inside the insert transaction.

    ``INC0010001``, ``CHG0030001``, ``PRB0040001`` (servicenow-behaviour §7.1).
    """
    if "number" not in ctx.dictionary.fields(table) or row.get("number"):
        return
    taken = rows.next_number(ctx.db, table)
    if taken is not None:
        prefix, number, digits = taken
        row["number"] = f"{prefix}{number:0{digits}d}"


def before_insert(ctx: Context, table: str, row: dict[str, Any]) -> None:
    """Stamps and rules of an insert; ``row`` already holds defaults and the caller's values."""
    now = ctx.now_glide()
    row["sys_created_on"] = row["sys_updated_on"] = now
    row["sys_created_by"] = row["sys_updated_by"] = ctx.user.user_name
    row["sys_mod_count"] = 0
    for name, script in _script_defaults(ctx.dictionary, table):
        if row.get(name) in (None, ""):
            value = SCRIPT_DEFAULTS[script](ctx, table)
            if value is not None:
                row[name] = value
    assign_number(ctx, table, row)
    _apply_rules(ctx, table, row, previous=None)
    if table in VERSIONED_TABLES:
        schema.before_dictionary_write(ctx, table, row, None)


def before_update(ctx: Context, table: str, previous: Mapping[str, Any],
                  row: dict[str, Any]) -> None:
    """Rules of an update: ``row`` is the full new row (previous values merged with changes)."""
    if _is(ctx, table, "change_request"):
        check_change_transition(previous, row)
    _apply_rules(ctx, table, row, previous=previous)
    if table in VERSIONED_TABLES:
        schema.before_dictionary_write(ctx, table, row, previous)
    row["sys_updated_on"] = ctx.now_glide()
    row["sys_updated_by"] = ctx.user.user_name
    row["sys_mod_count"] = int(previous.get("sys_mod_count") or 0) + 1


def after_write(ctx: Context, table: str, row: Mapping[str, Any], operation: str) -> None:
    """Rules after an ``insert``, ``update`` or ``delete``, in the same transaction: a
    dictionary record changes the schema at once (``domain/platform/schema.py``); a deleted
    record takes its attachments with it (:func:`remove_attachments`)."""
    if table in VERSIONED_TABLES:
        schema.after_dictionary_write(ctx, table, row, operation)
    if operation == "delete":
        remove_attachments(table, row, ctx)


#: Tables whose deleted rows own no attachments to cascade to.
_NO_ATTACHMENTS = frozenset({"sys_attachment_doc"})


def remove_attachments(table: str, row: Mapping[str, Any], ctx: Context) -> None:
    """A deleted record's attachments (``sys_attachment`` rows whose ``table_sys_id`` is its
    sys_id) and their content (``sys_attachment_doc``) are deleted with it; a deleted
    ``sys_attachment`` row takes its content rows ("Administering attachments": the
    ``attachment.deleted`` event "is also triggered when the record containing the attachment
    is deleted", https://www.servicenow.com/docs/r/platform-administration/
    ai-platform-administration/r_AdministeringAttachments.html; servicenow-behaviour §9.2)."""
    sys_id = str(row.get("sys_id") or "")
    if not sys_id or table in _NO_ATTACHMENTS:
        return
    if table == "sys_attachment":
        attachment_store.delete_content(ctx.db, [sys_id])
        return
    owned = attachment_store.attachment_ids_of(ctx.db, sys_id)
    if owned:
        attachment_store.delete_attachments(ctx.db, owned)


#: Fields whose value a business rule generates on insert and the creating answer shows once
#: (``Context.revealed``); such tables never take the Table API's pre-encoded answer path.
REVEALED_ON_CREATE: Mapping[str, tuple[str, ...]] = {"api_key": ("token",)}

#: Tables whose read-only certificate fields are extracted from ``pem_certificate``.
CERTIFICATE_TABLES = frozenset({"sys_certificate", "sys_user_certificate"})


def _oauth_entity_rules(ctx: Context, table: str, row: dict[str, Any]) -> None:
    """Application Registry defaults on insert: ``client_id`` is a generated 32-hex value
    (read-only: a value sent by the caller is ignored), ``client_secret`` is generated when
    left blank (servicenow-behaviour §4.3), and stored hashed like any secret
    (``oauth_tokens``). An OAuth JWT API endpoint keeps a client id sent on insert (setup
    scripts written against real instances set their own) and a public one needs no secret
    (create-jwt-endpoint)."""
    if table != "oauth_jwt" or not row.get("client_id"):
        row["client_id"] = ctx.platform.ids.client_id()
    if not row.get("client_secret") and not (table == "oauth_jwt" and row.get("public_client")):
        row["client_secret"] = oauth_tokens.stored_client_secret(
            ctx, oauth_tokens.derived_client_secret(ctx, str(row["sys_id"])))


def _apply_rules(ctx: Context, table: str, row: dict[str, Any],
                 previous: Mapping[str, Any] | None) -> None:
    if previous is None and _is(ctx, table, "oauth_entity"):
        _oauth_entity_rules(ctx, table, row)
    if previous is None and table == "api_key":
        ctx.revealed[(table, str(row["sys_id"]))] = {"token": api_keys.generate(row)}
    if table in CERTIFICATE_TABLES and (
            previous is None or row.get("pem_certificate") != previous.get("pem_certificate")):
        client_certs.certificate_fields(row, mapping=table == "sys_user_certificate")
    if _is(ctx, table, "incident"):
        _incident_rules(ctx, table, row, previous)
    for name, states in INACTIVE_STATES.items():
        if _is(ctx, table, name) and row.get("state") is not None:
            row["active"] = 0 if int(row["state"]) in states else 1
    if _is(ctx, table, "change_request") and int(row.get("state") or NEW) == CLOSED:
        if not row.get("closed_at"):
            row["closed_at"] = ctx.now_glide()
            row["closed_by"] = ctx.user.sys_id


def _incident_rules(ctx: Context, table: str, row: dict[str, Any],
                    previous: Mapping[str, Any] | None) -> None:
    """Priority lookup, state sync, resolve/close data policy (servicenow-behaviour §7.2-7.3)."""
    impact, urgency = row.get("impact"), row.get("urgency")
    if isinstance(impact, int) and isinstance(urgency, int):
        row["priority"] = PRIORITY_MATRIX.get((impact, urgency), row.get("priority"))
    state_changed = previous is None or row.get("state") != previous.get("state")
    incident_state_changed = previous is not None and (
        row.get("incident_state") != previous.get("incident_state"))
    # state and incident_state mirror each other; whichever the caller changed wins.
    if incident_state_changed and not state_changed:
        row["state"] = row["incident_state"]
        state_changed = True
    else:
        row["incident_state"] = row.get("state")
    state = int(row.get("state") or 1)
    if state in (INCIDENT_RESOLVED, INCIDENT_CLOSED) and state_changed:
        require_resolution(ctx, table, row)
        now = ctx.now_glide()
        if not row.get("resolved_at"):
            row["resolved_at"] = now
            row["resolved_by"] = ctx.user.sys_id
        if state == INCIDENT_CLOSED and not row.get("closed_at"):
            row["closed_at"] = now
            row["closed_by"] = ctx.user.sys_id


def require_resolution(ctx: Context, table: str, row: Mapping[str, Any]) -> None:
    """Data policy: Resolved/Closed need ``close_code`` and ``close_notes``.

    An invalid ``close_code`` choice counts as empty. 403 ``Operation Failed`` /
    ``Data Policy Exception: \\n\\tThe following fields are mandatory: Resolution code, Close
    notes`` (servicenow-behaviour §7.3, §1.5).
    """
    close_code = ctx.dictionary.fields(table).get("close_code")
    missing = []
    for name, label in RESOLVE_MANDATORY:
        value = row.get(name)
        empty = value is None or str(value).strip() == ""
        if name == "close_code" and not empty and close_code is not None and close_code.choices:
            empty = close_code.choice_label(str(value)) is None
        if empty:
            missing.append(label)
    if missing:
        raise OperationFailed(
            "Data Policy Exception: \n\tThe following fields are mandatory: " + ", ".join(missing)
        )


def check_change_transition(previous: Mapping[str, Any], row: Mapping[str, Any]) -> None:
    """Abort an illegal change state jump the way the business rule does (§7.4, §1.5)."""
    before, after = previous.get("state"), row.get("state")
    if before is None or after is None or int(before) == int(after):
        return
    model = CHANGE_TRANSITIONS.get(str(row.get("type") or "normal"), CHANGE_TRANSITIONS["normal"])
    allowed = model.get(int(before))
    if allowed is not None and int(after) in allowed:
        return
    raise OperationFailed(
        f"Operation against file 'change_request' was aborted by Business Rule "
        f"'{CHANGE_RULE_NAME}^{CHANGE_RULE_SYS_ID}'. Business Rule Stack:{CHANGE_RULE_NAME}"
    )
