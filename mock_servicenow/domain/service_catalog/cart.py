"""The cart and ordering: ``order_now``, ``add_to_cart``, ``cart``, checkout and submit.

Sources: the Service Catalog API page
(https://github.com/ServiceNow/ServiceNowDocs/blob/australia/markdown/api-reference/rest-apis/c_ServiceCatalogAPI.md),
the CartJS API it runs on
(https://github.com/ServiceNow/ServiceNowDocs/blob/australia/markdown/api-reference/server-api-reference/c_CartJSScoped.md),
the ``order_now`` resource's script as KB0717979 prints it, and the Request Management
architecture page
(https://github.com/ServiceNow/ServiceNowDocs/blob/australia/markdown/it-service-management/request-management/request-management-architecture.md).

* A user has a default cart (``sc_cart`` named ``DEFAULT``); ``order_now`` uses a cart of its
  own, ``cart_<item sys_id>`` (the KB script), so the default cart is left alone.
* Every request first checks, in the script's order: the quantity (``'' + sysparm_quantity``
  must match ``/^\\+?([0-9]*)$/``, else 400 ``Invalid Quantity value``), that the user can view
  the item (else 400 ``Security constraints prevent ordering of Item``), the item's mandatory
  variables unless ``sysparm_no_validation`` is ``"true"`` (RestCatalogUtil's rule: a check box
  must be ``"true"``, anything else non-empty; else 400 ``Mandatory Variables are required``);
  a failure of the cart itself is 404 ``Invalid Request``.
* An answer is stored per variable in ``sc_item_option`` against the cart item; at checkout
  the request (``sc_request``, ``REQ...``) and one requested item per cart item
  (``sc_req_item``, ``RITM...``) are created, each option is linked to its requested item by
  ``sc_item_option_mtom`` ("The variables are saved in the Options [sc_item_option] and
  Variable Ownership [sc_item_option_mtom] tables"), and the cart items are removed.
* With ``glide.sc.checkout.twostep`` true, ``order_now`` only fills its cart and answers its
  ``cart_id``, ``checkout`` answers the order summary, and ``submit_order`` places the order.
* No workflow or flow runs: the request and its items keep their dictionary defaults (stage,
  approval) and no catalog task (``sc_task``) is created; see ``docs/platform-apis.md``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from mock_servicenow.dictionary.values import to_storage
from mock_servicenow.domain.platform.context import Context, Principal
from mock_servicenow.domain.service_catalog import access, catalog, pricing
from mock_servicenow.domain.service_catalog.catalog import Variable
from mock_servicenow.domain.table import records
from mock_servicenow.domain.table.display import ReadOptions
from mock_servicenow.errors import BadRequestError, NotFoundError
from mock_servicenow.store import rows as stored_rows
from mock_servicenow.store.db import write_transaction

INVALID_QUANTITY = "Invalid Quantity value"
NOT_ORDERABLE = "Security constraints prevent ordering of Item"
MANDATORY_MISSING = "Mandatory Variables are required"
INVALID_REQUEST = "Invalid Request"
#: The message the catalog shows for an empty cart (the platform's checkout script).
EMPTY_CART = "Cannot check out with an empty cart!"
#: get_invalid_delegated_users's message for an item without Requested For (API page).
NOT_FOR_MULTIPLE = ("This item cannot be submitted for multiple people as it is not "
                    "configured with Requested For")
CART_ITEM_INVALID = "Cart item not found or not accessible"
CART_INVALID = "Cart not found or not accessible"

DEFAULT_CART = "DEFAULT"
_QUANTITY = re.compile(r"\+?([0-9]*)")
#: Java int: a larger quantity fails inside the cart (404 Invalid Request).
_MAX_QUANTITY = 2**31 - 1
_IDS = ReadOptions(exclude_reference_link=True, fields=("sys_id", "number"))
#: Variables that hold no answer (labels and layout): no ``sc_item_option``.
_ANSWERLESS = frozenset({11, 12, 19, 20, 24, 32})
_MISSING = object()


# -- request bodies -----------------------------------------------------------------------

def _js_text(value: object) -> str:
    """``'' + value`` in the platform's JavaScript."""
    if value is _MISSING:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    if isinstance(value, list):
        return ",".join("" if v is None else _js_text(v) for v in value)
    if isinstance(value, dict):
        return "[object Object]"
    return str(value)


