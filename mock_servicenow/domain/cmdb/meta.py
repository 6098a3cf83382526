"""``GET /api/now/cmdb/meta/{className}``: a CMDB class's metadata.

Source: CMDB Meta API, https://github.com/ServiceNow/ServiceNowDocs/blob/xanadu/markdown/
api-reference/rest-apis/cmdb-meta-api.md. The result has, in the sample's order,
``icon_url``, ``is_extendable``, ``parent``, ``children`` (the classes extending it directly),
``name``, ``icon``, ``attributes``, ``relationship_rules``, ``label`` and
``identification_rules``. Each attribute is ``is_inherited``, ``is_mandatory``,
``is_read_only``, ``default_value`` (``null`` when none), ``label``, ``type``, ``element``,
``max_length``, ``is_display``, flags and lengths as strings, all from the dictionary (custom
``u_`` fields included); a reference attribute also names its table (``reference``), which
the sample, having none, does not show. ``identification_rules`` is the class's rule or the one
it derives from an ancestor (classes.json; ``{}`` when it has none). Status codes 200, 401,
404 (an unknown class) and 500; "requires that the user have the ITIL role".

Not emulated: ``relationship_rules`` (the class's hosting and containment rules: the sample's
name classes the emulator does not serve) is always ``[]``; ``icon``/``icon_url`` are
published for cmdb_ci_computer only and empty for other classes; ``parent`` of the root class
``cmdb`` is ``""``.
"""

from __future__ import annotations

from typing import Any

from mock_servicenow.dictionary import Dictionary
from mock_servicenow.dictionary.model import system_fields
from mock_servicenow.domain.cmdb import classes
from mock_servicenow.domain.platform.context import Context
from mock_servicenow.errors import RecordNotFound


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _own_elements(dictionary: Dictionary, name: str) -> set[str]:
    """Elements defined (or overridden) on ``name`` itself; the root also owns sys_* fields."""
    own = {fld.name for fld in dictionary.table(name).fields}
    if dictionary.table(name).super_class is None:
        own.update(fld.name for fld in system_fields())
        own.add("sys_class_name")
    return own


def _attributes(dictionary: Dictionary, name: str) -> list[dict[str, Any]]:
    ancestors = list(dictionary.ancestry(name))[1:]
    inherited: set[str] = set()
    for ancestor in ancestors:
        inherited |= _own_elements(dictionary, ancestor)
    shown = dictionary.display_field(name)
    attributes = []
    for element, fld in dictionary.fields(name).items():
        attribute: dict[str, Any] = {
            "is_inherited": _flag(element in inherited),
            "is_mandatory": _flag(fld.mandatory),
            "is_read_only": _flag(fld.read_only),
            "default_value": fld.default,
            "label": fld.label or element,
            "type": fld.type,
            "element": element,
            "max_length": str(fld.max_length),
            "is_display": _flag(element == shown),
        }
        if fld.type == "reference" and fld.reference:
            attribute["reference"] = fld.reference
        attributes.append(attribute)
    return attributes


def class_meta(ctx: Context, class_name: str) -> dict[str, Any]:
    """The metadata of a CMDB class; 404 for a table that is not one."""
    classes.require_api_access(ctx)
    dictionary = ctx.dictionary
    if not classes.is_cmdb_class(dictionary, class_name):
        raise RecordNotFound(f"CMDB class {class_name} does not exist")
    table = dictionary.table(class_name)
    icon, icon_url = classes.icon(class_name)
    rule = classes.rule_for(dictionary, class_name)
    return {
        "icon_url": icon_url,
        "is_extendable": table.extensible,
        "parent": table.super_class or "",
        "children": [child.name for child in dictionary if child.super_class == class_name],
        "name": class_name,
        "icon": icon,
        "attributes": _attributes(dictionary, class_name),
        "relationship_rules": [],
        "label": table.label,
        "identification_rules": dict(rule.shown) if rule is not None else {},
    }
