"""Browsing the catalog: catalogs, categories, items, an item with its variables.

Shapes, parameters and statuses follow the Service Catalog API page
(https://github.com/ServiceNow/ServiceNowDocs/blob/australia/markdown/api-reference/rest-apis/c_ServiceCatalogAPI.md),
``GET /sn_sc/servicecatalog/catalogs``, ``catalogs/{sys_id}``, ``catalogs/{sys_id}/categories``,
``categories/{sys_id}``, ``items`` and ``items/{sys_id}``. Where its examples show an order,
the emulator keeps it: catalogs and items by sys_id (the examples list Technical Catalog
``742c...`` before Service Catalog ``e0d0...``, and ``011f...`` before ``0120...``),
categories by order then title.

Who sees what is the catalog's own check, not the table ACLs (``access.py``): an active item
in an active catalog (or in none) is visible to every signed-in user; catalogs and categories
when active. User criteria ("Available for"/"Not available for") are not modelled: every
active item is available to everyone. Malformed or unknown ids, and inactive records, are
the documented 400; its message is not published, the emulator's is descriptive
(``docs/platform-apis.md``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mock_servicenow.domain.platform.context import Context
from mock_servicenow.domain.service_catalog import access, pricing
from mock_servicenow.domain.table import records
from mock_servicenow.errors import BadRequestError

CATALOG_INVALID = "Catalog not found or not accessible"
CATEGORY_INVALID = "Category not found or not accessible"
ITEM_INVALID = "Item not found or not accessible"

PRODUCER = "sc_cat_item_producer"
GUIDE = "sc_cat_item_guide"
#: ``type`` of an item by class (the API page: ``catalog_item``, ``record_producer``).
_ITEM_TYPES = {PRODUCER: "record_producer", GUIDE: "order_guide"}
#: ``sysparm_type`` values the API page accepts (any other value is ignored).
_TYPE_FILTERS = {"Record Producer": PRODUCER, "Order Guide": GUIDE}
#: The icon the API page's example shows for an item without one.
DEFAULT_ICON = "images/icons/catalog_item.gifx"

#: ``item_option_new.type`` codes the API treats specially (dictionary 30-task.json).
YES_NO, MULTIPLE_CHOICE, SELECT_BOX, CHECK_BOX = 1, 3, 5, 7
BREAK, CONTAINER_START, CONTAINER_END, CONTAINER_SPLIT = 12, 19, 20, 24
#: Layout variables: no value, not in a cart item's ``variables``.
LAYOUT_TYPES = frozenset({BREAK, CONTAINER_END, CONTAINER_SPLIT})
CONTAINER_TYPES = frozenset({CONTAINER_START, CONTAINER_END, CONTAINER_SPLIT})
CHOICE_TYPES = frozenset({MULTIPLE_CHOICE, SELECT_BOX})
#: The empty choice a variable with "Include none" offers (a captured item answer).
NONE_CHOICE = {"label": "-- None --", "value": ""}


@dataclass(frozen=True)
class ItemSearch:
    """``GET items`` parameters: ``sysparm_text``, ``sysparm_category``, ``sysparm_catalog``,
    ``sysparm_type``, ``sysparm_limit`` (default 10000), ``sysparm_offset``."""

    text: str = ""
    category: str = ""
    catalog: str = ""
    type: str = ""
    limit: int = records.DEFAULT_LIMIT
    offset: int = 0


@dataclass(frozen=True)
class Choice:
    """A ``question_choice``: the text shown, the value stored, its price effects."""

    text: str
    value: str
    price: Decimal
    recurring_price: Decimal


@dataclass(frozen=True)
class Variable:
    """An active ``item_option_new`` of an item (or of one of its variable sets)."""

    sys_id: str
    name: str
    label: str
    type: int
    type_label: str
    mandatory: bool
    read_only: bool
    default: str
    help_text: str
    attributes: str
    include_none: bool
    choices: tuple[Choice, ...]

    @property
    def is_layout(self) -> bool:
        """Breaks, container ends and splits hold no answer."""
        return self.type in LAYOUT_TYPES

    def choice(self, value: str) -> Choice | None:
        """The choice stored as ``value``."""
        return next((c for c in self.choices if c.value == value), None)

    def display(self, value: str) -> str:
        """A stored answer as the cart shows it: a choice's text, else the value."""
        found = self.choice(value)
        return found.text if found is not None else value


