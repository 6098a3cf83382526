"""CI relations: ``cmdb_rel_ci`` rows (``parent``, ``child``, ``type``) typed by
``cmdb_rel_type``, as the CMDB Instance API reads and writes them.

Source: CMDB Instance API (https://github.com/ServiceNow/ServiceNowDocs/blob/australia/markdown/
api-reference/rest-apis/cmdb-instance-api.md). A CI's ``outbound_relations`` are the rows
where it is the parent, its ``inbound_relations`` those where it is the child; each is
``{"sys_id", "type", "target"}``, ``type`` and ``target`` being ``{"display_value", "link",
"value"}`` with a Table API link for the type and a CMDB Instance API link
(``/api/now/cmdb/instance/cmdb_ci/<sys_id>``) for the target CI. A request's relations are
``{"target": <CI sys_id>, "type": <cmdb_rel_type sys_id>}``; the POST page's dependent-CI
sample also sends one under ``depends_on`` as a single object, and answers a missing or
invalid target with ``Exception while executing request: null``. A type may also be given by
name (``Runs on::Runs``), as the identification engine's relations are; an unknown one is the
IRE's ``No such relationship with name [x] exist in table [cmdb_rel_type]`` and a name two
types share its DUPLICATE_RELATIONSHIP_TYPES (IRE error messages,
https://www.servicenow.com/docs/r/australia/servicenow-platform/
configuration-management-database-cmdb/id-engine-error-messages.html). A relation that exists
already (same parent, child and type) is not written again: the engine reports it NO_CHANGE
(Identification and Reconciliation API, ``relations`` of its result, c_IdentifyReconcileAPI.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mock_servicenow.domain.cmdb.identification import INVALID_INPUT_DATA, cast_error
from mock_servicenow.domain.platform.context import Context
from mock_servicenow.domain.table import records
from mock_servicenow.domain.table.display import reference_link
from mock_servicenow.errors import IdentificationFailed, RecordNotFound, RequestExecutionFailed
from mock_servicenow.store import rows

REL_TABLE, TYPE_TABLE, CI_TABLE = "cmdb_rel_ci", "cmdb_rel_type", "cmdb_ci"
#: Request keys holding relations, and the CI's side in each (outbound: it is the parent).
DIRECTIONS = (("outbound_relations", "parent", "child"), ("inbound_relations", "child", "parent"))
_SYS_ID = re.compile(r"^[0-9a-f]{32}$")
_LISTED = records.ReadOptions(display_value="all", exclude_reference_link=True,
                              fields=("sys_id", "type", "parent", "child"))


@dataclass(frozen=True)
class Relation:
    """One relation to write: the CI's side (``parent`` or ``child``), the other CI, the type."""

    side: str
    target: str
    type: str


def _items(value: Any, *, single_allowed: bool) -> list[Any]:
    if isinstance(value, list):
        return value
    if single_allowed and isinstance(value, dict):
        return [value]
    raise cast_error(value, "java.util.List")


