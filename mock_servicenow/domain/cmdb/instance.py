"""The CMDB Instance API's use cases: list the CIs of a class, read one with its relations,
create one (identified first), update one, add and delete relations.

Source: CMDB Instance API, https://github.com/ServiceNow/ServiceNowDocs/blob/australia/
markdown/api-reference/rest-apis/cmdb-instance-api.md.

* The listing is ``[{"sys_id", "name"}]`` (``sysparm_query``, ``sysparm_limit`` default
  10000, ``sysparm_offset``; the limit applies before ACLs, as the page says).
* A CI is ``{"outbound_relations", "attributes", "inbound_relations"}`` in that order (the
  samples); ``attributes`` holds every field of the class, raw values as strings, a filled
  reference as ``{"display_value", "link", "value"}`` and an empty one as ``""``.
* POST creates one CI (with its relations) after identification
  (:mod:`.identification`): ``discovery_source`` takes the ``source``, ``first_discovered``
  and ``last_discovered`` the time of the insert (the POST sample's record). PUT and PATCH
  both update only the attributes given ("This endpoint does not remove non-specified
  elements") and never relations; ``discovery_source`` takes the ``source`` even over an
  attribute of that name, ``last_discovered`` the time (the PUT sample: ``ServiceNows`` sent,
  ``ServiceNow`` stored).
* ``POST /{sys_id}/relation`` adds relations and answers the CI; ``DELETE
  /{sys_id}/relation/{rel_sys_id}`` answers nothing.

Every write runs in one transaction: a request that fails half-way (a bad relation after the
CI was identified) leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mock_servicenow.domain.cmdb import classes, identification, relations
from mock_servicenow.domain.platform.context import Context
from mock_servicenow.domain.table import records
from mock_servicenow.store.db import write_transaction

#: ``sysparm_limit`` default (the page: "Default: 10000").
DEFAULT_LIMIT = records.DEFAULT_LIMIT
_LISTING = records.ReadOptions(fields=("sys_id", "name"))
_ATTRIBUTES = records.ReadOptions(display_value="all")
_SYS_ID_ONLY = records.ReadOptions(fields=("sys_id",))
#: Attributes that never reach the record: the engine's keys, not fields to write.
_NOT_WRITTEN = frozenset({"sys_id", "sys_class_name"})


def _checked(ctx: Context, class_name: str) -> None:
    classes.require_api_access(ctx)
    classes.require_class(ctx, class_name)


def list_cis(ctx: Context, class_name: str, query: str = "", limit: int = DEFAULT_LIMIT,
             offset: int = 0) -> list[dict[str, Any]]:
    """``GET /cmdb/instance/{className}``: ``sys_id`` and ``name`` of each CI of the page."""
    _checked(ctx, class_name)
    page = records.list_records(ctx, class_name,
                                records.ListQuery(query=query, limit=limit, offset=offset,
                                                  no_count=True),
                                _LISTING, web_service=True)
    return page.records


def _attribute(value: Any) -> Any:
    """A field of ``sysparm_display_value=all`` as the API shows it."""
    if not isinstance(value, dict):
        return value
    if "link" in value:
        return {"display_value": value.get("display_value"), "link": value["link"],
                "value": value.get("value")}
    return value.get("value")


def get_ci(ctx: Context, class_name: str, sys_id: str) -> dict[str, Any]:
    """``GET /cmdb/instance/{className}/{sys_id}``: 404 for a CI that is not of the class or
    that the user may not read (the Table API's ``No Record found``)."""
    _checked(ctx, class_name)
    return _read(ctx, class_name, sys_id)


def _read(ctx: Context, class_name: str, sys_id: str) -> dict[str, Any]:
    record = records.get_record(ctx, class_name, sys_id, _ATTRIBUTES, web_service=True)
    related = relations.read(ctx, sys_id)
    return {"outbound_relations": related["outbound_relations"],
            "attributes": {name: _attribute(value) for name, value in record.items()},
            "inbound_relations": related["inbound_relations"]}


def _values(attributes: Mapping[str, str], source: str, now: str) -> dict[str, str]:
    values = {name: value for name, value in attributes.items() if name not in _NOT_WRITTEN}
    values.update(discovery_source=source, last_discovered=now)
    return values


def create_ci(ctx: Context, class_name: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """``POST /cmdb/instance/{className}``: the CI inserted, or updated when identification
    finds it, with the body's relations; answers the CI as a GET does."""
    _checked(ctx, class_name)
    source = identification.require_source(ctx, body)
    attributes = identification.attributes_of(body)
    target_class = identification.payload_class(ctx, class_name, attributes)
    with write_transaction(ctx.db):
        wanted = relations.resolve(ctx, body)
        now = ctx.now_glide()
        values = _values(attributes, source, now)
        matched = identification.identify(ctx, target_class, attributes)
        if matched is None:
            values["first_discovered"] = now
            created = records.create_record(ctx, target_class, values, options=_SYS_ID_ONLY,
                                            web_service=True)
            sys_id = str(created["sys_id"])
        else:
            records.update_record(ctx, target_class, matched, values, options=_SYS_ID_ONLY,
                                  web_service=True)
            sys_id = matched
        relations.write(ctx, sys_id, wanted)
    return _read(ctx, target_class, sys_id)


def update_ci(ctx: Context, class_name: str, sys_id: str,
              body: Mapping[str, Any]) -> dict[str, Any]:
    """``PUT``/``PATCH /cmdb/instance/{className}/{sys_id}``: the attributes given, nothing
    else; 404 for a CI that is not of the class."""
    _checked(ctx, class_name)
    attributes = identification.attributes_of(body)
    source = identification.require_source(ctx, body)
    records.update_record(ctx, class_name, sys_id, _values(attributes, source, ctx.now_glide()),
                          options=_SYS_ID_ONLY, web_service=True)
    return _read(ctx, class_name, sys_id)


def add_relations(ctx: Context, class_name: str, sys_id: str,
                  body: Mapping[str, Any]) -> dict[str, Any]:
    """``POST /cmdb/instance/{className}/{sys_id}/relation``: the CI is the parent of its
    outbound relations and the child of its inbound ones; answers the CI."""
    _checked(ctx, class_name)
    with write_transaction(ctx.db):
        records.get_record(ctx, class_name, sys_id, _SYS_ID_ONLY, web_service=True)
        identification.require_source(ctx, body)
        relations.write(ctx, sys_id, relations.resolve(ctx, body))
    return _read(ctx, class_name, sys_id)


def delete_relation(ctx: Context, class_name: str, sys_id: str, rel_sys_id: str) -> None:
    """``DELETE /cmdb/instance/{className}/{sys_id}/relation/{rel_sys_id}``: 404 unless the
    CI is of the class and the relation is one of its own."""
    _checked(ctx, class_name)
    with write_transaction(ctx.db):
        records.get_record(ctx, class_name, sys_id, _SYS_ID_ONLY, web_service=True)
        relations.remove(ctx, sys_id, rel_sys_id)