def _truthy(value: object) -> bool:
    """JavaScript truthiness of a JSON value."""
    if value is None or value is _MISSING:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0 and not (isinstance(value, float) and math.isnan(value))
    if isinstance(value, str):
        return value != ""
    return True


def _answer_text(value: object) -> str:
    """A variable's answer as stored in ``sc_item_option.value``."""
    if value is None or value is _MISSING:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    return _js_text(value)


def quantity(value: object) -> int:
    """``sysparm_quantity``: the script's test, then a positive number that fits the cart
    (``""`` is the cart's default 1; ``0`` is refused, as ``checkout_guide`` documents)."""
    text = _js_text(value)
    match = _QUANTITY.fullmatch(text)
    if match is None:
        raise BadRequestError(INVALID_QUANTITY)
    digits = match.group(1)
    if not digits:
        return 1
    number = int(digits)
    if number == 0:
        raise BadRequestError(INVALID_QUANTITY)
    if number > _MAX_QUANTITY:
        raise NotFoundError(INVALID_REQUEST)
    return number


@dataclass(frozen=True)
class ItemRequest:
    """The body of ``order_now``, ``add_to_cart`` and ``PUT cart/{cart_item_id}``: the JSON
    values as sent (their coercion is the platform's, above)."""

    quantity: object = _MISSING
    variables: Mapping[str, Any] = field(default_factory=dict)
    requested_for: object = _MISSING
    also_request_for: object = _MISSING
    no_validation: bool = False

    @classmethod
    def from_body(cls, body: object) -> ItemRequest:
        """Any JSON: an object names the parameters; anything else names none (so the
        quantity is ``undefined``); an array stands for its first element."""
        if isinstance(body, list):
            body = body[0] if body else None
        if not isinstance(body, dict):
            return cls()
        variables = body.get("variables")
        return cls(quantity=body.get("sysparm_quantity", _MISSING),
                   variables=variables if isinstance(variables, dict) else {},
                   requested_for=body.get("sysparm_requested_for", _MISSING),
                   also_request_for=body.get("sysparm_also_request_for", _MISSING),
                   no_validation=body.get("sysparm_no_validation") == "true")


@dataclass(frozen=True)
class SubmitRequest:
    """``cart/submit_order``'s optional details (CartJS ``submitOrder``): ``requested_for``,
    ``special_instructions``, ``delivery_address``."""

    requested_for: object = _MISSING
    special_instructions: object = _MISSING
    delivery_address: object = _MISSING

    @classmethod
    def from_body(cls, body: object) -> SubmitRequest:
        """The JSON object's fields (``sysparm_requested_for`` also names the user)."""
        if isinstance(body, list):
            body = body[0] if body else None
        if not isinstance(body, dict):
            return cls()
        return cls(requested_for=body.get("requested_for",
                                          body.get("sysparm_requested_for", _MISSING)),
                   special_instructions=body.get("special_instructions", _MISSING),
                   delivery_address=body.get("delivery_address", _MISSING))


# -- lines of a cart ----------------------------------------------------------------------

@dataclass
class _Line:
    """One cart item with its catalog item, variables and answers."""

    row: dict[str, Any]
    item: dict[str, Any]
    variables: list[Variable]
    options: list[dict[str, Any]]

    @property
    def sys_id(self) -> str:
        return str(self.row["sys_id"])

    @property
    def quantity(self) -> int:
        try:
            return max(int(self.row.get("quantity") or 1), 0)
        except ValueError:
            return 1

    @property
    def answers(self) -> dict[str, str]:
        """Answers by variable sys_id."""
        return {str(o.get("item_option_new")): str(o.get("value") or "") for o in self.options}

    def _chosen(self) -> list[catalog.Choice]:
        answers = self.answers
        chosen = []
        for variable in self.variables:
            picked = variable.choice(answers.get(variable.sys_id, ""))
            if picked is not None:
                chosen.append(picked)
        return chosen

    @property
    def base_price(self) -> Decimal:
        return pricing.amount(self.item.get("price"))

    @property
    def base_recurring(self) -> Decimal:
        return pricing.amount(self.item.get("recurring_price"))

    @property
    def price(self) -> Decimal:
        """The item's price plus its selected choices' (variable pricing)."""
        return self.base_price + sum((c.price for c in self._chosen()), pricing.ZERO)

    @property
    def recurring_price(self) -> Decimal:
        return self.base_recurring + sum((c.recurring_price for c in self._chosen()),
                                         pricing.ZERO)

    @property
    def frequency(self) -> str:
        """The item's recurring frequency value, ``""`` without a recurring price."""
        return str(self.item.get("recurring_frequency") or "") if self.recurring_price else ""

    @property
    def show_price(self) -> bool:
        return catalog.shows_price(self.item)

    def variables_shown(self) -> dict[str, str]:
        """``variables`` of a cart item: question -> answer as shown (choice texts)."""
        answers = self.answers
        return {v.label: v.display(answers.get(v.sys_id, "")) for v in self.variables
                if not v.is_layout}


