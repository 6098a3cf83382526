"""Records as the Change Management API writes them: ``ChangeCommon.toJS``.

Every readable field becomes ``{"display_value": <text>, "value": <value>}`` (servicenow-behaviour
§7.4; the Change Management API reference, "All elements contain value and display_value
name-value pairs. Date fields also contain display_value_internal name-value pairs",
https://github.com/ServiceNow/ServiceNowDocs/blob/xanadu/markdown/api-reference/rest-apis/change-management-api.md).
What ``toJS`` does, from ServiceNow's ``ChangeCommon`` script include (a public copy,
FS#33218946150), checked against change records captured from instances (the ServiceNow v2
integration's ``create_co_from_template_result.json`` and ``get_tasks_for_co_command.json``,
https://github.com/demisto/content/tree/HEAD/Packs/ServiceNow/Integrations/ServiceNowv2/test_data):

* ``value``: a boolean field is a JSON boolean (empty is ``false``); an integer or decimal one
  is a JSON number, or ``""`` when empty; anything else is the stored value as a string;
* ``display_value``: the field's display value (choice label, referenced record's display
  value, date-time in the user's time zone, ``"UNKNOWN"`` for an empty due date), ``""``
  when there is none (never ``null``);
* date and date-time fields add ``display_value_internal``: the date-time in the user's time
  zone in the internal ``yyyy-MM-dd HH:mm:ss`` format (``""`` when empty);
* ``sys_scope``, ``sys_replace_on_upgrade``, ``sys_policy``, ``sys_package``,
  ``sys_customer_update``, ``sys_update_name`` and ``sys_mod_count`` are left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from mock_servicenow.domain.platform.clock import GLIDE_FORMAT
from mock_servicenow.domain.platform.context import Context
from mock_servicenow.domain.table.display import ReadOptions, user_zone

#: How records are read before ``toJS`` reshapes them: every field as display and value.
ALL = ReadOptions(display_value="all", exclude_reference_link=True)

#: ``ChangeCommon.toJS``'s default excludes.
EXCLUDED = frozenset({"sys_scope", "sys_replace_on_upgrade", "sys_policy", "sys_package",
                      "sys_customer_update", "sys_update_name", "sys_mod_count"})

#: ``ChangeCommon.DATE_ELEMENT_TYPE`` (the dictionary's names for them).
DATE_TYPES = frozenset({"glide_date_time", "glide_date", "due_date", "date", "datetime"})
NUMBER_TYPES = frozenset({"integer", "decimal"})


def to_js(ctx: Context, table: str, records: Sequence[Mapping[str, Any]]
          ) -> list[dict[str, Any]]:
    """``records`` read with :data:`ALL` from ``table``, as ``toJS`` gives them."""
    fields = ctx.dictionary.fields(table)
    zone = user_zone(ctx)
    shaped: list[dict[str, Any]] = []
    for record in records:
        out: dict[str, Any] = {}
        for name, pair in record.items():
            fld = fields.get(name)
            if fld is None or name in EXCLUDED or not isinstance(pair, dict):
                continue
            raw = pair.get("value")
            text = "" if raw is None else str(raw)
            shown = pair.get("display_value")
            entry: dict[str, Any] = {
                "display_value": "" if shown is None else str(shown),
                "value": _typed(fld.type, text),
            }
            if fld.type in DATE_TYPES:
                entry["display_value_internal"] = _internal(text, zone)
            out[name] = entry
        shaped.append(out)
    return shaped


def _typed(field_type: str, text: str) -> Any:
    if field_type == "boolean":
        return text == "true"
    if field_type in NUMBER_TYPES and text:
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() and field_type == "integer" else number
    return text


def _internal(text: str, zone: Any) -> str:
    """``GlideDateTime.getDisplayValueInternal()``: the user's time zone, internal format."""
    if not text:
        return ""
    try:
        moment = datetime.strptime(text, GLIDE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return text  # a date without a time shows as stored
    return moment.astimezone(zone).strftime(GLIDE_FORMAT)
