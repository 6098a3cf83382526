"""The Table, Aggregate and Batch APIs: ``/api/now[/v1|v2]/table``, ``/api/now/stats``,
``/api/now/v1/batch``.

Views parse the request, call one function of :mod:`mock_servicenow.domain.table.records` and render
(house style 9.1). What is emulated, with its source in servicenow-behaviour:

* §1.1: paths, versions, GET/POST/PUT/PATCH/DELETE/HEAD, ``X-http-method-override``, 201 +
  ``Location`` on insert, 200 with the full record on update, 204 on delete,
  ``X-no-response-body``; malformed JSON is a 400, other content types a 415 with the real text,
  an array body has only its first record processed.
* §1.2: ``sysparm_*`` parameters (unknown ones ignored but echoed into ``Link`` URLs);
  name=value filters.
* §1.3: ``X-Total-Count`` and the ``Link`` header (first, prev, next, last; no space after the
  comma; caller's parameters kept in order; ``last = floor((total-1)/limit)*limit``; the
  ``prev`` offset quirk; no ``Link`` for a single page); v1 answers 404 for an empty listing,
  v2 and unversioned ``{"result": []}``.
* §9.1 the Aggregate API, §9.4 the Batch API.
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import HTTPException
from werkzeug.test import EnvironBuilder, run_wsgi_app

from mock_servicenow.domain.platform.context import Context
from mock_servicenow.domain.table import records
from mock_servicenow.domain.tinyurl import tiny_urls
from mock_servicenow.errors import (
    InvalidRequest,
    MalformedJSON,
    RecordNotFound,
)
from mock_servicenow.web import bodies
from mock_servicenow.web.auth import authenticate
from mock_servicenow.web.context import get_ctx
from mock_servicenow.web.responses import json_response, json_text_response

bp = Blueprint("table_api", __name__)

_VERSION = "<any(v1, v2):version>"
_TRUE = {"true", "1", "yes"}
_OVERRIDABLE = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}


class MethodOverride:
    """WSGI middleware honouring ``X-http-method-override`` on ``/api/`` paths (§1.1)."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Swap ``REQUEST_METHOD`` for the override before Flask routes the request."""
        override = str(environ.get("HTTP_X_HTTP_METHOD_OVERRIDE", "")).strip().upper()
        if override in _OVERRIDABLE and str(environ.get("PATH_INFO", "")).startswith("/api/"):
            environ["REQUEST_METHOD"] = override
        return self.app(environ, start_response)


# -- parsing --------------------------------------------------------------------------------

def _flag(name: str) -> bool:
    return request.args.get(name, "").strip().lower() in _TRUE


def _int_arg(name: str, default: int) -> int:
    try:
        return int(request.args.get(name, "").strip())
    except ValueError:
        return default


def _context(version: str | None) -> Context:
    authenticate()
    ctx = get_ctx()
    ctx.api_version = version
    return ctx


def _expand_tiny(ctx: Context) -> None:
    """``sysparm_tiny=<id>``: the request runs with the query stored under ``<id>``
    (``POST /api/now/tinyurl``, domain/tinyurl/tiny_urls.py); the request's own parameters
    win over stored ones of the same name. An unknown id is ignored, like any parameter the
    platform does not know (servicenow-behaviour §1.2)."""
    stored = tiny_urls.resolve(ctx, request.args.get(tiny_urls.PARAMETER, ""))
    if stored is None:
        return
    own = [p for p in request.query_string.decode("latin-1").split("&")
           if p and p.split("=", 1)[0] != tiny_urls.PARAMETER]
    names = {p.split("=", 1)[0] for p in own}
    kept = [p for p in stored.split("&") if p and p.split("=", 1)[0] not in names]
    request.query_string = "&".join([*kept, *own]).encode("latin-1")
    request.__dict__.pop("args", None)  # parsed again from the new query string


def _read_options() -> records.ReadOptions:
    args = request.args
    if not args:
        return records.RAW
    mode = args.get("sysparm_display_value", "false").strip().lower()
    fields = args.get("sysparm_fields")
    return records.ReadOptions(
        display_value=mode if mode in ("true", "all") else "false",
        exclude_reference_link=_flag("sysparm_exclude_reference_link"),
        fields=tuple(f.strip() for f in fields.split(",") if f.strip()) if fields else None,
    )


#: Query parameters that carry credentials, never name=value filters (§4.1; issue 18).
_CREDENTIALS = frozenset({"access_token", "x-sn-apikey"})


def _filters() -> tuple[tuple[str, str], ...]:
    """name=value pairs: any parameter that is not a ``sysparm_`` one (§1.2)."""
    return tuple((name, value) for name, value in request.args.items(multi=True)
                 if not name.startswith("sysparm_") and name not in _CREDENTIALS)