def variable_name(question: str) -> str:
    """The name the platform fills in for a variable without one, from its question
    ("If this field is empty, its value is auto-populated based on the Question field",
    Service Catalog variable form fields; the API page shows ``Additional software
    requirements`` named ``Additional_software_requirements``)."""
    return re.sub(r"[^0-9A-Za-z]+", "_", question).strip("_")


def friendly_type(type_label: str) -> str:
    """``friendly_type`` of a variable from its type label: ``CheckBox`` -> ``check_box``,
    ``Multi Line Text`` -> ``multi_line_text``, ``Container Start`` -> ``container_start``
    (every value the API page and captured answers show follows this rule)."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", type_label)
    return re.sub(r"[^0-9a-z]+", "_", spaced.lower()).strip("_")


# -- records ------------------------------------------------------------------------------

class _Catalog:
    """The active catalogs, categories and items, read once per use case."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.catalogs = {r["sys_id"]: r for r in
                         access.rows(ctx, "sc_catalog", "active=true^ORDERBYsys_id")}
        self.categories = {r["sys_id"]: r for r in access.rows(
            ctx, "sc_category", "active=true^ORDERBYorder^ORDERBYtitle")}
        self._items: list[dict[str, Any]] | None = None

    @property
    def items(self) -> list[dict[str, Any]]:
        """Visible items: active, in an active catalog or in none (by sys_id)."""
        if self._items is None:
            self._items = [row for row in access.rows(self.ctx, "sc_cat_item",
                                                      "active=true^ORDERBYsys_id")
                           if self.visible(row)]
        return self._items

    def visible(self, item: Mapping[str, Any]) -> bool:
        """The item's ``canView()``: active, and in at least one active catalog when it names
        catalogs (user criteria are not modelled)."""
        if str(item.get("active")) != "true":
            return False
        named = _ids(item.get("sc_catalogs"))
        return not named or any(c in self.catalogs for c in named)

    def require(self, table: str, sys_id: str) -> dict[str, Any]:
        """The active catalog or category ``sys_id``; the documented 400 otherwise."""
        if table == "sc_catalog":
            found, message = self.catalogs.get(sys_id), CATALOG_INVALID
        else:
            found, message = self.categories.get(sys_id), CATEGORY_INVALID
        if found is None:
            raise BadRequestError(message)
        return found

    def ref(self, table: str, sys_id: str) -> dict[str, Any]:
        """``{"sys_id", "title"}`` of a catalog or category (title ``None`` when unknown)."""
        known = (self.catalogs if table == "sc_catalog" else self.categories).get(sys_id)
        return {"sys_id": sys_id, "title": known.get("title") if known else None}

    def children(self, category_id: str) -> list[dict[str, Any]]:
        """Active direct subcategories."""
        return [c for c in self.categories.values() if c.get("parent") == category_id]

    def count(self, category_id: str) -> int:
        """Visible items whose category is ``category_id``."""
        return sum(1 for item in self.items if item.get("category") == category_id)


def _ids(value: object) -> list[str]:
    return [part.strip() for part in str(value or "").split(",") if part.strip()]


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _nullable(value: object) -> str | None:
    text = _text(value)
    return text or None


def _flag(value: object) -> bool:
    return str(value).lower() == "true"


# -- catalogs -----------------------------------------------------------------------------

def _catalog_summary(catalog: _Catalog, row: Mapping[str, Any]) -> dict[str, Any]:
    sys_id = row["sys_id"]
    return {
        "title": _text(row.get("title")),
        "sys_id": sys_id,
        "has_categories": any(c.get("sc_catalog") == sys_id
                              for c in catalog.categories.values()),
        "has_items": any(sys_id in _ids(i.get("sc_catalogs")) for i in catalog.items),
        "description": _text(row.get("description")),
        "desktop_image": _text(row.get("desktop_image")),
    }


def list_catalogs(ctx: Context, *, text: str = "",
                  limit: int = records.DEFAULT_LIMIT, offset: int = 0) -> list[dict[str, Any]]:
    """``GET catalogs``: the active catalogs, ``sysparm_text`` matching their title."""
    catalog = _Catalog(access.as_platform(ctx))
    wanted = text.strip().lower()
    found = [row for row in catalog.catalogs.values()
             if wanted in _text(row.get("title")).lower()]
    return [_catalog_summary(catalog, row) for row in _page(found, limit, offset)]


