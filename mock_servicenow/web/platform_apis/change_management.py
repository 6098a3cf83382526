"""The Change Management API: ``/api/sn_chg_rest/change`` and ``/api/sn_chg_rest/v1/change``.

Views parse the request, call one function of :mod:`mock_servicenow.domain.change.api` and
render ``{"result": ...}`` (the Change Management API reference,
https://github.com/ServiceNow/ServiceNowDocs/blob/xanadu/markdown/api-reference/rest-apis/change-management-api.md,
and servicenow-behaviour §7.4):

* every answer is a 200 with ``result``: an object for one record (captured responses answer
  an object even where the reference's samples draw a one-element array), a list for lists;
* a write's fields come from the query string's name-value pairs and the JSON body, the body
  winning ("Request body parameters override URL parameters"); ``sysparm_*`` parameters and
  credentials are not fields;
* list parameters: ``sysparm_query`` (else name-value pairs), ``textSearch``, ``order``,
  ``sysparm_limit``, ``sysparm_offset``; the reference documents no pagination header;
* errors are the platform envelope (servicenow-behaviour §3): a body that is not a JSON object
  is a 400 ``Exception while reading request``, another content type a 415.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, request

from mock_servicenow.domain.change import api
from mock_servicenow.domain.platform.context import Context
from mock_servicenow.errors import MalformedJSON, UnsupportedMediaType
from mock_servicenow.web.auth import authenticate
from mock_servicenow.web.bodies import parse_json
from mock_servicenow.web.context import get_ctx
from mock_servicenow.web.responses import json_response

bp = Blueprint("change_management", __name__)

_JSON_TYPES = ("application/json", "text/json")
#: Query parameters that are neither fields nor filters.
_NOT_FIELDS = frozenset({"sysparm_query", "sysparm_limit", "sysparm_offset", "order",
                         "textSearch", "access_token", "x-sn-apikey"})


def _context() -> Context:
    authenticate()
    return get_ctx()


def _pairs_from_query() -> dict[str, str]:
    return {name: value for name, value in request.args.items()
            if name not in _NOT_FIELDS and not name.startswith("sysparm_")}


def _fields() -> dict[str, Any]:
    """The name-value pairs of a write: query string, then the JSON object body over it."""
    pairs: dict[str, Any] = _pairs_from_query()
    raw = request.get_data(cache=True)
    if not raw.strip():
        return pairs
    if request.mimetype and request.mimetype not in _JSON_TYPES:
        raise UnsupportedMediaType()
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise MalformedJSON()
    pairs.update(body)
    return pairs


def _int_arg(name: str, default: int) -> int:
    try:
        return int(request.args.get(name, "").strip())
    except ValueError:
        return default


def _listing() -> api.Listing:
    return api.Listing(
        query=request.args.get("sysparm_query", ""),
        filters=tuple(_pairs_from_query().items()),
        text_search=request.args.get("textSearch", ""),
        order=request.args.get("order", "").strip(),
        limit=_int_arg("sysparm_limit", api.DEFAULT_LIMIT),
        offset=_int_arg("sysparm_offset", 0),
    )


def _result(result: Any) -> Response:
    return json_response({"result": result})


# -- views ------------------------------------------------------------------------------------

def list_changes(kind: str | None = None, version: str | None = None) -> Response:
    """``GET /change`` and ``/change/{normal|emergency|standard}``."""
    return _result(api.list_changes(_context(), kind, _listing()))


def create_change(kind: str | None = None, version: str | None = None) -> Response:
    """``POST /change``, ``/change/normal``, ``/change/emergency``."""
    ctx = _context()
    return _result(api.create_change(ctx, kind, _fields()))


def create_standard_change(template_id: str, version: str | None = None) -> Response:
    """``POST /change/standard/{standard_change_template_id}``."""
    ctx = _context()
    return _result(api.create_standard_change(ctx, template_id, _fields()))


def get_change(sys_id: str, kind: str | None = None, version: str | None = None) -> Response:
    """``GET /change/{sys_id}`` and the typed paths."""
    return _result(api.get_change(_context(), kind, sys_id))


def update_change(sys_id: str, kind: str | None = None,
                  version: str | None = None) -> Response:
    """``PATCH /change/{sys_id}`` and the typed paths."""
    ctx = _context()
    return _result(api.update_change(ctx, kind, sys_id, _fields()))


def delete_change(sys_id: str, kind: str | None = None,
                  version: str | None = None) -> Response:
    """``DELETE /change/{sys_id}`` and the typed paths: the deleted record."""
    return _result(api.delete_change(_context(), kind, sys_id))


def next_states(sys_id: str, version: str | None = None) -> Response:
    """``GET /change/{change_sys_id}/nextstates``."""
    return _result(api.next_states(_context(), sys_id))


def list_tasks(sys_id: str, version: str | None = None) -> Response:
    """``GET /change/{change_sys_id}/task``."""
    return _result(api.list_tasks(_context(), sys_id, _listing()))


def create_task(sys_id: str, version: str | None = None) -> Response:
    """``POST /change/{change_sys_id}/task``."""
    ctx = _context()
    return _result(api.create_task(ctx, sys_id, _fields()))


def get_task(sys_id: str, task_sys_id: str, version: str | None = None) -> Response:
    """``GET /change/{change_sys_id}/task/{task_sys_id}``."""
    return _result(api.get_task(_context(), sys_id, task_sys_id))


def update_task(sys_id: str, task_sys_id: str, version: str | None = None) -> Response:
    """``PATCH /change/{change_sys_id}/task/{task_sys_id}``."""
    ctx = _context()
    return _result(api.update_task(ctx, sys_id, task_sys_id, _fields()))


def delete_task(sys_id: str, task_sys_id: str, version: str | None = None) -> Response:
    """``DELETE /change/{change_sys_id}/task/{task_sys_id}``: the deleted task."""
    return _result(api.delete_task(_context(), sys_id, task_sys_id))


def list_templates(version: str | None = None) -> Response:
    """``GET /change/standard/template``."""
    return _result(api.list_templates(_context(), _listing()))


def get_template(sys_id: str, version: str | None = None) -> Response:
    """``GET /change/standard/template/{sys_id}``."""
    return _result(api.get_template(_context(), sys_id))


# -- routes -----------------------------------------------------------------------------------

_ROUTES: list[tuple[str, str, Callable[..., Response], list[str], dict[str, Any] | None]] = [
    ("/change", "list", list_changes, ["GET"], None),
    ("/change", "create", create_change, ["POST"], None),
    ("/change/standard/template", "templates", list_templates, ["GET"], None),
    ("/change/standard/template/<sys_id>", "template", get_template, ["GET"], None),
    ("/change/standard/<template_id>", "create_standard", create_standard_change, ["POST"],
     None),
    ("/change/<sys_id>", "get", get_change, ["GET"], None),
    ("/change/<sys_id>", "update", update_change, ["PATCH"], None),
    ("/change/<sys_id>", "delete", delete_change, ["DELETE"], None),
    ("/change/<sys_id>/nextstates", "nextstates", next_states, ["GET"], None),
    ("/change/<sys_id>/task", "tasks", list_tasks, ["GET"], None),
    ("/change/<sys_id>/task", "create_task", create_task, ["POST"], None),
    ("/change/<sys_id>/task/<task_sys_id>", "task", get_task, ["GET"], None),
    ("/change/<sys_id>/task/<task_sys_id>", "update_task", update_task, ["PATCH"], None),
    ("/change/<sys_id>/task/<task_sys_id>", "delete_task", delete_task, ["DELETE"], None),
]
for _kind in api.TYPES:
    # Static segments: /change/normal is never taken for /change/{sys_id}.
    _ROUTES += [
        (f"/change/{_kind}", f"list_{_kind}", list_changes, ["GET"], {"kind": _kind}),
        (f"/change/{_kind}/<sys_id>", f"get_{_kind}", get_change, ["GET"], {"kind": _kind}),
        (f"/change/{_kind}/<sys_id>", f"update_{_kind}", update_change, ["PATCH"],
         {"kind": _kind}),
        (f"/change/{_kind}/<sys_id>", f"delete_{_kind}", delete_change, ["DELETE"],
         {"kind": _kind}),
    ]
    if _kind != "standard":
        _ROUTES.append((f"/change/{_kind}", f"create_{_kind}", create_change, ["POST"],
                        {"kind": _kind}))

for _prefix, _suffix in (("/api/sn_chg_rest", ""),
                         ("/api/sn_chg_rest/<any(v1):version>", "_versioned")):
    for _path, _name, _view, _methods, _defaults in _ROUTES:
        if _defaults:
            bp.add_url_rule(f"{_prefix}{_path}", f"{_name}{_suffix}", _view,
                            methods=_methods, defaults=_defaults)
        else:
            bp.add_url_rule(f"{_prefix}{_path}", f"{_name}{_suffix}", _view,
                            methods=_methods)