def _body() -> dict[str, Any]:
    """The JSON record of a POST/PUT/PATCH (§1.1): 415 for other media, 400 for bad JSON; an
    array has only its first record processed."""
    return bodies.json_object(first_of_array=True)


def _no_body() -> bool:
    return request.headers.get("X-no-response-body", "").strip().lower() == "true"


# -- rendering ------------------------------------------------------------------------------

def _api_base(ctx: Context) -> str:
    version = f"/{ctx.api_version}" if ctx.api_version else ""
    return f"{ctx.base_url}/api/now{version}"


def link_header(url: str, raw_query: str, *, limit: int, offset: int, total: int) -> str | None:
    """The ``Link`` header of a listing (servicenow-behaviour §1.3), ``None`` for one page.

    The caller's parameters keep their order and encoding; ``sysparm_offset`` is replaced and
    ``sysparm_limit`` appended when the caller did not send one.
    """
    if limit <= 0 or (offset == 0 and total <= limit):
        return None
    kept = [p for p in raw_query.split("&") if p and p.split("=", 1)[0] != "sysparm_offset"]
    has_limit = any(p.split("=", 1)[0] == "sysparm_limit" for p in kept)

    def page(at: int) -> str:
        params = [*kept, f"sysparm_offset={at}"]
        if not has_limit:
            params.append(f"sysparm_limit={limit}")
        return f"{url}?{'&'.join(params)}"

    links = [f'<{page(0)}>;rel="first"']
    # Captured: offset 0 with limit 1 emits prev at -1; limit 10000 at 0 emits none (§1.3).
    if offset >= limit - 1:
        links.append(f'<{page(offset - limit)}>;rel="prev"')
    if offset + limit < total:
        links.append(f'<{page(offset + limit)}>;rel="next"')
    links.append(f'<{page(max(total - 1, 0) // limit * limit)}>;rel="last"')
    return ",".join(links)


def _record_response(ctx: Context, record: dict[str, Any], status: int,
                     headers: dict[str, str] | None = None) -> Response:
    return json_response({"result": record}, status, headers, body=not _no_body())


# -- Table API ------------------------------------------------------------------------------

def list_view(table: str, version: str | None = None) -> Response:
    """``GET /api/now/table/{table}`` (servicenow-behaviour §1.2, §1.3)."""
    ctx = _context(version)
    # The Link URLs keep the caller's own query (a tiny one stays tiny).
    raw_query = request.query_string.decode("latin-1")
    if tiny_urls.PARAMETER in request.args:
        _expand_tiny(ctx)
    query = records.ListQuery(
        query=request.args.get("sysparm_query", ""),
        filters=_filters(),
        limit=_int_arg("sysparm_limit", records.DEFAULT_LIMIT),
        offset=_int_arg("sysparm_offset", 0),
        no_count=_flag("sysparm_no_count"),
    )
    page = records.list_records(ctx, table, query, _read_options(), web_service=True,
                                encoded=True)
    if version == "v1" and not page.size:
        # v1 answers 404 for an empty result; v2 200 with [] (servicenow-behaviour §1.1).
        raise RecordNotFound()
    headers: dict[str, str] = {}
    if page.total is not None:
        headers["X-Total-Count"] = str(page.total)
        if not _flag("sysparm_suppress_pagination_header"):
            link = link_header(f"{ctx.base_url}{request.path}", raw_query,
                               limit=page.limit, offset=page.offset, total=page.total)
            if link is not None:
                headers["Link"] = link
    if page.encoded is not None:
        # Records the store already wrote as JSON objects (records.list_records).
        text = '{"result":[' + ",".join(page.encoded) + "]}"
        if page.link_base is None:
            return json_text_response(text, 200, headers)
        # One byte replace for the page's links (store/wire.py: LINK_MARK).
        return json_text_response(text.encode().replace(
            records.LINK_MARK.encode(), page.link_base.encode()), 200, headers)
    return json_response({"result": page.records}, 200, headers)


def create_view(table: str, version: str | None = None) -> Response:
    """``POST /api/now/table/{table}``: 201 + ``Location`` (servicenow-behaviour §1.1)."""
    ctx = _context(version)
    body = _body()
    options = _read_options()
    input_display_value = _flag("sysparm_input_display_value")
    created = records.create_record_encoded(ctx, table, body,
                                            input_display_value=input_display_value,
                                            options=options, web_service=True)
    if created is not None:
        sys_id, text = created
        return json_text_response("" if _no_body() else '{"result":' + text + "}", 201,
                                  {"Location": f"{_api_base(ctx)}/table/{table}/{sys_id}"})
    # Location needs the sys_id even when sysparm_fields leaves it out of the body.
    hidden = options.fields is not None and "sys_id" not in options.fields
    if hidden:
        options = replace(options, fields=(*(options.fields or ()), "sys_id"))
    record = records.create_record(ctx, table, body, input_display_value=input_display_value,
                                   options=options, web_service=True)
    created_id = record.pop("sys_id") if hidden else record.get("sys_id")
    if isinstance(created_id, dict):
        created_id = created_id.get("value")
    location = f"{_api_base(ctx)}/table/{table}/{created_id}"
    return _record_response(ctx, record, 201, {"Location": location})


