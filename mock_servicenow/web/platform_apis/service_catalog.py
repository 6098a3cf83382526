"""The Service Catalog API: ``/api/sn_sc/servicecatalog/...`` and ``/api/sn_sc/v1/...``.

Views parse the request, call one function of :mod:`mock_servicenow.domain.service_catalog`
and render ``{"result": ...}``. The endpoints, parameters, answers and status codes are the
Service Catalog API page's
(https://github.com/ServiceNow/ServiceNowDocs/blob/australia/markdown/api-reference/rest-apis/c_ServiceCatalogAPI.md):
any signed-in user browses and orders (the page names no role). Request bodies are JSON
(other media types: 415, broken JSON: 400, as the Table API, servicenow-behaviour §1.1, §3);
``sysparm_limit``/``sysparm_offset`` that are not numbers are ignored (§1.2).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, request

from mock_servicenow.domain.platform.context import Context
from mock_servicenow.domain.service_catalog import cart, catalog
from mock_servicenow.domain.table import records
from mock_servicenow.errors import UnsupportedMediaType
from mock_servicenow.web.auth import authenticate
from mock_servicenow.web.bodies import parse_json
from mock_servicenow.web.context import get_ctx
from mock_servicenow.web.responses import json_response

bp = Blueprint("service_catalog_api", __name__)

_JSON_TYPES = ("application/json", "text/json", "application/javascript")
_TRUE = {"true", "1", "yes"}


def _context() -> Context:
    authenticate()
    return get_ctx()


def _int_arg(name: str, default: int) -> int:
    try:
        value = int(request.args.get(name, "").strip())
    except ValueError:
        return default
    return value if value >= 0 else default


def _limit() -> int:
    value = _int_arg("sysparm_limit", records.DEFAULT_LIMIT)
    return value if value > 0 else records.DEFAULT_LIMIT


def _body() -> Any:
    """The request's JSON (``None`` without a body): 415 for other media, 400 for bad JSON."""
    mimetype = request.mimetype
    if mimetype and mimetype not in _JSON_TYPES:
        raise UnsupportedMediaType()
    raw = request.get_data(cache=True)
    if not raw.strip():
        return None
    return parse_json(raw)


def _result(value: Any, status: int = 200) -> Response:
    return json_response({"result": value}, status)


# -- browsing -----------------------------------------------------------------------------

def catalogs_view() -> Response:
    """``GET catalogs`` (``sysparm_text``, ``sysparm_limit``, ``sysparm_offset``)."""
    ctx = _context()
    return _result(catalog.list_catalogs(ctx, text=request.args.get("sysparm_text", ""),
                                         limit=_limit(),
                                         offset=_int_arg("sysparm_offset", 0)))


def catalog_view(sys_id: str) -> Response:
    """``GET catalogs/{sys_id}``."""
    return _result(catalog.get_catalog(_context(), sys_id))


def catalog_categories_view(sys_id: str) -> Response:
    """``GET catalogs/{sys_id}/categories`` (``sysparm_top_level_only``, limit, offset)."""
    ctx = _context()
    top = request.args.get("sysparm_top_level_only", "").strip().lower() in _TRUE
    return _result(catalog.catalog_categories(ctx, sys_id, top_level_only=top, limit=_limit(),
                                              offset=_int_arg("sysparm_offset", 0)))


def category_view(sys_id: str) -> Response:
    """``GET categories/{sys_id}``."""
    return _result(catalog.get_category(_context(), sys_id))


def items_view() -> Response:
    """``GET items`` (``sysparm_text``, ``sysparm_category``, ``sysparm_catalog``,
    ``sysparm_type``, ``sysparm_limit``, ``sysparm_offset``)."""
    ctx = _context()
    args = request.args
    search = catalog.ItemSearch(text=args.get("sysparm_text", ""),
                                category=args.get("sysparm_category", "").strip(),
                                catalog=args.get("sysparm_catalog", "").strip(),
                                type=args.get("sysparm_type", ""), limit=_limit(),
                                offset=_int_arg("sysparm_offset", 0))
    return _result(catalog.list_items(ctx, search))