def requested(body: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """``(the CI's side, relation object)`` of every relation a body asks for: its
    ``outbound_relations``/``inbound_relations`` and those under ``depends_on``."""
    sources: list[tuple[Any, bool]] = [(body, False)]
    depends_on = body.get("depends_on")
    if depends_on is not None:
        if not isinstance(depends_on, dict):
            raise cast_error(depends_on, "java.util.Map")
        sources.append((depends_on, True))
    for holder, single_allowed in sources:
        for key, side, _other in DIRECTIONS:
            value = holder.get(key)
            if value is None:
                continue
            for item in _items(value, single_allowed=single_allowed):
                if not isinstance(item, dict):
                    raise cast_error(item, "java.util.Map")
                yield side, item


def resolve(ctx: Context, body: Mapping[str, Any]) -> list[Relation]:
    """The body's relations with their targets and types checked, before anything is
    written (a bad one fails the whole request)."""
    resolved = []
    for side, item in requested(body):
        target, kind = item.get("target"), item.get("type")
        if not isinstance(target, str) or rows.get(ctx.db, ctx.dictionary, CI_TABLE,
                                                   target) is None:
            if target is not None and not isinstance(target, str):
                raise cast_error(target, "java.lang.String")
            raise RequestExecutionFailed("null")
        if not isinstance(kind, str) or not kind:
            if kind is not None and not isinstance(kind, str):
                raise cast_error(kind, "java.lang.String")
            raise RequestExecutionFailed("null")
        resolved.append(Relation(side=side, target=target, type=type_sys_id(ctx, kind)))
    return resolved


def type_sys_id(ctx: Context, given: str) -> str:
    """A relation type by sys_id, else by name."""
    if _SYS_ID.match(given) and rows.get(ctx.db, ctx.dictionary, TYPE_TABLE, given):
        return given
    named = rows.find_by(ctx.db, ctx.dictionary, TYPE_TABLE, name=given)
    if len(named) > 1:
        ids = ",".join(sorted(str(row["sys_id"]) for row in named))
        raise IdentificationFailed(
            "DUPLICATE_RELATIONSHIP_TYPES", f"Duplicate relationship type records exists with "
            f"name [{given}] in table [cmdb_rel_type] having sys_ids: [{ids}]")
    if not named:
        raise IdentificationFailed(
            INVALID_INPUT_DATA, f"No such relationship with name [{given}] exist in table "
            f"[cmdb_rel_type]. If out-of-box relationship for [{given}] has been removed or "
            "renamed, it should be restored")
    return str(named[0]["sys_id"])


def write(ctx: Context, ci: str, relations: list[Relation]) -> None:
    """Insert each relation of ``ci`` that does not exist yet (ACLs of ``cmdb_rel_ci``)."""
    for relation in relations:
        ends = {relation.side: ci, _other(relation.side): relation.target}
        if rows.find_by(ctx.db, ctx.dictionary, REL_TABLE, type=relation.type, **ends):
            continue
        records.create_record(ctx, REL_TABLE, {**ends, "type": relation.type},
                              options=records.ReadOptions(fields=("sys_id",)))


def _other(side: str) -> str:
    return "child" if side == "parent" else "parent"


def remove(ctx: Context, ci: str, rel_sys_id: str) -> None:
    """Delete a relation of ``ci``: 404 when it is not one of the CI's (§1.5 text)."""
    found = rows.get(ctx.db, ctx.dictionary, REL_TABLE, rel_sys_id)
    if found is None or ci not in (found.get("parent"), found.get("child")):
        raise RecordNotFound()
    records.delete_record(ctx, REL_TABLE, rel_sys_id)


def _reference(value: Any, link: str) -> Any:
    if not isinstance(value, dict) or not value.get("value"):
        return ""
    return {"display_value": value.get("display_value") or "", "link": link,
            "value": value["value"]}


def read(ctx: Context, ci: str) -> dict[str, list[dict[str, Any]]]:
    """``{"outbound_relations": [...], "inbound_relations": [...]}`` of ``ci``, each in the
    order the relations were written; rows the user may not read are left out (ACLs)."""
    version = f"/{ctx.api_version}" if ctx.api_version else ""
    instance_link = f"{ctx.base_url}/api/now{version}/cmdb/instance/{CI_TABLE}/"
    found: dict[str, list[dict[str, Any]]] = {}
    for key, side, other in DIRECTIONS:
        # A caret in a value is written ^^ in an encoded query (records._compile).
        query = records.ListQuery(query=f"{side}={ci.replace('^', '^^')}", no_count=True)
        page = records.list_records(ctx, REL_TABLE, query, _LISTED)
        found[key] = [{
            "sys_id": record["sys_id"]["value"],
            "type": _reference(record["type"], reference_link(
                ctx, TYPE_TABLE, str(record["type"].get("value", "")))),
            "target": _reference(record[other],
                                 instance_link + str(record[other].get("value", ""))),
        } for record in page.records]
    return found
