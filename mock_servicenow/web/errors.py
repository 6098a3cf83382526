"""The one place that renders failures: ``ServiceNowError`` -> the ServiceNow envelope.

Unknown ``/api`` paths answer ``Requested URI does not represent any resource`` (400,
servicenow-behaviour §1.5); anything unexpected is a 500 in the same envelope, never a stack
trace. Page paths (login, consent, app pages) get a small HTML error page instead.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from mock_servicenow.errors import (
    MethodNotAllowed,
    RequestedURINotFound,
    RequestTooLarge,
    ServiceNowError,
)
from mock_servicenow.web.pages import message
from mock_servicenow.web.record_pages import own_page_methods
from mock_servicenow.web.responses import error_payload, json_response

log = logging.getLogger("mock_servicenow")

_JSON_PREFIXES = ("/api/", "/_emulator/", "/oauth_token.do", "/oauth_revoke_token.do")


def wants_json() -> bool:
    """True for API paths, whose errors are JSON envelopes."""
    return request.path.startswith(_JSON_PREFIXES)


def render_error(error: ServiceNowError) -> Response:
    """The envelope for a domain error, with its status and extra headers."""
    return json_response(error_payload(error.message, error.detail), error.status, error.headers)


#: What a person reads on an HTML error page, by status (else werkzeug's status name).
_PAGE_TEXTS = {
    404: ("Page not found", "The page you are looking for does not exist on this instance."),
    405: ("Method not supported", "This page does not accept that kind of request."),
    500: ("Internal error", "The instance could not show this page."),
}


def _html_error(status: int, title: str) -> Response:
    """A styled page (the one template set) with a way back, never a bare status line."""
    heading, text = _PAGE_TEXTS.get(status, (title, title))
    try:
        return message(heading, text, status, link_url="/", link_text="Go to the instance")
    except Exception:  # noqa: BLE001 - the error page itself must never fail
        log.error("error page for %s could not be rendered", status)
        body = ("<!DOCTYPE html><html><head><title>ServiceNow</title></head><body>"
                f"<h1>{status}</h1><p>{title}</p></body></html>")
        return Response(body, status=status, content_type="text/html;charset=UTF-8")


def register_error_handlers(app: Flask) -> None:
    """Install the handlers on ``app``."""

    @app.errorhandler(ServiceNowError)
    def _servicenow(error: ServiceNowError) -> Response:
        return render_error(error)

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(error: RequestEntityTooLarge) -> Response:
        length = request.content_length or 0
        return render_error(RequestTooLarge(length, app.config["MAX_CONTENT_LENGTH"]))

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        status = error.code or 500
        # A page with a route of its own is not also /<name>.do's: its methods only.
        allowed = ", ".join(own_page_methods(request.path)
                            or sorted(getattr(error, "valid_methods", None) or []))
        if not wants_json():
            page = _html_error(status, error.name)
            if status == 405 and allowed:
                page.headers["Allow"] = allowed  # RFC 9110 §15.5.6
            return page
        if status == 404:
            return render_error(RequestedURINotFound())
        if status == 405:
            # RFC 9110 §15.5.6: a 405 lists the allowed methods.
            return render_error(MethodNotAllowed(headers={"Allow": allowed} if allowed else None))
        return render_error(ServiceNowError(message=error.name or "Error", detail=None)
                            if status >= 500 else _generic(status, error))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        # Logged with the type only: exception text may hold request data (secrets).
        log.error("unhandled %s on %s %s", type(error).__name__, request.method, request.path)
        if not wants_json():
            return _html_error(500, "Internal error")
        return render_error(ServiceNowError())


def _generic(status: int, error: HTTPException) -> ServiceNowError:
    failure = ServiceNowError(message=error.name or "Error", detail=None)
    failure.status = status
    return failure