def _lines(ctx: Context, cart_id: str) -> list[_Line]:
    rows = access.rows(ctx, "sc_cart_item",
                       f"cart={cart_id}^ORDERBYsys_created_on^ORDERBYsys_id")
    if not rows:
        return []
    item_ids = {str(r.get("cat_item")) for r in rows}
    items = {i["sys_id"]: i for i in access.rows(
        ctx, "sc_cat_item", f"sys_idIN{access.in_list(item_ids)}")}
    options: dict[str, list[dict[str, Any]]] = {}
    for option in access.rows(ctx, "sc_item_option",
                              f"cart_itemIN{access.in_list([r['sys_id'] for r in rows])}"):
        options.setdefault(str(option.get("cart_item")), []).append(option)
    variables = {item_id: catalog.item_variables(ctx, item_id) for item_id in items}
    return [_Line(row=r, item=items[str(r.get("cat_item"))],
                  variables=variables[str(r.get("cat_item"))],
                  options=options.get(r["sys_id"], []))
            for r in rows if str(r.get("cat_item")) in items]


# -- rendering ----------------------------------------------------------------------------

def _short_line(line: _Line) -> dict[str, Any]:
    """An item of ``add_to_cart``'s answer (API page sample)."""
    return {
        "catalog_item_id": str(line.item["sys_id"]),
        "quantity": str(line.quantity),
        "localized_price": pricing.money(line.base_price),
        "price": pricing.money(line.price),
        "recurring_frequency": pricing.frequency_label(line.frequency) or "",
        "localized_recurring_price": pricing.money(line.base_recurring),
        "recurring_price": pricing.money(line.recurring_price),
        "item_name": str(line.item.get("name") or ""),
        "cart_item_id": line.sys_id,
    }


def _full_line(line: _Line) -> dict[str, Any]:
    """An item of a cart, as ``GET cart`` shows it (API page example)."""
    item = line.item
    subtotal = line.price * line.quantity
    recurring_subtotal = line.recurring_price * line.quantity
    name = str(item.get("name") or "")
    return {
        "updated_on": str(line.row.get("sys_updated_on") or ""),
        "catalog_item_id": str(item["sys_id"]),
        "short_description": str(item.get("short_description") or ""),
        "recurring_subtotal_price": pricing.money(recurring_subtotal),
        "delivery_time": pricing.delivery_time(str(item.get("delivery_time") or "")),
        "sys_class_name": str(item.get("sys_class_name") or "sc_cat_item"),
        "sys_id": line.sys_id,
        "price": pricing.money(line.price),
        "recurring_frequency": pricing.frequency_label(line.frequency),
        "subtotal_price": pricing.money(subtotal),
        "variables": line.variables_shown(),
        "quantity": str(line.quantity),
        "item_id": str(item["sys_id"]),
        "recurring_price": pricing.money(line.recurring_price),
        "show_price": line.show_price,
        "item_name": name,
        "cart_item_id": line.sys_id,
        "recurring_subtotal": pricing.whole(recurring_subtotal),
        "show_quantity": str(item.get("no_quantity")) != "true",
        "created_by": str(line.row.get("sys_created_by") or ""),
        "picture": str(item.get("picture") or ""),
        "created_on": str(line.row.get("sys_created_on") or ""),
        "localized_price": pricing.money(line.base_price),
        "subtotal": pricing.whole(subtotal),
        "show_recurring_price": bool(line.recurring_price),
        "name": name,
        "updated_by": str(line.row.get("sys_updated_by") or ""),
        "localized_recurring_price": pricing.money(line.base_recurring),
        "order_guide": "",
    }


def _totals(lines: Sequence[_Line]) -> tuple[Decimal, Decimal]:
    return (sum((ln.price * ln.quantity for ln in lines), pricing.ZERO),
            sum((ln.recurring_price * ln.quantity for ln in lines), pricing.ZERO))


