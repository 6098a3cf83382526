"""The Import Set API's use cases: load staging rows, transform them, read results back.

Sources (ServiceNow documentation unless said otherwise):

* Import Set API (``api-reference/rest-apis/c_ImportSetAPI.md``): a single-row insert
  transforms synchronously and answers, per transform map, ``transform_map``, ``table``,
  ``display_name``, ``display_value``, ``record_link``, ``status`` and ``sys_id`` under
  ``import_set`` (the set's number, ``ISET0010001``) and ``staging_table``; ``status_message``
  and ``error_message`` are added when set. ``insertMultiple`` takes ``{"records": [...]}``
  keyed by column *label* (or column name when a REST Insert Multiple record says so),
  answers ``import_set_id`` and ``multi_import_set_id``, and transforms asynchronously
  unless a ``sys_rest_insert_multiple`` record for the table sets it synchronous;
  ``multi_import_set_id`` groups the call into an existing multi import set; ``run_after``
  waits for another import set. Values are taken as strings: other JSON types are stored as
  their text, a nested object's ``:`` becoming ``=``. ``GET .../{sys_id}`` reads a staging
  row's transformation result, 404 once it is gone.
* Web service import set mode (``integrate-applications/system-import-sets/r_ImportSetMode.md``):
  an insert joins the table's import set in state Loading with mode Synchronous, creating one
  when there is none; synchronous sets become Processed at midnight (done here when the next
  insert finds yesterday's set), so the next insert starts a new set.
* Import run details (``import-run-details.md``): each transform run is a
  ``sys_import_set_run`` (Transform History) with its counts; rows count from zero.
* Error shapes captured from real instances: an error row answers ``transform_map``,
  ``table``, ``status: error`` and ``error_message`` (Microsoft's ITSM connector
  troubleshooting page; an Azure Pipelines issue shows ``status_message`` beside it).
* Roles: the staging tables' ACL (``sys_import_set_row``: ``import_admin``,
  ``import_set_loader``, ``import_transformer``) is the gate; the transform writes the
  target server-side, so the caller needs no role on the target table ("that user will need
  the import_transformer role. This is the only role they will need": a PDI write-up of
  the Import Set API creating incidents).

Inferred: a staging table that does not exist, or does not extend ``sys_import_set_row``,
is the Table API's 400 ``Invalid table <name>``; a row no active transform map processed
answers an empty ``result`` (its state stays ``pending``); values longer than a staging
column are cut to its length (a write-up warns they are "truncated at the Import Set Table
level").
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from mock_servicenow.dictionary import Field
from mock_servicenow.domain.import_sets.transform import (
    ERROR,
    IGNORED,
    INSERTED,
    SKIPPED,
    UPDATED,
    Outcome,
    TransformMap,
    active_maps,
    display_of,
    transform_row,
)
from mock_servicenow.domain.platform.clock import format_glide
from mock_servicenow.domain.platform.context import Context, Principal
from mock_servicenow.domain.table import acl, records
from mock_servicenow.errors import InvalidTable, RecordNotFound
from mock_servicenow.store import rows
from mock_servicenow.store.db import write_transaction
from mock_servicenow.store.import_set_tables import next_row_number

__all__ = [
    "ImportResult",
    "MultipleLoad",
    "ROW_TABLE",
    "import_result",
    "insert_multiple",
    "insert_row",
    "result_entry",
    "run_pending",
]

#: The table every staging table extends.
ROW_TABLE = "sys_import_set_row"
SYNCHRONOUS, ASYNCHRONOUS = "synchronous", "asynchronous"
LOADING, LOADED, PROCESSED, CANCELLED = "loading", "loaded", "processed", "cancelled"
PENDING = "pending"
_DONE = (PROCESSED, CANCELLED)


@dataclass(frozen=True)
class ImportResult:
    """The answer of a single-row insert and of ``GET .../{sys_id}``."""

    import_set: str
    staging_table: str
    outcomes: tuple[Outcome, ...]


@dataclass(frozen=True)
class MultipleLoad:
    """The answer of ``insertMultiple``; ``pending`` when the transform is still to run."""

    import_set_id: str
    multi_import_set_id: str
    pending: bool


# -- access ---------------------------------------------------------------------------------

def _require_staging(ctx: Context, table: str) -> None:
    """400 ``Invalid table <name>`` unless ``table`` is a staging table; the REST gate of
    ``sys_db_object.ws_access`` as for the Table API."""
    records.check_table(ctx, table, web_service=True)
    if table == ROW_TABLE or ROW_TABLE not in ctx.dictionary.ancestry(table):
        raise InvalidTable(table)


def _platform(ctx: Context) -> Context:
    """``ctx`` acting server-side: the caller's identity (stamps, ``opened_by``) with the
    rights of platform code, which a transform's GlideRecord writes have (no ACLs)."""
    user = ctx.user
    elevated = Principal(sys_id=user.sys_id, user_name=user.user_name, name=user.name,
                         roles=user.roles | {"admin"}, via=user.via, row=user.row)
    platform = replace(ctx, user=elevated, revealed={})
    platform.use_dictionary(ctx.dictionary)
    return platform


