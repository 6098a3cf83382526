"""Rendering helpers shared by the identity pages (login, consent, IdP)."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template

HTML_CONTENT_TYPE = "text/html;charset=UTF-8"


def page(template: str, status: int = 200, **values: Any) -> Response:
    """A server-rendered page that is never cached (it may carry the session's g_ck)."""
    response = Response(render_template(template, **values), status=status,
                        content_type=HTML_CONTENT_TYPE)
    response.headers["Cache-Control"] = "no-cache,no-store,must-revalidate,max-age=-1"
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def message(title: str, text: str, status: int = 400, *, link_url: str | None = None,
            link_text: str | None = None) -> Response:
    """A plain ServiceNow-looking page with one message (errors that are not JSON APIs)."""
    return page("message.html", status, title=title, message=text, link_url=link_url,
                link_text=link_text)