def get_view(table: str, sys_id: str, version: str | None = None) -> Response:
    """``GET /api/now/table/{table}/{sys_id}`` (servicenow-behaviour §1.1, §1.5)."""
    ctx = _context(version)
    if tiny_urls.PARAMETER in request.args:
        _expand_tiny(ctx)
    options = _read_options()
    text = records.get_record_encoded(ctx, table, sys_id, options, web_service=True)
    if text is not None:
        return json_text_response('{"result":' + text + "}")
    record = records.get_record(ctx, table, sys_id, options, web_service=True)
    return json_response({"result": record})


def update_view(table: str, sys_id: str, version: str | None = None) -> Response:
    """``PUT``/``PATCH``: 200 with the record after business rules (§1.1)."""
    ctx = _context(version)
    body = _body()
    record = records.update_record(ctx, table, sys_id, body,
                                   input_display_value=_flag("sysparm_input_display_value"),
                                   options=_read_options(), web_service=True)
    return _record_response(ctx, record, 200)


def delete_view(table: str, sys_id: str, version: str | None = None) -> Response:
    """``DELETE``: 204 without a body (servicenow-behaviour §1.1)."""
    ctx = _context(version)
    records.delete_record(ctx, table, sys_id, web_service=True)
    response = Response(status=204)
    return response


for _prefix, _suffix in (("/api/now", ""), (f"/api/now/{_VERSION}", "_versioned")):
    bp.add_url_rule(f"{_prefix}/table/<table>", f"list{_suffix}", list_view, methods=["GET"])
    bp.add_url_rule(f"{_prefix}/table/<table>", f"create{_suffix}", create_view,
                    methods=["POST"])
    bp.add_url_rule(f"{_prefix}/table/<table>/<sys_id>", f"get{_suffix}", get_view,
                    methods=["GET"])
    bp.add_url_rule(f"{_prefix}/table/<table>/<sys_id>", f"update{_suffix}", update_view,
                    methods=["PUT", "PATCH"])
    bp.add_url_rule(f"{_prefix}/table/<table>/<sys_id>", f"delete{_suffix}", delete_view,
                    methods=["DELETE"])


# -- Aggregate API --------------------------------------------------------------------------

def _list_arg(name: str) -> tuple[str, ...]:
    value = request.args.get(name, "")
    return tuple(part.strip() for part in value.split(",") if part.strip())


def stats_view(table: str, version: str | None = None) -> Response:
    """``GET /api/now/stats/{table}`` (servicenow-behaviour §9.1)."""
    ctx = _context(version)
    mode = request.args.get("sysparm_display_value", "false").strip().lower()
    query = records.AggregateQuery(
        query=request.args.get("sysparm_query", ""),
        filters=_filters(),
        count=_flag("sysparm_count"),
        group_by=_list_arg("sysparm_group_by"),
        avg_fields=_list_arg("sysparm_avg_fields"),
        min_fields=_list_arg("sysparm_min_fields"),
        max_fields=_list_arg("sysparm_max_fields"),
        sum_fields=_list_arg("sysparm_sum_fields"),
        display_value=mode in ("true", "all"),
    )
    return json_response({"result": records.aggregate(ctx, table, query, web_service=True)})


bp.add_url_rule("/api/now/stats/<table>", "stats", stats_view, methods=["GET"])
bp.add_url_rule("/api/now/<any(v1):version>/stats/<table>", "stats_versioned", stats_view,
                methods=["GET"])


# -- Batch API ------------------------------------------------------------------------------

#: The endpoints a batched request may reach: the Table and Aggregate APIs (§9.4).
_BATCHABLE = frozenset(
    f"{bp.name}.{kind}{suffix}" for kind in ("list", "create", "get", "update", "delete")
    for suffix in ("", "_versioned")) | {f"{bp.name}.stats", f"{bp.name}.stats_versioned"}
_SCALARS = (str, int, float, bool)


class NotBatchable(ValueError):
    """A batched URL that routes somewhere other than the Table or Aggregate API."""