def _cart_view(cart_id: str, lines: Sequence[_Line]) -> dict[str, Any]:
    """``GET cart``: totals, then the items grouped by recurring frequency (``none`` for no
    recurring charge), each group with its own totals (API page example)."""
    price, recurring = _totals(lines)
    view: dict[str, Any] = {"cart_id": cart_id, "subtotal_price": pricing.money(price),
                            "subtotal_recurring_frequency": "",
                            "subtotal_recurring_price": pricing.money(recurring),
                            "total_title": "Total"}
    groups: dict[str, list[_Line]] = {}
    for line in lines:
        groups.setdefault(line.frequency or "none", []).append(line)
    for key, members in groups.items():
        group_price, group_recurring = _totals(members)
        shown = any(m.show_price for m in members)
        view[key] = {
            "subtotal_price": pricing.money(group_price) if shown else "-",
            "subtotal_recurring_frequency": pricing.frequency_label(
                "" if key == "none" else key) or "",
            "subtotal_recurring_price": pricing.money(group_recurring),
            "total_title": "Total",
            "frequency_label": pricing.frequency_label("" if key == "none" else key),
            "items": [_full_line(m) for m in members],
            "show_subtotal_price": "true" if shown else "false",
            "subtotal_title": "Subtotal",
        }
    view["show_subtotal_price"] = "true"
    view["subtotal_title"] = "Subtotal"
    return view


def _summary(ctx: Context, cart: Mapping[str, Any], lines: Sequence[_Line]) -> dict[str, Any]:
    """``checkout`` with two-step checkout: the cart and the order's details (API page)."""
    view = _cart_view(str(cart["sys_id"]), lines)
    requested_for = str(cart.get("requested_for") or cart.get("user") or "")
    user = access.one(ctx, "sys_user", requested_for)
    details = {"delivery_address": str(cart.get("delivery_address") or ""),
               "special_instructions": str(cart.get("special_instructions") or ""),
               "requested_for_user": str(user.get("name") or "") if user else "",
               "requested_for": requested_for}
    return {**view, **details}


# -- carts --------------------------------------------------------------------------------

def _cart(ctx: Context, user_id: str, name: str, *, create: bool) -> dict[str, Any] | None:
    """The user's cart named ``name`` (``ctx`` from :func:`access.as_platform`)."""
    found = access.rows(ctx, "sc_cart", f"user={user_id}^name={name}", limit=1)
    if found:
        return found[0]
    if not create:
        return None
    return records.create_record(ctx, "sc_cart",
                                 {"name": name, "user": user_id, "requested_for": user_id},
                                 options=access.PLAIN)


def _empty(ctx: Context, cart_id: str) -> None:
    """Remove the cart's items and their answers."""
    items = access.rows(ctx, "sc_cart_item", f"cart={cart_id}")
    if not items:
        return
    for option in access.rows(ctx, "sc_item_option",
                              f"cart_itemIN{access.in_list([i['sys_id'] for i in items])}"):
        records.delete_record(ctx, "sc_item_option", option["sys_id"])
    for item in items:
        records.delete_record(ctx, "sc_cart_item", item["sys_id"])


def _requested_for(ctx: Context, user: Principal, wanted: object) -> str | None:
    """The user an order is for when ``wanted`` names another user the caller may order
    for (``glide.sc.req_for.roles``); ``None`` otherwise: users without that right "can place
    orders in their own name only" (Service Catalog properties), and an unknown user is not
    a user to order for."""
    if not isinstance(wanted, str) or not wanted or wanted == user.sys_id:
        return None
    if not access.may_request_for_others(ctx, user) or access.one(ctx, "sys_user",
                                                                    wanted) is None:
        return None
    return wanted


def _orderable(ctx: Context, item_id: str, request: ItemRequest) -> tuple[int, dict[str, Any],
                                                                             list[Variable]]:
    """The script's checks, in its order: quantity, ``canView``, mandatory variables."""
    count = quantity(request.quantity)
    item = catalog.viewable_item(ctx, item_id)
    if item is None:
        raise BadRequestError(NOT_ORDERABLE)
    variables = catalog.item_variables(ctx, item_id)
    if not request.no_validation:
        _check_mandatory(variables, request.variables)
    if request.also_request_for is not _MISSING and _truthy(request.also_request_for):
        raise BadRequestError(NOT_FOR_MULTIPLE)
    if str(item.get("sys_class_name")) in (catalog.PRODUCER, catalog.GUIDE):
        # Record producers and order guides make no cart item (glide.sc.item.not_normal_
        # cart_item): the cart fails and the script answers its catch-all.
        raise NotFoundError(INVALID_REQUEST)
    return count, item, variables