# -- staging values -------------------------------------------------------------------------

def _as_text(value: Any) -> str:
    """A JSON value as the string a staging column stores (the API takes strings only;
    other types keep their text, a nested object's ``:`` becoming ``=``)."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_as_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_as_text(v) for v in value) + "]"
    return str(value)


def _staging_columns(ctx: Context, table: str) -> dict[str, Field]:
    """The staging table's own columns (not the import set bookkeeping of
    ``sys_import_set_row``, not the system fields)."""
    inherited = ctx.dictionary.fields(ROW_TABLE)
    return {name: fld for name, fld in ctx.dictionary.fields(table).items()
            if name not in inherited and fld.is_stored}


def _staging_values(columns: Mapping[str, Field], body: Mapping[str, Any],
                    by_label: bool) -> dict[str, str]:
    """Body keys (column names, or labels for ``insertMultiple``) -> staging values; keys
    that name no column are ignored, as the Table API ignores unknown fields."""
    if by_label:
        labels: dict[str, str] = {}
        for name, fld in columns.items():
            labels.setdefault(fld.label, name)
        named = {labels[key]: value for key, value in body.items() if key in labels}
    else:
        named = {key: value for key, value in body.items() if key in columns}
    return {name: _as_text(value)[:max(columns[name].max_length, 1)]
            for name, value in named.items()}


# -- import sets ----------------------------------------------------------------------------

def _loading_set(ctx: Context, table: str) -> dict[str, Any]:
    """The table's synchronous import set in state Loading; yesterday's is Processed (the
    midnight job) and a new one is created (Web service import set mode)."""
    found = rows.find_by(ctx.db, ctx.dictionary, "sys_import_set", table_name=table,
                         mode=SYNCHRONOUS, state=LOADING)
    found.sort(key=lambda r: (str(r.get("sys_created_on") or ""), str(r.get("number") or "")))
    today = format_glide(ctx.now())[:10]
    for stale in found:
        if str(stale.get("sys_created_on") or "")[:10] < today:
            records.update_record(ctx, "sys_import_set", str(stale["sys_id"]), {
                "state": PROCESSED, "load_completed": _midnight_after(stale)})
        else:
            return stale
    return _new_set(ctx, table, SYNCHRONOUS, LOADING)


def _midnight_after(row: Mapping[str, Any]) -> str:
    day = str(row.get("sys_created_on") or "")[:10]
    return f"{day} 23:59:59" if day else ""


def _new_set(ctx: Context, table: str, mode: str, state: str,
             **values: str) -> dict[str, Any]:
    created = records.create_record(ctx, "sys_import_set", {
        "table_name": table, "mode": mode, "state": state, **values})
    found = rows.get(ctx.db, ctx.dictionary, "sys_import_set", str(created["sys_id"]))
    assert found is not None
    return found


def _load(ctx: Context, platform: Context, table: str, import_set: str,
          values: Sequence[Mapping[str, str]]) -> list[dict[str, Any]]:
    """Insert staging rows as the caller (the staging table's ACL and ``ws_access``)."""
    number = next_row_number(ctx.db, ctx.dictionary, table, import_set)
    loaded = []
    for offset, row_values in enumerate(values):
        created = records.create_record(ctx, table, {
            **row_values, "sys_import_set": import_set, "sys_import_row": str(number + offset),
            "sys_import_state": PENDING}, web_service=True)
        row = rows.get(platform.db, platform.dictionary, table, str(created["sys_id"]))
        assert row is not None
        loaded.append(row)
    return loaded


def _transform(ctx: Context, table: str, import_set: Mapping[str, Any],
               staged: Sequence[Mapping[str, Any]],
               maps: Sequence[TransformMap] | None = None) -> list[Outcome]:
    """Run every active transform map over the rows, one Transform History each; the
    rows' state, comment, target and error are written back (Import run details)."""
    outcomes: list[Outcome] = []
    for tmap in maps if maps is not None else active_maps(ctx, table):
        started = time.perf_counter()
        run = records.create_record(ctx, "sys_import_set_run", {
            "set": str(import_set["sys_id"]), "sys_transform_map": tmap.sys_id,
            "state": "running", "started": ctx.now_glide()})
        run_id = str(run["sys_id"])
        counts = dict.fromkeys((INSERTED, UPDATED, IGNORED, SKIPPED, ERROR), 0)
        for row in staged:
            outcome = transform_row(ctx, tmap, table, row)
            counts[outcome.status] += 1
            outcomes.append(outcome)
            _record_outcome(ctx, table, row, outcome, run_id)
        elapsed = timedelta(seconds=round(time.perf_counter() - started))
        records.update_record(ctx, "sys_import_set_run", run_id, {
            "state": "complete_with_errors" if counts[ERROR] else "complete",
            "completed": ctx.now_glide(), "run_time": str(elapsed).rjust(8, "0"),
            "total": str(sum(counts.values())), "inserts": str(counts[INSERTED]),
            "updates": str(counts[UPDATED]), "ignored": str(counts[IGNORED]),
            "skipped": str(counts[SKIPPED]), "errors": str(counts[ERROR]),
            "processed": str(counts[INSERTED] + counts[UPDATED])})
    return outcomes


def _record_outcome(ctx: Context, table: str, row: Mapping[str, Any], outcome: Outcome,
                    run_id: str) -> None:
    values = {"sys_import_state": outcome.status,
              "sys_import_state_comment": outcome.status_message,
              "sys_transform_map": outcome.map_sys_id, "import_set_run": run_id,
              "sys_target_table": "", "sys_target_sys_id": "", "sys_row_error": ""}
    if outcome.status in (INSERTED, UPDATED, IGNORED):
        values.update(sys_target_table=outcome.table, sys_target_sys_id=outcome.sys_id)
    else:
        error = records.create_record(ctx, "sys_import_set_row_error", {
            "error_code": "" if outcome.error_code is None else str(outcome.error_code),
            "error_message": outcome.error_message, "import_set_row": str(row["sys_id"]),
            "run_history": run_id})
        values["sys_row_error"] = str(error["sys_id"])
    records.update_record(ctx, table, str(row["sys_id"]), values)


# -- use cases ------------------------------------------------------------------------------

def insert_row(ctx: Context, table: str, body: Mapping[str, Any]) -> ImportResult:
    """``POST /api/now/import/{table}``: one staging row, transformed at once."""
    _require_staging(ctx, table)
    acl.require_write(ctx, table, "create")
    run_pending(ctx)
    values = _staging_values(_staging_columns(ctx, table), body, by_label=False)
    platform = _platform(ctx)
    with write_transaction(ctx.db):
        import_set = _loading_set(platform, table)
        staged = _load(ctx, platform, table, str(import_set["sys_id"]), [values])
        outcomes = _transform(platform, table, import_set, staged)
    ctx.use_dictionary(platform.dictionary)
    return ImportResult(import_set=str(import_set.get("number") or ""), staging_table=table,
                        outcomes=tuple(outcomes))


def _rest_insert_multiple(ctx: Context, table: str) -> tuple[bool, bool]:
    """``(synchronous, by_label)`` from the table's REST Insert Multiple record, if any."""
    found = rows.find_by(ctx.db, ctx.dictionary, "sys_rest_insert_multiple", source_table=table)
    if not found:
        return False, True
    found.sort(key=lambda r: (str(r.get("sys_created_on") or ""), str(r["sys_id"])))
    setting = found[0]
    return (setting.get("transformation") == SYNCHRONOUS,
            setting.get("column_mapping") != "name")


def insert_multiple(ctx: Context, table: str, records_in: Iterable[Mapping[str, Any]], *,
                    multi_import_set_id: str = "", run_after: str = "") -> MultipleLoad:
    """``POST /api/now/import/{table}/insertMultiple``: a new import set of the rows, in a
    new (or the named) multi import set; transformed now when the table's REST Insert
    Multiple record says synchronous, else left Loaded for :func:`run_pending`."""
    _require_staging(ctx, table)
    acl.require_write(ctx, table, "create")
    run_pending(ctx)
    columns = _staging_columns(ctx, table)
    synchronous, by_label = _rest_insert_multiple(ctx, table)
    values = [_staging_values(columns, record, by_label) for record in records_in]
    platform = _platform(ctx)
    with write_transaction(ctx.db):
        multi = (rows.get(ctx.db, ctx.dictionary, "sys_multi_import_set", multi_import_set_id)
                 if multi_import_set_id else None)
        if multi is None:
            multi = {"sys_id": records.create_record(
                platform, "sys_multi_import_set", {})["sys_id"]}
        after = rows.get(ctx.db, ctx.dictionary, "sys_import_set", run_after) if run_after \
            else None
        import_set = _new_set(platform, table, SYNCHRONOUS if synchronous else ASYNCHRONOUS,
                              LOADING, multi_import_set=str(multi["sys_id"]),
                              run_after="" if after is None or synchronous
                              else str(after["sys_id"]))
        set_id = str(import_set["sys_id"])
        staged = _load(ctx, platform, table, set_id, values)
        records.update_record(platform, "sys_import_set", set_id, {
            "state": LOADED, "load_completed": ctx.now_glide()})
        if synchronous:
            _transform(platform, table, import_set, staged)
            records.update_record(platform, "sys_import_set", set_id, {"state": PROCESSED})
    ctx.use_dictionary(platform.dictionary)
    return MultipleLoad(import_set_id=set_id, multi_import_set_id=str(multi["sys_id"]),
                        pending=not synchronous)


def run_pending(ctx: Context) -> int:
    """Transform the asynchronous import sets in state Loaded, oldest first, each after the
    set its ``run_after`` names is done (the platform's scheduled transform); returns how
    many ran. Each set is claimed in its own transaction: it runs exactly once."""
    done = 0
    while True:
        waiting = rows.find_by(ctx.db, ctx.dictionary, "sys_import_set", mode=ASYNCHRONOUS,
                               state=LOADED)
        if not waiting:
            return done
        waiting.sort(key=lambda r: (str(r.get("sys_created_on") or ""),
                                    str(r.get("number") or "")))
        ready = [r for r in waiting if _may_run(ctx, r)]
        if not ready:
            return done  # every one waits for a set that is not done yet
        for import_set in ready:
            done += _run_set(ctx, str(import_set["sys_id"]))


def _may_run(ctx: Context, import_set: Mapping[str, Any]) -> bool:
    after = import_set.get("run_after")
    if not after:
        return True
    previous = rows.get(ctx.db, ctx.dictionary, "sys_import_set", str(after))
    return previous is None or previous.get("state") in _DONE


def _run_set(ctx: Context, set_id: str) -> int:
    platform = _platform(ctx)
    with write_transaction(ctx.db):
        import_set = rows.get(ctx.db, platform.dictionary, "sys_import_set", set_id)
        if import_set is None or import_set.get("state") != LOADED:
            return 0  # another request ran it
        table = str(import_set.get("table_name") or "")
        if table in platform.dictionary and ROW_TABLE in platform.dictionary.ancestry(table):
            staged = rows.find_by(ctx.db, platform.dictionary, table, sys_import_set=set_id,
                                  sys_import_state=PENDING)
            staged.sort(key=lambda r: int(r.get("sys_import_row") or 0))
            _transform(platform, table, import_set, staged)
        records.update_record(platform, "sys_import_set", set_id, {"state": PROCESSED})
    ctx.use_dictionary(platform.dictionary)
    return 1


def import_result(ctx: Context, table: str, sys_id: str) -> ImportResult:
    """``GET /api/now/import/{table}/{sys_id}``: a staging row's transformation result; 404
    ``No Record found`` when the row is missing or the caller may not read it."""
    _require_staging(ctx, table)
    run_pending(ctx)
    row = rows.get(ctx.db, ctx.dictionary, table, sys_id)
    if row is None:
        raise RecordNotFound()
    acl.require_read_row(ctx, table, row)
    import_set = rows.get(ctx.db, ctx.dictionary, "sys_import_set",
                          str(row.get("sys_import_set") or ""))
    return ImportResult(import_set=str((import_set or {}).get("number") or ""),
                        staging_table=table, outcomes=_stored_outcomes(ctx, row))


def _stored_outcomes(ctx: Context, row: Mapping[str, Any]) -> tuple[Outcome, ...]:
    """The outcome a staging row records (its last transform map's)."""
    status = str(row.get("sys_import_state") or PENDING)
    map_id = str(row.get("sys_transform_map") or "")
    if status == PENDING or not map_id:
        return ()
    tmap = rows.get(ctx.db, ctx.dictionary, "sys_transform_map", map_id) or {}
    base = Outcome(transform_map=str(tmap.get("name") or ""), map_sys_id=map_id,
                   table=str(row.get("sys_target_table") or tmap.get("target_table") or ""),
                   status=status, status_message=str(row.get("sys_import_state_comment") or ""))
    if status in (INSERTED, UPDATED, IGNORED):
        sys_id = str(row.get("sys_target_sys_id") or "")
        name, value = _target_display(ctx, base.table, sys_id)
        return (replace(base, sys_id=sys_id, display_name=name, display_value=value),)
    error = rows.get(ctx.db, ctx.dictionary, "sys_import_set_row_error",
                     str(row.get("sys_row_error") or "")) or {}
    return (replace(base, sys_id=str(row["sys_id"]),
                    error_message=str(error.get("error_message") or base.status_message)),)


def _target_display(ctx: Context, table: str, sys_id: str) -> tuple[str, str]:
    platform = _platform(ctx)
    if table not in platform.dictionary:
        return "", ""
    try:
        return display_of(platform, table, sys_id)
    except RecordNotFound:  # the target was deleted since
        return platform.dictionary.display_field(table) or "sys_id", ""


def result_entry(outcome: Outcome, api_base: str) -> dict[str, str]:
    """One entry of the API's ``result``: the documented seven keys for a transformed row
    (``status_message`` when the row has a comment: "No field values changed"); a skipped
    row names the staging row; an error row its ``error_message`` (captured shapes)."""
    entry = {"transform_map": outcome.transform_map, "table": outcome.table}
    if outcome.status in (INSERTED, UPDATED, IGNORED):
        entry.update(display_name=outcome.display_name, display_value=outcome.display_value,
                     record_link=f"{api_base}/table/{outcome.table}/{outcome.sys_id}",
                     status=outcome.status, sys_id=outcome.sys_id)
    elif outcome.status == SKIPPED:
        entry.update(status=outcome.status, sys_id=outcome.sys_id)
    else:
        entry.update(status=outcome.status, error_message=outcome.error_message)
    if outcome.status_message:
        entry["status_message"] = outcome.status_message
    return entry

