"""Name-value pairs in, field values out: ``ChangeCommon.setValues``.

How the Change Management API applies the fields of a request (ServiceNow's ``ChangeCommon``
script include, a public copy, FS#33218946150; the API reference's "Fields that cannot be
modified and are ignored if passed in", https://github.com/ServiceNow/ServiceNowDocs/blob/xanadu/markdown/api-reference/rest-apis/change-management-api.md):

* a name that is not a field of the table, or a field the caller cannot write (read-only and
  system fields), is not applied and is listed in ``__meta.ignoredFields``;
* every value is taken as text (``value + ""``: ``true`` is ``"true"``, ``3`` is ``"3"``);
* a choice field takes its value or its label, exact or in any case, else the text as given
  (``resolveChoice``): ``{"state": "Scheduled"}`` and ``{"state": "assess"}`` both work, as the
  API reference and a captured session show;
* a reference field takes a sys_id or the display value of the referenced record
  (``resolveReference``);
* ``encrypted_fields`` names fields given as display values: it is not itself a field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from mock_servicenow.dictionary import Field
from mock_servicenow.domain.platform.context import Context
from mock_servicenow.store import rows

_SYS_ID = re.compile(r"^[0-9a-fA-F]{32}$")
#: Not a field: names the fields given as display values (``setValues``).
ENCRYPTED_FIELDS = "encrypted_fields"
_REFERENCE_TYPES = frozenset({"reference", "domain_id"})


@dataclass
class Assignment:
    """The storage-ready values to write and the names ``__meta.ignoredFields`` lists."""

    values: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)


def assign(ctx: Context, table: str, pairs: Mapping[str, Any], *,
           restricted: Collection[str] = ()) -> Assignment:
    """Resolve ``pairs`` for ``table``; ``restricted`` names fields ignored on this write (a
    standard change's description and plans)."""
    fields = ctx.dictionary.fields(table)
    result = Assignment()
    for name, given in pairs.items():
        if name == ENCRYPTED_FIELDS:
            continue
        fld = fields.get(name)
        if fld is None or name in restricted or not _writable(fld):
            result.ignored.append(name)
            continue
        result.values[name] = resolve(ctx, fld, as_text(given))
    return result


def _writable(fld: Field) -> bool:
    if fld.read_only or fld.name.startswith("sys_"):
        return False
    return fld.type == "journal_input" or fld.is_stored


def as_text(given: Any) -> str:
    """A JSON value as JavaScript's ``value + ""`` gives it (``null`` taken as empty)."""
    if given is None:
        return ""
    if isinstance(given, bool):
        return "true" if given else "false"
    if isinstance(given, str):
        return given
    if isinstance(given, int | float):
        return json.dumps(given)
    if isinstance(given, list):
        return ",".join(as_text(item) for item in given)
    if isinstance(given, dict):
        # A field read back from this API and sent again ({"display_value", "value"}).
        return as_text(given["value"]) if "value" in given else "[object Object]"
    return str(given)


def resolve(ctx: Context, fld: Field, text: str) -> str:
    """``resolveChoice`` / ``resolveReference`` of one value."""
    if not text:
        return text
    if fld.choices:
        return resolve_choice(fld, text)
    if fld.type in _REFERENCE_TYPES:
        return _resolve_reference(ctx, fld, text)
    return text


def resolve_choice(fld: Field, text: str) -> str:
    """The value, then the value in any case, the label, the label in any case, else
    ``text`` (non-existent choices are allowed). ``resolveChoice`` keeps a value matched in
    another case as given; the emulator stores the choice's own value, as the reference's
    ``{"type": "Standard"}`` example answers ``"value": "standard"`` (and SQLite, unlike the
    platform's database, compares case-sensitively)."""
    upper = text.upper()
    for found in ([c.value for c in fld.choices if c.value == text],
                  [c.value for c in fld.choices if c.value.upper() == upper],
                  [c.value for c in fld.choices if c.label == text],
                  [c.value for c in fld.choices if c.label.upper() == upper]):
        if found:
            return found[0]
    return text


def _resolve_reference(ctx: Context, fld: Field, text: str) -> str:
    target = fld.reference
    if fld.reference_key != "sys_id" or target is None or target not in ctx.dictionary:
        return text
    if _SYS_ID.match(text):
        return text
    display = ctx.dictionary.display_field(target)
    if display is None or display == "sys_id":
        return text
    found = rows.find_by(ctx.db, ctx.dictionary, target, **{display: text})
    return str(found[0]["sys_id"]) if found else text


def parse_template(text: str) -> dict[str, str]:
    """``field=value^field=value^EQ`` (a template's values) as a mapping; ``^^`` is a caret
    inside a value (``StdChangeUtilsSNC._parseEncodedQuery``, FS#33166697606)."""
    values: dict[str, str] = {}
    for piece in re.split(r"(?<!\^)\^(?!\^)", text or ""):
        name, sep, value = piece.partition("=")
        if sep and name and name != "EQ":
            values[name] = value.replace("^^", "^")
    return values
