"""Request scope: the instance serving this request, its connection, clock and Context.

One connection per request, opened lazily into ``flask.g`` and closed on teardown (house
style F4). Views call :func:`get_ctx` and pass the result to one domain function.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

import sqlite_utils
from flask import current_app, g, request

from mock_servicenow.domain.platform.context import Context, Principal

if TYPE_CHECKING:
    from mock_servicenow.app import Emulator
    from mock_servicenow.domain.platform.instance import Instance


def emulator() -> Emulator:
    """The app-scoped :class:`~mock_servicenow.app.Emulator`."""
    return current_app.extensions["mock_servicenow"]  # type: ignore[no-any-return]


def current_instance() -> Instance:
    """The instance this request talks to (chosen by host name when several are served)."""
    # One lookup of the request-local ``g`` per call (each proxy access costs, issue 9).
    instance: Instance | None = g.get("instance")
    if instance is None:
        instance = g.instance = emulator().instance_for_host(request.host)
    return instance


def get_db() -> sqlite_utils.Database:
    """This request's connection to its instance database."""
    db: sqlite_utils.Database | None = g.get("db")
    if db is None:
        # The thread's cached connection (store/db.py acquire): no schema parse per request.
        location = current_instance().location
        db = location.acquire()
        scope = g._get_current_object()
        scope.db_location = location
        scope.db = db
    return db


def close_db(_exc: BaseException | None = None) -> None:
    """Teardown: give the request's connection back (an open transaction is rolled back)."""
    scope = g._get_current_object()
    db = scope.pop("db", None)
    location = scope.pop("db_location", None)
    if db is not None:
        if location is not None:
            location.release(db)
        else:
            db.close()


def base_url() -> str:
    """The instance URL references link to: configured, else the request's scheme and host."""
    configured = emulator().settings.base_url
    if configured:
        return configured.rstrip("/")
    # werkzeug's host_url (host validation, IRI decoding) for each distinct scheme, Host
    # header and script root, once: every record link of every request needs it (issue 9).
    environ = request.environ
    key = (environ.get("wsgi.url_scheme"), environ.get("HTTP_HOST"),
           environ.get("SERVER_NAME"), environ.get("SERVER_PORT"), environ.get("SCRIPT_NAME"))
    known = _HOST_URLS.get(key)
    if known is None:
        known = request.host_url.rstrip("/")
        if len(_HOST_URLS) >= _HOST_URLS_KEPT:
            _HOST_URLS.clear()
        _HOST_URLS[key] = known
    return known


#: ``(scheme, Host, server name, port, script root) -> base URL`` (see :func:`base_url`).
_HOST_URLS: dict[tuple[Any, ...], str] = {}
_HOST_URLS_KEPT = 1024


def get_ctx(user: Principal | None = None) -> Context:
    """This request's :class:`Context` (one per request; ``user`` replaces the acting user)."""
    ctx: Context | None = g.get("ctx")
    if ctx is None:
        instance = current_instance()
        db = get_db()
        ctx = g.ctx = Context(platform=instance.platform, db=db,
                              clock=instance.load_clock(db), base_url=base_url())
    if user is not None:
        ctx.user = user
    return ctx


def is_loopback_caller() -> bool:
    """True when the request comes from the loopback interface (the control plane's rule)."""
    try:
        caller = ipaddress.ip_address((request.remote_addr or "").split("%")[0])
    except ValueError:
        return False
    return caller.is_loopback

#: Attribute of a view function that reads a body larger than ``Settings.max_body_bytes`` and
#: enforces its own limit (the Attachment API's ``com.glide.attachment.max_size``): the app's
#: generic body limit, checked before routing to any view, lets its requests through.
OWN_BODY_LIMIT = "own_body_limit"


def own_body_limit(view: Any) -> Any:
    """Mark ``view`` as enforcing its own body limit (see :data:`OWN_BODY_LIMIT`)."""
    setattr(view, OWN_BODY_LIMIT, True)
    return view