def _check_mandatory(variables: Sequence[Variable], given: Mapping[str, Any]) -> None:
    """RestCatalogUtil.checkMandatoryVariables: every active mandatory variable answered, a
    check box with the string ``"true"``."""
    for variable in variables:
        if not variable.mandatory or variable.type in _ANSWERLESS:
            continue
        value = given.get(variable.name, _MISSING)
        if variable.type == catalog.CHECK_BOX and value != "true":
            raise BadRequestError(MANDATORY_MISSING)
        if not _truthy(value):
            raise BadRequestError(MANDATORY_MISSING)


def _default_answer(variable: Variable) -> str:
    if variable.type == catalog.CHECK_BOX:
        return "true" if variable.default.lower() == "true" else "false"
    return variable.default


def _add_line(ctx: Context, cart_id: str, item: Mapping[str, Any], count: int,
              variables: Sequence[Variable], given: Mapping[str, Any]) -> str:
    """A cart item and one ``sc_item_option`` per answerable variable (the answer sent, else
    the variable's default)."""
    created = records.create_record(ctx, "sc_cart_item", {
        "cart": cart_id, "cat_item": item["sys_id"], "quantity": str(count)}, options=_IDS)
    line_id = str(created["sys_id"])
    for variable in variables:
        if variable.type in _ANSWERLESS:
            continue
        value = given.get(variable.name, _MISSING)
        answer = _default_answer(variable) if value is _MISSING else _answer_text(value)
        records.create_record(ctx, "sc_item_option", {
            "item_option_new": variable.sys_id, "value": answer, "cart_item": line_id},
            options=_IDS)
    return line_id


def _computed(ctx: Context, table: str, sys_id: str, values: Mapping[str, str]) -> None:
    """Fields the platform computes and no client may write (read-only in the dictionary:
    ``sc_request.price``, ``sc_req_item.sc_catalog``), set as its rules set them, in the
    order's transaction (the Table API ignores read-only fields, servicenow-behaviour §1.1)."""
    fields = ctx.dictionary.fields(table)
    stored_rows.update(ctx.db, ctx.dictionary, table, sys_id,
                       {name: to_storage(fields[name], value) for name, value in values.items()})


def _place_order(ctx: Context, user: Principal, lines: Sequence[_Line], *, requested_for: str,
                 special_instructions: str, delivery_address: str) -> tuple[str, str]:
    """The request, a requested item per cart item with its variables linked; the cart
    emptied. Returns ``(request sys_id, number)``."""
    total, _recurring = _totals(lines)
    request = records.create_record(ctx, "sc_request", {
        "requested_for": requested_for, "opened_by": user.sys_id,
        "special_instructions": special_instructions, "delivery_address": delivery_address},
        options=_IDS)
    request_id = str(request["sys_id"])
    _computed(ctx, "sc_request", request_id, {"price": str(total)})
    for line in lines:
        item = line.item
        ritm = records.create_record(ctx, "sc_req_item", {
            "request": request_id, "cat_item": item["sys_id"], "quantity": str(line.quantity),
            "price": str(line.price), "recurring_price": str(line.recurring_price),
            "recurring_frequency": line.frequency, "requested_for": requested_for,
            "opened_by": user.sys_id, "short_description": str(item.get("short_description")
                                                               or item.get("name") or ""),
        }, options=_IDS)
        catalogs = [c for c in str(item.get("sc_catalogs") or "").split(",") if c]
        if catalogs:
            _computed(ctx, "sc_req_item", str(ritm["sys_id"]), {"sc_catalog": catalogs[0]})
        for option in line.options:
            records.create_record(ctx, "sc_item_option_mtom", {
                "request_item": ritm["sys_id"], "sc_item_option": option["sys_id"]},
                options=_IDS)
            records.update_record(ctx, "sc_item_option", option["sys_id"], {"cart_item": ""},
                                  options=_IDS)
        records.delete_record(ctx, "sc_cart_item", line.sys_id)
    # The cart itself stays, empty, for the next order.
    return request_id, str(request.get("number") or "")