def get_catalog(ctx: Context, sys_id: str) -> dict[str, Any]:
    """``GET catalogs/{sys_id}``: the catalog and its top-level categories; 400 when unknown
    or inactive."""
    catalog = _Catalog(access.as_platform(ctx))
    summary = _catalog_summary(catalog, catalog.require("sc_catalog", sys_id))
    categories = [{"header_image": _text(c.get("header_icon")), "sys_id": c["sys_id"],
                   "description": _nullable(c.get("description")),
                   "title": _text(c.get("title"))}
                  for c in catalog.categories.values()
                  if c.get("sc_catalog") == sys_id and not c.get("parent")]
    return {"title": summary["title"], "sys_id": sys_id,
            "has_categories": summary["has_categories"], "categories": categories,
            "has_items": summary["has_items"], "description": summary["description"],
            "desktop_image": summary["desktop_image"]}


# -- categories ---------------------------------------------------------------------------

def _subcategories(catalog: _Catalog, category_id: str) -> list[dict[str, str]]:
    return [{"sys_id": c["sys_id"], "title": _text(c.get("title"))}
            for c in catalog.children(category_id)]


def _category_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"title": _text(row.get("title")), "description": _text(row.get("description")),
            "full_description": None, "icon": _text(row.get("icon")),
            "header_icon": _text(row.get("header_icon")),
            "homepage_image": _text(row.get("homepage_image"))}


def catalog_categories(ctx: Context, catalog_id: str, *, top_level_only: bool = False,
                       limit: int = records.DEFAULT_LIMIT,
                       offset: int = 0) -> list[dict[str, Any]]:
    """``GET catalogs/{sys_id}/categories``: the catalog's active categories (only those
    whose parent is the catalog with ``sysparm_top_level_only=true``); 400 for an unknown or
    inactive catalog."""
    catalog = _Catalog(access.as_platform(ctx))
    catalog.require("sc_catalog", catalog_id)
    found = [c for c in catalog.categories.values() if c.get("sc_catalog") == catalog_id
             and not (top_level_only and c.get("parent"))]
    return [{**_category_fields(c), "count": catalog.count(c["sys_id"]),
             "subcategories": _subcategories(catalog, c["sys_id"]), "sys_id": c["sys_id"]}
            for c in _page(found, limit, offset)]


def get_category(ctx: Context, sys_id: str) -> dict[str, Any]:
    """``GET categories/{sys_id}``: the category with its child categories; 400 when unknown
    or inactive."""
    catalog = _Catalog(access.as_platform(ctx))
    row = catalog.require("sc_category", sys_id)
    children = [{"sys_id": c["sys_id"], "title": _text(c.get("title")),
                 "count": catalog.count(c["sys_id"]), "parent": sys_id,
                 "subcategories": _subcategories(catalog, c["sys_id"]),
                 "isParentCategory": bool(catalog.children(c["sys_id"]))}
                for c in catalog.children(sys_id)]
    return {**_category_fields(row), "sys_id": sys_id, "child_categories": children}


# -- items --------------------------------------------------------------------------------

def _matches(item: Mapping[str, Any], search: ItemSearch) -> bool:
    if search.catalog and search.catalog not in _ids(item.get("sc_catalogs")):
        return False
    if search.category and item.get("category") != search.category:
        return False
    wanted = _TYPE_FILTERS.get(search.type.strip())
    if wanted is not None and item.get("sys_class_name") != wanted:
        return False
    terms = search.text.lower().split()
    if terms:
        haystack = " ".join(_text(item.get(f)) for f in
                            ("name", "short_description", "description", "meta")).lower()
        return all(term in haystack for term in terms)
    return True


def _prices(item: Mapping[str, Any]) -> dict[str, Any]:
    """The pricing pairs an item shows when ``show_price`` (API page, ``items/{sys_id}``)."""
    price, recurring = pricing.amount(item.get("price")), pricing.amount(
        item.get("recurring_price"))
    return {"price": pricing.money(price), "localized_price": pricing.money(price),
            "price_currency": pricing.CURRENCY, "local_currency": pricing.CURRENCY,
            "recurring_price": pricing.money(recurring),
            "localized_recurring_price": pricing.money(recurring),
            "recurring_price_currency": pricing.CURRENCY,
            "recurring_frequency": pricing.frequency_label(
                _text(item.get("recurring_frequency")) if recurring else "")}


