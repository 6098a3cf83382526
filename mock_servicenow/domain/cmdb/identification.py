"""The CMDB Instance API's request envelope and the identification of a CI on insert.

The envelope (CMDB Instance API, https://github.com/ServiceNow/ServiceNowDocs/blob/australia/
markdown/api-reference/rest-apis/cmdb-instance-api.md): ``attributes`` (an object of field
values) and ``source``, "Required. Entity that updated the information. This must be one of
the choice values specified in the discovery_source field in the Configuration Item [cmdb_ci]
table". The IRE's texts for a missing or unknown source are its documented INVALID_INPUT_DATA
messages (IRE error messages, https://www.servicenow.com/docs/r/australia/servicenow-platform/
configuration-management-database-cmdb/id-engine-error-messages.html), matched exactly,
case included (KB0720501: an instance without the "Manual Entry" choice refuses it).

What live instances do with bad envelopes, from third-party clients' notes and tests written
against real instances (docs/platform-apis.md lists them): a POST without ``source`` is a 400,
a PATCH without ``attributes`` an exception about ``"attributes" is null``, and an attribute
value that is not a JSON string a ``ClassCastException`` (``class java.lang.Integer cannot be
cast to class java.lang.String``) with nothing written. The emulator gives those exceptions
the API's documented exception text (``Exception while executing request: ...``) with a 400
where the platform answers 500 (errors.RequestExecutionFailed).

Identification (IRE, https://github.com/ServiceNow/ServiceNowDocs/blob/australia/markdown/
servicenow-platform/configuration-management-database-cmdb/ire.md, c_IdentificationRules.md,
class-hardware.md): a CI whose class has an identification rule (its own or an ancestor's) is
matched against existing CIs by the rule's identifier entries in priority order, each entry
used only when the payload has all its attributes, falling back to the next when it matches
nothing ("IRE looks first for the Serial Number. Then, if a Serial Number is not found, IRE
falls back to using Name"). A match is updated instead of inserting a duplicate; no usable
entry is MISSING_MATCHING_ATTRIBUTES; several matches MULTIPLE_DUPLICATE_RECORDS. A payload
``sys_id`` identifies the CI directly (an unknown one is INVALID_INPUT_DATA). Not emulated:
lookup and related entries (their tables are not served), reconciliation rules (every source
may write every attribute), and reclassification: a match of a class outside the payload's
class is refused with RECLASSIFICATION_NOT_ALLOWED, where an instance without
reclassification restrictions would change the CI's class.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mock_servicenow.domain.cmdb import classes
from mock_servicenow.domain.platform.context import Context
from mock_servicenow.errors import IdentificationFailed, RequestExecutionFailed
from mock_servicenow.store import rows

#: Where the valid sources are: a choice list (sys_choice rows, editable at runtime).
SOURCE_TABLE, SOURCE_FIELD = "cmdb_ci", "discovery_source"
INVALID_INPUT_DATA = "INVALID_INPUT_DATA"

#: The Java class the platform reads each JSON type as (for its ClassCastException text).
_JAVA_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "java.lang.Boolean"), (int, "java.lang.Integer"), (float, "java.lang.Double"),
    (str, "java.lang.String"), (dict, "java.util.LinkedHashMap"), (list, "java.util.ArrayList"),
)
_INT_MAX = 2**31 - 1


def java_type(value: Any) -> str:
    """The Java class a JSON value is parsed into (``Long`` past the 32-bit range)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _INT_MAX:
        return "java.lang.Long"
    for kind, name in _JAVA_TYPES:
        if isinstance(value, kind):
            return name
    return "java.lang.Object"


def cast_error(value: Any, target: str) -> RequestExecutionFailed:
    """The ClassCastException of reading ``value`` as ``target``."""
    return RequestExecutionFailed(f"class {java_type(value)} cannot be cast to class {target}")


