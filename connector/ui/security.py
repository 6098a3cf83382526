"""What keeps the pages to their owner: CSRF tokens, the Host check, response headers.

* Every form carries a per-session CSRF token (synchronizer token pattern, OWASP CSRF
  Prevention Cheat Sheet); a POST without the session's token is refused with 400 before any
  view runs.
* On a loopback address the ``Host`` header must name a loopback host (or the address the ui
  was started on): a DNS-rebinding page cannot read the pages through a name of its own.
* Responses are not cached, cannot be framed, load nothing from elsewhere (local assets only,
  ``Content-Security-Policy``) and send no ``Referer`` to the instance.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import Flask, Response, request, session
from werkzeug.exceptions import BadRequest

CSRF_FIELD = "csrf_token"
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})

#: No scripts at all; styles, images and the favicon from the ui itself.
CONTENT_SECURITY_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self' data:; "
                           "frame-ancestors 'none'; base-uri 'none'")


class CSRFRefused(BadRequest):
    """A form post without this session's token."""

    description = ("This form has expired or did not come from these pages: go back, reload "
                   "the page and try again.")


class UntrustedHost(BadRequest):
    """A request whose Host header does not name this ui."""

    description = "This page is served for the address the ui was started on only."


def csrf_token() -> str:
    """This session's token (created on first use)."""
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


def check_csrf() -> None:
    """Refuse a state-changing request that does not carry the session's token."""
    if request.method in ("GET", "HEAD", "OPTIONS") or request.routing_exception is not None:
        # No such page or method: routing answers 404/405 first.
        return
    expected = session.get(CSRF_FIELD)
    sent = request.form.get(CSRF_FIELD, "")
    if not isinstance(expected, str) or not hmac.compare_digest(expected, sent):
        raise CSRFRefused()


def host_names(bound_host: str) -> frozenset[str] | None:
    """The Host names accepted for a ui bound to ``bound_host``; ``None``: any (the ui was
    bound to a non-loopback or wildcard address, reached by names it cannot know)."""
    host = bound_host.strip("[]").lower()
    if host in _LOOPBACK or host.startswith("127."):
        return _LOOPBACK | {host}
    return None


def check_host(allowed: Iterable[str] | None) -> None:
    """Refuse a request whose ``Host`` is not one of ``allowed`` (port ignored)."""
    if allowed is None:
        return
    name = (urlsplit(f"//{request.host}").hostname or "").lower()
    if name not in allowed:
        raise UntrustedHost()


def add_headers(response: Response) -> Response:
    """The headers every page gets (see the module docstring)."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    if not request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"
    return response


def install(app: Flask, allowed_hosts: frozenset[str] | None) -> None:
    """Wire the checks and headers into ``app``."""
    app.before_request(lambda: check_host(allowed_hosts))
    app.before_request(check_csrf)
    app.after_request(add_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