def shows_price(item: Mapping[str, Any]) -> bool:
    """Items with a price or recurring price show it, unless they omit it (``omit_price``)."""
    if _flag(item.get("omit_price")):
        return False
    return bool(pricing.amount(item.get("price")) or pricing.amount(item.get("recurring_price")))


def _item_summary(catalog: _Catalog, item: Mapping[str, Any]) -> dict[str, Any]:
    show_price = shows_price(item)
    category = _text(item.get("category"))
    summary: dict[str, Any] = {
        "short_description": _nullable(item.get("short_description")),
        "kb_article": "",
        "icon": _text(item.get("icon")) or DEFAULT_ICON,
        "description": _text(item.get("description")),
        "show_price": show_price,
        "type": _ITEM_TYPES.get(_text(item.get("sys_class_name")), "catalog_item"),
        "show_quantity": not _flag(item.get("no_quantity")),
        "sys_class_name": _text(item.get("sys_class_name")) or "sc_cat_item",
        "picture": _text(item.get("picture")),
        "url": "",
        "sys_id": item["sys_id"],
        "content_type": "",
        "catalogs": [catalog.ref("sc_catalog", c) for c in _ids(item.get("sc_catalogs"))],
        "name": _text(item.get("name")),
        "category": catalog.ref("sc_category", category) if category
        else {"sys_id": "", "title": None},
        "order": int(item.get("order") or 0),
    }
    if show_price:
        summary.update(_prices(item))
    return summary


def list_items(ctx: Context, search: ItemSearch) -> list[dict[str, Any]]:
    """``GET items``: visible items matching ``sysparm_text`` (every word in the name,
    short description, description or meta keywords), ``sysparm_category`` (the item's
    category), ``sysparm_catalog`` and ``sysparm_type``; paged by limit and offset."""
    catalog = _Catalog(access.as_platform(ctx))
    found = [item for item in catalog.items if _matches(item, search)]
    return [_item_summary(catalog, item) for item in _page(found, search.limit, search.offset)]


def get_item(ctx: Context, sys_id: str) -> dict[str, Any]:
    """``GET items/{sys_id}``: the item, its category path and its variables (with their
    types, labels, choices, mandatory flags and defaults); 400 when unknown or not visible."""
    sysctx = access.as_platform(ctx)
    catalog = _Catalog(sysctx)
    item = viewable_item(sysctx, sys_id, catalog)
    if item is None:
        raise BadRequestError(ITEM_INVALID)
    answer = _item_summary(catalog, item)
    answer["categories"] = _category_path(catalog, _text(item.get("category")))
    answer["variables"] = render_variables(item_variables(sysctx, sys_id))
    answer["ui_policy"] = []
    answer["client_script"] = {"onChange": [], "onSubmit": [], "onLoad": []}
    answer["data_lookup"] = []
    answer["mandatory_attachment"] = _flag(item.get("mandatory_attachment"))
    answer["request_method"] = _text(item.get("request_method"))
    answer["availability"] = _text(item.get("availability"))
    return answer


def _category_path(catalog: _Catalog, category_id: str) -> list[dict[str, Any]]:
    """``categories`` of an item: its category under its top-level ancestor (the API page:
    Tablets under Hardware)."""
    row = catalog.categories.get(category_id)
    if row is None:
        return []
    root, seen = row, {category_id}
    while root.get("parent") in catalog.categories and root["parent"] not in seen:
        seen.add(root["parent"])
        root = catalog.categories[root["parent"]]
    return [{"sys_id": root["sys_id"], "active": True,
             "category": {"sys_id": category_id, "active": True,
                          "title": _text(row.get("title"))},
             "title": _text(root.get("title"))}]


def viewable_item(ctx: Context, sys_id: str,
                  catalog: _Catalog | None = None) -> dict[str, Any] | None:
    """The item ``sys_id`` when the caller can view it (``ctx`` from
    :func:`access.as_platform`), else ``None``."""
    item = access.one(ctx, "sc_cat_item", sys_id)
    if item is None:
        return None
    return item if (catalog or _Catalog(ctx)).visible(item) else None


# -- variables ----------------------------------------------------------------------------

