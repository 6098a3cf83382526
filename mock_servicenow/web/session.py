"""Interactive (browser) sessions: who is logged in to the instance's pages.

The session is Flask's signed cookie, named ``glide_session_store`` like the platform's
(servicenow-behaviour §1.3). It holds the user's sys_id; every page request re-reads the
user, so deactivating or locking a user ends their sessions at once (§6).

Page blueprints (login, consent, app pages) use :func:`page_user` and
:func:`login_redirect`; the login blueprint uses :func:`log_in` and :func:`log_out`.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Response, redirect, request, session

from mock_servicenow.domain import identity
from mock_servicenow.domain.context import Principal
from mock_servicenow.web.context import get_ctx

_USER_KEY = "user_sys_id"


def page_user() -> Principal | None:
    """The logged-in user of this browser session, or ``None``."""
    sys_id = session.get(_USER_KEY)
    if not sys_id:
        return None
    ctx = get_ctx()
    row = identity.get_user(ctx, sys_id)
    if row is None or not identity.can_authenticate(row):
        session.pop(_USER_KEY, None)
        return None
    return identity.principal_for(ctx, row, via="session")


def log_in(principal: Principal) -> None:
    """Start a session for ``principal`` (a fresh session: no fixation)."""
    session.clear()
    session[_USER_KEY] = principal.sys_id
    session.permanent = False


def log_out() -> None:
    """End the session."""
    session.clear()


def login_redirect(login_path: str = "/login.do") -> Response:
    """Send the browser to the login page, coming back to the current URL afterwards."""
    back = request.full_path if request.query_string else request.path
    return redirect(f"{login_path}?{urlencode({'sysparm_goto_url': back})}")