# -- use cases ----------------------------------------------------------------------------

def order_now(ctx: Context, item_id: str, request: ItemRequest) -> dict[str, Any]:
    """``POST items/{sys_id}/order_now``: the order's ``sys_id``, ``number``,
    ``request_number``, ``request_id`` and ``table`` (one-step); ``{"cart_id"}`` with
    two-step checkout (CartJS ``orderNow``)."""
    user = ctx.user
    sysctx = access.as_platform(ctx)
    with write_transaction(ctx.db):
        count, item, variables = _orderable(sysctx, item_id, request)
        requested_for = _requested_for(sysctx, user, request.requested_for) or user.sys_id
        cart = _cart(sysctx, user.sys_id, f"cart_{item_id}", create=True)
        assert cart is not None
        cart_id = str(cart["sys_id"])
        _empty(sysctx, cart_id)
        _add_line(sysctx, cart_id, item, count, variables, request.variables)
        if access.two_step(sysctx):
            return {"cart_id": cart_id}
        request_id, number = _place_order(
            sysctx, user, _lines(sysctx, cart_id), requested_for=requested_for,
            special_instructions="", delivery_address="")
    return {"sys_id": request_id, "number": number, "request_number": number,
            "request_id": request_id, "table": "sc_request"}


def add_to_cart(ctx: Context, item_id: str, request: ItemRequest) -> dict[str, Any]:
    """``POST items/{sys_id}/add_to_cart``: the item joins the user's cart (a new cart item
    each time); answers ``cart_id``, ``subtotal`` and the cart's ``items``."""
    user = ctx.user
    sysctx = access.as_platform(ctx)
    with write_transaction(ctx.db):
        count, item, variables = _orderable(sysctx, item_id, request)
        cart = _cart(sysctx, user.sys_id, DEFAULT_CART, create=True)
        assert cart is not None
        cart_id = str(cart["sys_id"])
        for_user = _requested_for(sysctx, user, request.requested_for)
        if for_user is not None:
            records.update_record(sysctx, "sc_cart", cart_id, {"requested_for": for_user},
                                  options=_IDS)
        _add_line(sysctx, cart_id, item, count, variables, request.variables)
        lines = _lines(sysctx, cart_id)
    total, _recurring = _totals(lines)
    return {"cart_id": cart_id, "subtotal": pricing.money(total),
            "items": [_short_line(line) for line in lines]}


def get_cart(ctx: Context) -> dict[str, Any]:
    """``GET cart``: the user's cart (made on first use, as the platform does), its totals
    and items; an empty cart answers its basic information."""
    sysctx = access.as_platform(ctx)
    with write_transaction(ctx.db):
        cart = _cart(sysctx, ctx.user.sys_id, DEFAULT_CART, create=True)
        assert cart is not None
        lines = _lines(sysctx, str(cart["sys_id"]))
    return _cart_view(str(cart["sys_id"]), lines)


def update_cart_item(ctx: Context, cart_item_id: str, request: ItemRequest) -> dict[str, Any]:
    """``PUT cart/{cart_item_id}``: a new quantity and answers for an item of the user's
    cart; answers the cart. The API page names its errors: ``Invalid quantity value``,
    ``Security constraints prevent ordering of Item`` (not the user's item),
    ``Mandatory Variables are required``."""
    user = ctx.user
    sysctx = access.as_platform(ctx)
    with write_transaction(ctx.db):
        count = quantity(request.quantity)
        cart, line = _own_line(sysctx, user, cart_item_id, NOT_ORDERABLE)
        if not request.no_validation:
            _check_mandatory(line.variables, request.variables)
        records.update_record(sysctx, "sc_cart_item", line.sys_id, {"quantity": str(count)},
                              options=_IDS)
        by_variable = {o.get("item_option_new"): o for o in line.options}
        for variable in line.variables:
            if variable.name not in request.variables or variable.type in _ANSWERLESS:
                continue
            answer = _answer_text(request.variables[variable.name])
            option = by_variable.get(variable.sys_id)
            if option is None:
                records.create_record(sysctx, "sc_item_option", {
                    "item_option_new": variable.sys_id, "value": answer,
                    "cart_item": line.sys_id}, options=_IDS)
            else:
                records.update_record(sysctx, "sc_item_option", option["sys_id"],
                                      {"value": answer}, options=_IDS)
        lines = _lines(sysctx, str(cart["sys_id"]))
    return _cart_view(str(cart["sys_id"]), lines)


