"""CMDB classes: which tables the CMDB APIs serve, who may call them, and class metadata that
is data (``mock_servicenow/data/cmdb/classes.json``: identification rules and icons).

Sources:

* CMDB Instance API, https://github.com/ServiceNow/ServiceNowDocs/blob/australia/markdown/
  api-reference/rest-apis/cmdb-instance-api.md: ``className`` is "the name of the table that
  contains the desired CI records"; "This API requires the user have the ITIL role". The
  CMDB Meta API (cmdb-meta-api.md) says the same of itself.
* A REST API's role requirement is a REST_Endpoint ACL; failing it is 403 ``User Not
  Authorized`` / ``Failed API level ACL Validation`` (servicenow-behaviour §1.5).
* Identification rules: "If no identification rule is explicitly defined for a child class,
  then the child class derives its identification rule ... from its parent class"
  (configuration-management-database-cmdb/c_IdentificationRules.md).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mock_servicenow.dictionary import Dictionary, DictionaryError
from mock_servicenow.dictionary.loader import read_document
from mock_servicenow.domain.platform.context import Context
from mock_servicenow.errors import InvalidTable, NotACmdbClass, NotAuthorized

#: The top of the CMDB hierarchy ("Base Configuration Item"; cmdb_ci extends it).
CMDB_ROOT = "cmdb"
#: The role both CMDB APIs require (their pages: "requires the user have the ITIL role").
API_ROLE = "itil"
DATA_FILE = Path(__file__).resolve().parents[2] / "data" / "cmdb" / "classes.json"
FORMAT = "mock-servicenow-cmdb/1"


@dataclass(frozen=True)
class IdentifierEntry:
    """One identifier entry of a rule: criterion attributes searched together; ``table`` is a
    lookup table (``None``: the CI's own attributes)."""

    attributes: tuple[str, ...]
    table: str | None
    order: int
    active: bool
    allow_null_attribute: bool


@dataclass(frozen=True)
class IdentificationRule:
    """A CI identification rule: its class, its entries by priority, and the rule as the CMDB
    Meta API prints it (``shown``)."""

    applies_to: str
    name: str
    active: bool
    entries: tuple[IdentifierEntry, ...]
    shown: Mapping[str, Any]


@dataclass(frozen=True)
class ClassData:
    """Everything ``classes.json`` holds, parsed once per process."""

    rules: Mapping[str, IdentificationRule]
    icons: Mapping[str, tuple[str, str]]


class ClassDataError(ValueError):
    """``classes.json`` is not what its format says (seen at the first CMDB request)."""


@functools.cache
def class_data(path: Path = DATA_FILE) -> ClassData:
    """The identification rules (by the class they apply to) and icons of ``path``."""
    try:
        document = read_document(path, FORMAT)
    except DictionaryError as exc:
        raise ClassDataError(str(exc)) from None
    rules: dict[str, IdentificationRule] = {}
    for item in document.get("identification_rules", ()):
        shown = item["rule"]
        entries = tuple(sorted(
            (IdentifierEntry(
                attributes=tuple(a.strip() for a in str(entry["attributes"]).split(",")
                                 if a.strip()),
                table=entry.get("table") or None, order=int(entry["order"]),
                active=bool(entry.get("active", True)),
                allow_null_attribute=bool(entry.get("allow_null_attribute", False)))
             for entry in shown.get("identifiers", ())),
            key=lambda entry: entry.order))
        rules[shown["applies_to"]] = IdentificationRule(
            applies_to=shown["applies_to"], name=shown["name"],
            active=bool(shown.get("active", True)), entries=entries, shown=shown)
    icons = {name: (str(icon.get("icon", "")), str(icon.get("icon_url", "")))
             for name, icon in document.get("icons", {}).items()}
    return ClassData(rules=rules, icons=icons)


def require_api_access(ctx: Context) -> None:
    """403 ``User Not Authorized`` / ``Failed API level ACL Validation`` without ``itil``
    (admins pass every role check)."""
    if not ctx.user.has_role(API_ROLE):
        raise NotAuthorized("Failed API level ACL Validation")


def is_cmdb_class(dictionary: Dictionary, name: str) -> bool:
    """True for ``cmdb`` and every table extending it."""
    return name in dictionary and CMDB_ROOT in dictionary.ancestry(name)


def require_class(ctx: Context, name: str) -> None:
    """400 ``Invalid table <name>`` for an unknown table or one outside the CMDB (inferred
    text, errors.NotACmdbClass)."""
    if name not in ctx.dictionary:
        raise InvalidTable(name)
    if not is_cmdb_class(ctx.dictionary, name):
        raise NotACmdbClass(name)


def rule_for(dictionary: Dictionary, name: str) -> IdentificationRule | None:
    """The active identification rule of ``name`` or of its nearest ancestor that has one."""
    rules = class_data().rules
    for table in dictionary.ancestry(name):
        rule = rules.get(table)
        if rule is not None:
            return rule if rule.active else None
    return None


def icon(name: str) -> tuple[str, str]:
    """``(icon sys_id, icon URL)`` of a class; empty strings where none is published."""
    return class_data().icons.get(name, ("", ""))