def require_source(ctx: Context, body: Mapping[str, Any]) -> str:
    """The payload's ``source``, which must be a ``cmdb_ci.discovery_source`` choice value."""
    source = body.get("source")
    if source is None or source == "":
        raise IdentificationFailed(
            INVALID_INPUT_DATA, "In payload no data source exist. You need to provide choice "
            "value from choice field [discovery_source] in table [cmdb_ci]")
    field = ctx.dictionary.field(SOURCE_TABLE, SOURCE_FIELD)
    allowed = {choice.value for choice in field.choices} if field is not None else set()
    text = source if isinstance(source, str) else json.dumps(source)
    if text not in allowed:
        raise IdentificationFailed(
            INVALID_INPUT_DATA, f"In payload invalid data source [{text}] exist. You need to "
            "provide a valid choice value from field [discovery_source] in table [cmdb_ci]")
    return text


def attributes_of(body: Mapping[str, Any]) -> dict[str, str]:
    """The payload's ``attributes`` as field values; ``null`` values clear the field."""
    given = body.get("attributes")
    if given is None:
        raise RequestExecutionFailed('"attributes" is null')
    if not isinstance(given, dict):
        raise cast_error(given, "java.util.Map")
    values: dict[str, str] = {}
    for name, value in given.items():
        if value is None:
            values[name] = ""
        elif isinstance(value, str):
            values[name] = value
        else:
            raise cast_error(value, "java.lang.String")
    return values


def payload_class(ctx: Context, class_name: str, attributes: Mapping[str, str]) -> str:
    """The class a POST creates: ``attributes.sys_class_name`` when given (the API page's
    dependent-CI sample posts to cmdb_ci_linux_server and gets a cmdb_ci_db_mssql_instance),
    else the URL's class."""
    named = attributes.get("sys_class_name")
    if not named:
        return class_name
    classes.require_class(ctx, named)
    return named


def identify(ctx: Context, class_name: str, attributes: Mapping[str, str]) -> str | None:
    """The sys_id of the existing CI this payload identifies, or ``None`` to insert it.

    Runs inside the caller's write transaction, so two identical payloads cannot both insert.
    """
    dictionary = ctx.dictionary
    given_id = attributes.get("sys_id")
    if given_id:
        found = rows.get(ctx.db, dictionary, class_name, given_id)
        if found is None:
            raise IdentificationFailed(
                INVALID_INPUT_DATA, f"Found invalid sys_id in payload. No record with sys_id "
                f"[{given_id}] exist in table [{class_name}] or is a duplicate record with "
                "[duplicate_of] field set to a main CI")
        return given_id
    rule = classes.rule_for(dictionary, class_name)
    if rule is None:
        return None
    usable = False
    for entry in rule.entries:
        if not entry.active or entry.table is not None:
            continue  # lookup entries search tables the emulator does not serve
        if any(dictionary.field(rule.applies_to, name) is None for name in entry.attributes):
            continue
        values = {name: attributes.get(name, "") for name in entry.attributes}
        if not entry.allow_null_attribute and not all(values.values()):
            continue
        usable = True
        matches = rows.find_by(ctx.db, dictionary, rule.applies_to, **values)
        if len(matches) > 1:
            raise IdentificationFailed(
                "MULTIPLE_DUPLICATE_RECORDS", f"Found duplicate records in table "
                f"[{rule.applies_to}] using fields [{','.join(entry.attributes)}]")
        if matches:
            matched = matches[0]
            matched_class = str(matched.get("sys_class_name") or rule.applies_to)
            if matched_class not in dictionary.descendants(class_name):
                raise IdentificationFailed(
                    "RECLASSIFICATION_NOT_ALLOWED", f"CI Reclassification not allowed from "
                    f"class: [{matched_class}] to [{class_name}]")
            return str(matched["sys_id"])
    if not usable:
        item = json.dumps({"className": class_name, "values": dict(attributes)},
                          separators=(",", ":"), ensure_ascii=False)
        raise IdentificationFailed(
            "MISSING_MATCHING_ATTRIBUTES", "In payload missing minimum set of input values for "
            f"criterion (matching) attributes from identify rule for table [{class_name}]. "
            f"Add these input values in payload item '{item}'")
    return None
