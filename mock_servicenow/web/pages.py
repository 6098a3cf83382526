"""Rendering every HTML page: one template set, one stylesheet (issue 16).

Every page extends ``templates/base.html`` (the header bar with the instance name and the
user menu, the local stylesheet and script); pages of a logged-in user extend
``templates/instance.html``, which adds the application navigator on the left. Views call
:func:`page` (login, consent, IdP, messages) or :func:`instance_page` (navigator, lists,
forms, the apps' pages).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Flask, Response, render_template

from mock_servicenow import apps
from mock_servicenow.domain.platform.context import Principal
from mock_servicenow.domain.ui import navigator
from mock_servicenow.web import assets
from mock_servicenow.web import session as browser
from mock_servicenow.web.context import (
    current_instance,
    emulator,
    get_ctx,
    is_loopback_caller,
)

HTML_CONTENT_TYPE = "text/html;charset=UTF-8"
#: Pages may carry the session's g_ck: never cached (as the platform's pages).
NO_CACHE = "no-cache,no-store,must-revalidate,max-age=-1"


@lru_cache(maxsize=1)
def navigator_sources() -> tuple[Path, ...]:
    """The navigator files: the platform's, then each application's."""
    return (navigator.NAVIGATOR_FILE, *apps.navigator_files())


def _dashboard_link() -> str | None:
    """The control-plane dashboard, for callers that may open it."""
    settings = emulator().settings
    if not settings.enable_control_plane:
        return None
    if settings.control_plane_loopback_only and not is_loopback_caller():
        return None
    return "/_emulator/"


def _layout() -> dict[str, Any]:
    """What ``base.html`` needs on every page."""
    return {"instance_name": current_instance().platform.name, "asset": assets.url,
            "dashboard_url": _dashboard_link()}


def install(app: Flask) -> None:
    """Give every template the layout's values (only pages render templates)."""
    app.context_processor(_layout)


def page(template: str, status: int = 200, **values: Any) -> Response:
    """A server-rendered page that is never cached (it may carry the session's g_ck)."""
    response = Response(render_template(template, **values), status=status,
                        content_type=HTML_CONTENT_TYPE)
    response.headers["Cache-Control"] = NO_CACHE
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def instance_page(template: str, user: Principal, status: int = 200, **values: Any) -> Response:
    """A page of the instance for a logged-in ``user``: the navigator shows the menus whose
    modules work for them (``domain/ui/navigator.py``)."""
    menus = navigator.navigator(get_ctx(user), navigator_sources())
    return page(template, status, user=user, menus=menus, g_ck=browser.user_token(), **values)


def message(title: str, text: str, status: int = 400, *, link_url: str | None = None,
            link_text: str | None = None) -> Response:
    """A ServiceNow-looking page with one message (errors that are not JSON APIs)."""
    return page("message.html", status, title=title, message=text, link_url=link_url,
                link_text=link_text)