def item_variables(ctx: Context, item_id: str) -> list[Variable]:
    """The item's active variables and those of its variable sets (``io_set_item``), by
    order, with their active choices (``ctx`` from :func:`access.as_platform`)."""
    sets = [r.get("variable_set") for r in
            access.rows(ctx, "io_set_item", f"sc_cat_item={item_id}")]
    query = f"cat_item={item_id}"
    if sets:
        query += f"^ORvariable_setIN{access.in_list([str(s) for s in sets if s])}"
    found = access.rows(ctx, "item_option_new", f"active=true^{query}^ORDERBYorder")
    choices: dict[str, list[Choice]] = {}
    if found:
        for row in access.rows(ctx, "question_choice",
                               f"questionIN{access.in_list([v['sys_id'] for v in found])}"
                               "^inactive=false^ORDERBYorder"):
            choices.setdefault(str(row.get("question")), []).append(Choice(
                text=_text(row.get("text")), value=_text(row.get("value")),
                price=pricing.amount(row.get("price")),
                recurring_price=pricing.amount(row.get("recurring_price"))))
    type_labels = _type_labels(ctx)
    variables = []
    for row in found:
        code = int(row.get("type") or 6)
        variables.append(Variable(
            sys_id=row["sys_id"], name=_text(row.get("name"))
            or variable_name(_text(row.get("question_text"))),
            label=_text(row.get("question_text")), type=code,
            type_label=type_labels.get(str(code), ""), mandatory=_flag(row.get("mandatory")),
            read_only=_flag(row.get("read_only")), default=_text(row.get("default_value")),
            help_text=_text(row.get("help_text")), attributes=_text(row.get("attributes")),
            include_none=_flag(row.get("include_none")),
            choices=tuple(choices.get(row["sys_id"], ()))))
    return variables


def _type_labels(ctx: Context) -> dict[str, str]:
    fld = ctx.dictionary.field("item_option_new", "type")
    return {c.value: c.label for c in fld.choices} if fld is not None else {}


def _choice_list(variable: Variable) -> list[dict[str, str]] | None:
    if variable.type == YES_NO:
        listed = [{"label": "Yes", "value": "Yes"}, {"label": "No", "value": "No"}]
    elif variable.type in CHOICE_TYPES:
        listed = [{"label": c.text, "value": c.value} for c in variable.choices]
    else:
        return None
    return [dict(NONE_CHOICE), *listed] if variable.include_none else listed


def _render_variable(variable: Variable) -> dict[str, Any]:
    """One variable as the API page shows them (``submit_guide`` example): label, type,
    mandatory, the default as ``value``/``displayvalue``, ``friendly_type``..."""
    is_box = variable.type == CHECK_BOX
    default = variable.default
    shown: dict[str, Any] = {
        "label": variable.label,
        "type": variable.type,
        "mandatory": variable.mandatory,
        "displayvalue": ("true" if default.lower() == "true" else "false") if is_box
        else variable.display(default),
        "friendly_type": friendly_type(variable.type_label),
    }
    if variable.type not in CONTAINER_TYPES:
        shown["display_type"] = variable.type_label
    shown.update({"render_label": True, "read_only": variable.read_only})
    if is_box:
        shown["pricing_implications"] = False
    shown.update({"name": variable.name, "attributes": variable.attributes,
                  "id": variable.sys_id,
                  "value": default.lower() == "true" if is_box else default,
                  "help_text": variable.help_text, "max_length": 0})
    choices = _choice_list(variable)
    if choices is not None:
        shown["choices"] = choices
    return shown


def render_variables(variables: Sequence[Variable]) -> list[dict[str, Any]]:
    """The item's ``variables``: a container start holds the variables up to its container
    end as ``children``; ends, breaks and splits are not shown."""
    top: list[dict[str, Any]] = []
    stack: list[list[dict[str, Any]]] = [top]
    for variable in variables:
        if variable.type == CONTAINER_END:
            if len(stack) > 1:
                stack.pop()
            continue
        if variable.is_layout:
            continue
        shown = _render_variable(variable)
        stack[-1].append(shown)
        if variable.type == CONTAINER_START:
            shown["children"] = []
            stack.append(shown["children"])
    return top


def _page(found: Iterable[dict[str, Any]], limit: int, offset: int) -> list[dict[str, Any]]:
    rows = list(found)
    start = max(offset, 0)
    return rows[start:start + max(limit, 0)] if limit > 0 else rows[start:]