def item_view(sys_id: str) -> Response:
    """``GET items/{sys_id}``: the item and its variables."""
    return _result(catalog.get_item(_context(), sys_id))


# -- ordering -----------------------------------------------------------------------------

def order_now_view(sys_id: str) -> Response:
    """``POST items/{sys_id}/order_now``."""
    ctx = _context()
    return _result(cart.order_now(ctx, sys_id, cart.ItemRequest.from_body(_body())))


def add_to_cart_view(sys_id: str) -> Response:
    """``POST items/{sys_id}/add_to_cart``."""
    ctx = _context()
    return _result(cart.add_to_cart(ctx, sys_id, cart.ItemRequest.from_body(_body())))


def cart_view() -> Response:
    """``GET cart``."""
    return _result(cart.get_cart(_context()))


def cart_item_update_view(cart_item_id: str) -> Response:
    """``PUT cart/{cart_item_id}``: 201 with the cart (the API page's status table)."""
    ctx = _context()
    return _result(cart.update_cart_item(ctx, cart_item_id,
                                         cart.ItemRequest.from_body(_body())), 201)


def cart_item_delete_view(cart_item_id: str) -> Response:
    """``DELETE cart/{cart_item_id}``: 204."""
    cart.delete_cart_item(_context(), cart_item_id)
    return Response(status=204)


def cart_empty_view(cart_id: str) -> Response:
    """``DELETE cart/{cart_id}/empty``: 204."""
    cart.empty_cart(_context(), cart_id)
    return Response(status=204)


def submit_order_view() -> Response:
    """``POST cart/submit_order``."""
    ctx = _context()
    return _result(cart.submit_order(ctx, cart.SubmitRequest.from_body(_body())))


def checkout_view() -> Response:
    """``POST cart/checkout``."""
    ctx = _context()
    _body()  # a broken body is still a 400 / 415, though checkout reads none
    return _result(cart.checkout(ctx))


_ROUTES: tuple[tuple[str, str, Callable[..., Response], str], ...] = (
    ("/catalogs", "catalogs", catalogs_view, "GET"),
    ("/catalogs/<sys_id>", "catalog", catalog_view, "GET"),
    ("/catalogs/<sys_id>/categories", "catalog_categories", catalog_categories_view, "GET"),
    ("/categories/<sys_id>", "category", category_view, "GET"),
    ("/items", "items", items_view, "GET"),
    ("/items/<sys_id>", "item", item_view, "GET"),
    ("/items/<sys_id>/order_now", "order_now", order_now_view, "POST"),
    ("/items/<sys_id>/add_to_cart", "add_to_cart", add_to_cart_view, "POST"),
    ("/cart", "cart", cart_view, "GET"),
    ("/cart/submit_order", "submit_order", submit_order_view, "POST"),
    ("/cart/checkout", "checkout", checkout_view, "POST"),
    ("/cart/<cart_item_id>", "cart_item_update", cart_item_update_view, "PUT"),
    ("/cart/<cart_item_id>", "cart_item_delete", cart_item_delete_view, "DELETE"),
    ("/cart/<cart_id>/empty", "cart_empty", cart_empty_view, "DELETE"),
)

for _prefix, _suffix in (("/api/sn_sc/servicecatalog", ""),
                         ("/api/sn_sc/<any(v1):version>/servicecatalog", "_versioned")):
    for _path, _name, _view, _method in _ROUTES:
        if _suffix:
            def _versioned(version: str, _view: Callable[..., Response] = _view,
                           **kwargs: Any) -> Response:
                return _view(**kwargs)
            bp.add_url_rule(_prefix + _path, _name + _suffix, _versioned, methods=[_method])
        else:
            bp.add_url_rule(_prefix + _path, _name, _view, methods=[_method])
