"""The Import Set API: ``/api/now/import/{stagingTableName}`` (also ``/api/now/v1/import``).

* ``POST /import/{table}``: one staging row, transformed synchronously; 201 with
  ``import_set``, ``staging_table`` and a ``result`` entry per transform map.
* ``POST /import/{table}/insertMultiple``: ``{"records": [...]}``; 201 with
  ``import_set_id`` and ``multi_import_set_id``. Asynchronous by default: the transform runs
  once the answer has been sent (the platform's scheduled job; the next Import Set API call
  runs any set left over, after a restart for instance); synchronous when a
  ``sys_rest_insert_multiple`` record says so.
* ``GET /import/{table}/{sys_id}``: a staging row's result; 404 when it is gone.

Source: https://github.com/ServiceNow/ServiceNowDocs/blob/australia/markdown/api-reference/rest-apis/c_ImportSetAPI.md
(servicenow-behaviour §9.3); the semantics live in ``domain/import_sets``. Bodies are JSON
(the API also takes XML, which this emulator does not: a 415 like the Table API's, §1.1);
malformed JSON is the Table API's 400 (§3).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, request

from mock_servicenow.domain.import_sets import loading
from mock_servicenow.domain.platform.context import Context, Principal
from mock_servicenow.errors import MalformedJSON, UnsupportedMediaType
from mock_servicenow.web.auth import authenticate
from mock_servicenow.web.bodies import json_object, parse_json
from mock_servicenow.web.context import current_instance, get_ctx
from mock_servicenow.web.responses import json_response

if TYPE_CHECKING:
    from mock_servicenow.domain.platform.instance import Instance

bp = Blueprint("import_set_api", __name__)
log = logging.getLogger("mock_servicenow")


def _context(version: str | None) -> Context:
    authenticate()
    ctx = get_ctx()
    ctx.api_version = version
    return ctx


def _api_base(ctx: Context) -> str:
    version = f"/{ctx.api_version}" if ctx.api_version else ""
    return f"{ctx.base_url}/api/now{version}"


def _row_body() -> dict[str, Any]:
    """One row's name-value pairs, read as the Table API reads a record (§1.1): an array has
    its first element taken, an empty body is an empty row, any other JSON (``null``
    included) is a 400 (§3)."""
    return json_object(first_of_array=True)


def _records_body() -> list[dict[str, Any]]:
    """``{"records": [{...}, ...]}`` (insertMultiple takes application/json only): 415 for
    other media, 400 for anything else (servicenow-behaviour §1.1, §3)."""
    if request.mimetype and request.mimetype != "application/json":
        raise UnsupportedMediaType()
    raw = request.get_data(cache=True)
    payload = parse_json(raw) if raw.strip() else None
    found = payload.get("records") if isinstance(payload, dict) else None
    if not isinstance(found, list) or not all(isinstance(r, dict) for r in found):
        raise MalformedJSON()
    return found


def _answer(ctx: Context, result: loading.ImportResult, status: int) -> Response:
    base = _api_base(ctx)
    return json_response({
        "import_set": result.import_set,
        "staging_table": result.staging_table,
        "result": [loading.result_entry(outcome, base) for outcome in result.outcomes],
    }, status)


def insert_view(table: str, version: str | None = None) -> Response:
    """``POST /api/now/import/{table}``: 201 with the transformation results."""
    ctx = _context(version)
    return _answer(ctx, loading.insert_row(ctx, table, _row_body()), 201)


def insert_multiple_view(table: str, version: str | None = None) -> Response:
    """``POST /api/now/import/{table}/insertMultiple``: 201 with the two sys_ids."""
    ctx = _context(version)
    load = loading.insert_multiple(
        ctx, table, _records_body(),
        multi_import_set_id=request.args.get("multi_import_set_id", "").strip(),
        run_after=request.args.get("run_after", "").strip())
    response = json_response({"import_set_id": load.import_set_id,
                              "multi_import_set_id": load.multi_import_set_id}, 201)
    if load.pending:
        response.call_on_close(_transform_later(current_instance(), ctx.user, ctx.base_url))
    return response


def _transform_later(instance: Instance, user: Principal, base_url: str) -> Callable[[], None]:
    """The asynchronous transform, run once the answer is sent, on a connection of its own
    (the request's is closed by then). A failure is logged by type only (no request data)."""
    def run() -> None:
        try:
            db = instance.connect()
        except Exception as error:  # noqa: BLE001 - after the answer: nowhere to report it
            log.error("import set transform: no connection (%s)", type(error).__name__)
            return
        try:
            ctx = instance.context(db, base_url=base_url)
            ctx.user = user
            loading.run_pending(ctx)
        except Exception as error:  # noqa: BLE001 - the next Import Set API call retries
            log.error("import set transform failed (%s)", type(error).__name__)
        finally:
            db.close()
    return run


def get_view(table: str, sys_id: str, version: str | None = None) -> Response:
    """``GET /api/now/import/{table}/{sys_id}``: 200, or 404 ``No Record found``."""
    ctx = _context(version)
    return _answer(ctx, loading.import_result(ctx, table, sys_id), 200)


for _prefix, _suffix in (("/api/now", ""), ("/api/now/<any(v1):version>", "_versioned")):
    bp.add_url_rule(f"{_prefix}/import/<table>", f"insert{_suffix}", insert_view,
                    methods=["POST"])
    bp.add_url_rule(f"{_prefix}/import/<table>/insertMultiple", f"insert_multiple{_suffix}",
                    insert_multiple_view, methods=["POST"])
    bp.add_url_rule(f"{_prefix}/import/<table>/<sys_id>", f"get{_suffix}", get_view,
                    methods=["GET"])
