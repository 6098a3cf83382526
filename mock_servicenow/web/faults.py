"""Fault injection in the web layer: ``/_emulator/faults`` and the hooks that apply the rules.

The emulated API never knows about faults. :func:`install` adds

* a ``before_request`` hook that asks
  :func:`mock_servicenow.domain.platform.faults.plan_for` what to
  do with the request: sleep (latency), raise the planned ``ServiceNowError`` (status,
  rate limit; rendered by the one error handler), or mark the request to be dropped;
* :class:`DropConnection`, a WSGI middleware around the Flask app. It holds the response's
  ``start_response`` until the app has returned; for a request marked "drop after commit"
  the app has then run completely (its transaction committed, its connection closed) and
  the middleware breaks the connection instead of answering:

  - werkzeug (``serve``, ``snow_server``) and gunicorn (``serve --workers N``) put the client
    socket in the WSGI environ (``werkzeug.socket``, ``gunicorn.socket``); the middleware
    shuts it down, so the client reads end-of-file where the status line should be
    (httpx: ``RemoteProtocolError: Server disconnected without sending a response``;
    requests: ``ConnectionError``). The server's own write then fails with a broken pipe,
    which both servers treat as a client that went away;
  - in-process (``httpx.WSGITransport``) there is no socket: the middleware raises
    ``ConnectionDropped``, an ``httpx.RemoteProtocolError``. ``WSGITransport`` lets
    exceptions from the app propagate and httpx attaches the request, so the client sees the
    same transport error as over a socket (:func:`connection_dropped`).
"""

from __future__ import annotations

import functools
import socket
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Blueprint, Flask, Response, render_template, request

from mock_servicenow.domain.platform import faults
from mock_servicenow.web import control_plane
from mock_servicenow.web.context import get_ctx, get_db
from mock_servicenow.web.responses import json_response

#: Environ key the hook sets on a request whose connection must be dropped after it ran.
DROP_KEY = "mock_servicenow.drop_connection"

#: Environ keys under which WSGI servers expose the client socket.
SOCKET_KEYS = ("werkzeug.socket", "gunicorn.socket")

bp = Blueprint("faults", __name__, url_prefix="/_emulator/faults")
bp.before_request(control_plane.loopback_only)


@functools.cache
def connection_dropped() -> type[Exception]:
    """``ConnectionDropped``, an ``httpx.RemoteProtocolError`` raised to an in-process client
    in place of a response. Built on first use: importing httpx costs ~0.3 s of start-up
    (its CLI module pulls in rich and pygments when they are installed)."""
    import httpx

    class ConnectionDropped(httpx.RemoteProtocolError):
        def __init__(self) -> None:
            super().__init__("Server disconnected without sending a response.")

    return ConnectionDropped


def _apply_faults() -> Response | None:
    # The request's connection, not a full Context: no clock read unless a rule needs it.
    plan = faults.plan_for(get_db(), request.method, request.path, lambda: get_ctx().now())
    if plan.is_empty:
        return None
    if plan.sleep_seconds:
        time.sleep(plan.sleep_seconds)
    if plan.error is not None:
        raise plan.error
    if plan.page is not None:
        # The whole instance answers this page, whatever was asked (hibernating, upgrading).
        return Response(render_template(plan.page.template), status=plan.page.status,
                        content_type="text/html;charset=UTF-8")
    if plan.drop_after_commit:
        request.environ[DROP_KEY] = True
    return None


StartResponse = Callable[..., Any]


class DropConnection:
    """WSGI middleware: answer normally, or break the connection of a request marked to drop."""

    def __init__(self, app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any],
                 start_response: StartResponse) -> Iterable[bytes]:
        held: list[tuple[Any, ...]] = []

        def hold(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            held.append((status, headers, exc_info))
            return _no_write

        result = self.app(environ, hold)
        if environ.get(DROP_KEY):
            close = getattr(result, "close", None)
            if close is not None:
                close()
            return _drop(environ, start_response)
        status, headers, exc_info = held[-1]
        start_response(status, headers, exc_info)
        return result


def _no_write(_data: bytes) -> None:
    # Flask never uses the legacy write() callable; responses come back as the iterable.
    raise RuntimeError("write() is not supported behind the fault-injection middleware")


def _drop(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    for key in SOCKET_KEYS:
        sock = environ.get(key)
        if sock is None:
            continue
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already gone: the client sees the same broken connection
        # The server writes this into a shut socket: it fails as "client went away".
        start_response("500 Internal Server Error", [("Content-Length", "0")])
        return []
    raise connection_dropped()()


def install(app: Flask) -> None:
    """Apply fault rules to every request of ``app`` and register ``/_emulator/faults``."""
    app.before_request(_apply_faults)
    app.wsgi_app = DropConnection(app.wsgi_app)  # type: ignore[method-assign]
    app.register_blueprint(bp)


@bp.get("")
def list_faults() -> Response:
    """Every live rule, oldest first."""
    return json_response({"faults": [r.to_json() for r in faults.list_rules(get_ctx())]})


@bp.post("")
def add_fault() -> Response:
    """Add a rule: ``{"method", "path", "action", "status"|"seconds"|"retry_after", "times"}``."""
    rule = faults.add_rule(get_ctx(), control_plane.json_body())
    return json_response(rule.to_json(), 201)


@bp.delete("")
def clear_faults() -> Response:
    """Remove every rule."""
    return json_response({"removed": faults.clear_rules(get_ctx())})


@bp.delete("/<int:rule_id>")
def remove_fault(rule_id: int) -> Response:
    """Remove one rule (404 envelope when it does not exist)."""
    faults.remove_rule(get_ctx(), rule_id)
    return json_response({"removed": 1})