def _routed_endpoint(environ: dict[str, Any]) -> str | None:
    """The endpoint the app would route ``environ`` to, or ``None`` when no route matches.

    Asked of the app's own URL map on the request exactly as it will be dispatched, so an
    encoded path (``/api/now/v1/%62atch``), dot segments or doubled slashes are judged after
    the same decoding the router applies (issue 15)."""
    adapter = current_app.url_map.bind_to_environ(environ)
    try:
        endpoint, _ = adapter.match(method=str(environ["REQUEST_METHOD"]))
    except HTTPException:
        return None
    return str(endpoint)


def _dispatch(method: str, url: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """Run one batched request through the app in a fresh context (its own ``g`` and db).

    :class:`NotBatchable` when it would reach anything but the Table or Aggregate API (a
    nested batch, the control plane, pages)."""
    parts = urlsplit(url)
    builder = EnvironBuilder(path=parts.path, query_string=parts.query, method=method,
                             headers=list(headers.items()), data=body,
                             base_url=request.host_url)
    environ = builder.get_environ()
    override = str(environ.get("HTTP_X_HTTP_METHOD_OVERRIDE", "")).strip().upper()
    if override in _OVERRIDABLE:
        environ["REQUEST_METHOD"] = override  # as MethodOverride will, before routing
    endpoint = _routed_endpoint(environ)
    if endpoint is not None and endpoint not in _BATCHABLE:
        raise NotBatchable(endpoint)
    started = time.perf_counter()
    app_iter, status, response_headers = contextvars.Context().run(
        run_wsgi_app, current_app.wsgi_app, environ, True)
    content = b"".join(app_iter)
    code = int(status.split(" ", 1)[0])
    return {
        "status_code": code,
        "status_text": status.split(" ", 1)[1] if " " in status else "",
        "headers": [{"name": name, "value": value} for name, value in response_headers.items()],
        "body": base64.b64encode(content).decode("ascii"),
        "execution_time": round((time.perf_counter() - started) * 1000),
    }


def _echoed_id(value: Any) -> str | None:
    """A batch or request id as echoed back: strings on the wire (PySNC's BatchAPI); anything
    else as its JSON text, or ``""`` when it is nested too deep to write back."""
    if isinstance(value, str) or value is None:
        return value
    try:
        return json.dumps(value)
    except (RecursionError, ValueError):
        return ""


@bp.post("/api/now/v1/batch")
@bp.post("/api/now/batch")
def batch_view() -> Response:
    """``POST /api/now/v1/batch`` (servicenow-behaviour §9.4): base64 bodies in and out.

    Each request runs as the caller (its ``Authorization`` is forwarded). Requests that are
    not Table/Aggregate API calls, or that are malformed, are listed in
    ``unserviced_requests``.
    """
    authenticate()
    if not request.get_data(cache=True).strip():
        raise MalformedJSON()  # a batch is its body: none is an unreadable request
    # One object: unlike a Table API write (first record of an array, §1.1), an array is
    # refused like broken JSON.
    payload = bodies.json_object()
    serviced: list[dict[str, Any]] = []
    unserviced: list[Any] = []
    items = payload.get("rest_requests", [])
    if not isinstance(items, list):
        raise InvalidRequest("rest_requests must be an array of requests",
                             message="Exception while reading request")
    for item in items or []:
        if not isinstance(item, dict):
            continue
        request_id = _echoed_id(item.get("id"))
        method = item.get("method", "GET")
        method = method.upper() if isinstance(method, str) else ""
        url = item.get("url")
        if not isinstance(url, str) or not url.startswith("/api/now/") \
                or method not in _OVERRIDABLE:
            unserviced.append(request_id)
            continue
        given = item.get("headers")
        headers = {str(h["name"]): str(h.get("value", ""))
                   for h in (given if isinstance(given, list) else [])
                   if isinstance(h, dict) and h.get("name")
                   and isinstance(h["name"], _SCALARS)
                   and isinstance(h.get("value", ""), _SCALARS)}
        for name in ("Authorization", "Cookie", "X-UserToken"):
            if name in request.headers:
                headers[name] = request.headers[name]
        try:
            body = base64.b64decode(item.get("body") or "", validate=True)
        except (binascii.Error, ValueError, TypeError):
            unserviced.append(request_id)
            continue
        try:
            result = _dispatch(method, url, headers, body)
        except (ValueError, TypeError, UnicodeError):
            # Not a Table/Aggregate API call (NotBatchable: a nested batch, however its path
            # is spelled), or headers or a URL no HTTP request can carry (newlines, surrogates).
            unserviced.append(request_id)
            continue
        serviced.append({"id": request_id, **result})
    batch_id = _echoed_id(payload.get("batch_request_id"))
    return json_response({"batch_request_id": batch_id,
                          "serviced_requests": serviced,
                          "unserviced_requests": unserviced})