def _own_line(ctx: Context, user: Principal, cart_item_id: str,
              message: str) -> tuple[dict[str, Any], _Line]:
    """The user's default cart and its item ``cart_item_id``; 400 ``message`` otherwise."""
    cart = _cart(ctx, user.sys_id, DEFAULT_CART, create=False)
    if cart is None or not access.SYS_ID.match(cart_item_id):
        raise BadRequestError(message)
    line = next((ln for ln in _lines(ctx, str(cart["sys_id"])) if ln.sys_id == cart_item_id),
                None)
    if line is None:
        raise BadRequestError(message)
    return cart, line


def delete_cart_item(ctx: Context, cart_item_id: str) -> None:
    """``DELETE cart/{cart_item_id}``: the item (and its answers) leaves the user's cart;
    400 when it is not an item of the user's cart."""
    sysctx = access.as_platform(ctx)
    with write_transaction(ctx.db):
        _cart_row, line = _own_line(sysctx, ctx.user, cart_item_id, CART_ITEM_INVALID)
        for option in line.options:
            records.delete_record(sysctx, "sc_item_option", option["sys_id"])
        records.delete_record(sysctx, "sc_cart_item", line.sys_id)


def empty_cart(ctx: Context, cart_id: str) -> None:
    """``DELETE cart/{cart_id}/empty``: the cart and its contents are deleted. Users empty
    their own carts; admin and catalog_admin any user's; otherwise, or for an unknown cart,
    400 (API page)."""
    user = ctx.user
    sysctx = access.as_platform(ctx)
    with write_transaction(ctx.db):
        cart = access.one(sysctx, "sc_cart", cart_id)
        if cart is None:
            raise BadRequestError(CART_INVALID)
        if cart.get("user") != user.sys_id and not any(
                user.has_role(role) for role in access.CART_ADMIN_ROLES):
            raise BadRequestError(CART_INVALID)
        _empty(sysctx, cart_id)
        records.delete_record(sysctx, "sc_cart", cart_id)


def _checkout(ctx: Context, user: Principal, details: SubmitRequest) -> dict[str, str]:
    cart = _cart(ctx, user.sys_id, DEFAULT_CART, create=False)
    lines = _lines(ctx, str(cart["sys_id"])) if cart is not None else []
    if cart is None or not lines:
        raise BadRequestError(EMPTY_CART)
    chosen = _requested_for(ctx, user, details.requested_for)
    requested_for = chosen or str(cart.get("requested_for") or user.sys_id)

    def text(value: object, stored: object) -> str:
        return _answer_text(value) if value is not _MISSING else str(stored or "")

    request_id, number = _place_order(
        ctx, user, lines, requested_for=requested_for,
        special_instructions=text(details.special_instructions,
                                  cart.get("special_instructions")),
        delivery_address=text(details.delivery_address, cart.get("delivery_address")))
    records.update_record(ctx, "sc_cart", str(cart["sys_id"]), {
        "requested_for": user.sys_id, "special_instructions": "", "delivery_address": ""},
        options=_IDS)
    return {"request_number": number, "request_id": request_id}


def submit_order(ctx: Context, details: SubmitRequest) -> dict[str, str]:
    """``POST cart/submit_order``: the user's cart becomes a request; answers
    ``request_number`` and ``request_id``; 400 for an empty cart."""
    sysctx = access.as_platform(ctx)
    with write_transaction(ctx.db):
        return _checkout(sysctx, ctx.user, details)


def checkout(ctx: Context) -> dict[str, Any]:
    """``POST cart/checkout``: with one-step checkout (the default) the order is placed and
    ``request_number``/``request_id`` answered; with two-step checkout the order summary
    (cart, delivery address, special instructions, requested for) and nothing is ordered
    until ``submit_order``. 400 for an empty cart."""
    sysctx = access.as_platform(ctx)
    with write_transaction(ctx.db):
        if not access.two_step(sysctx):
            return _checkout(sysctx, ctx.user, SubmitRequest())
        cart = _cart(sysctx, ctx.user.sys_id, DEFAULT_CART, create=False)
        lines = _lines(sysctx, str(cart["sys_id"])) if cart is not None else []
        if cart is None or not lines:
            raise BadRequestError(EMPTY_CART)
        return _summary(sysctx, cart, lines)
