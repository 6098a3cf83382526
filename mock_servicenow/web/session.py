"""Interactive (browser) sessions: who is logged in to the instance's pages.

The session is Flask's signed cookie, named ``glide_session_store`` like the platform's
(servicenow-behaviour §1.3). It holds the user's sys_id and a session id whose server-side
record (``domain/identity/sso_sessions.py``) must still exist: logout kills copied cookies too, and
idle sessions time out by the instance clock. Every page request re-reads the user, so
deactivating or locking a user ends their sessions at once (§6).

Page blueprints (login, consent, app pages) use :func:`page_user` and
:func:`login_redirect`; the login blueprint uses :func:`log_in` and :func:`log_out`.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlencode

from flask import Flask, Request, redirect, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from werkzeug.wrappers import Response as WerkzeugResponse

from mock_servicenow.domain.identity import sso_sessions, users
from mock_servicenow.domain.platform.context import Principal
from mock_servicenow.web.context import get_ctx

_USER_KEY = "user_sys_id"
_SESSION_KEY = "sid"
_TOKEN_KEY = "g_ck"


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, minus the signer for requests without the cookie.

    Flask builds an ``itsdangerous`` serializer (a JSON round trip and key derivation) to
    open every session, even when the request has no cookie to read: that is every REST
    call, about a tenth of a GET by sys_id (scripts/bench, issue 9). Without the cookie the
    session is simply new and empty, exactly what Flask would have produced.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and ("HTTP_COOKIE" not in request.environ
                               or not request.cookies.get(self.get_cookie_name(app))):
            return self.session_class()
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        """``Secure`` whenever the request came over https (``serve --tls``, gunicorn with a
        certificate): a real instance's ``glide_session_store`` cookie is only ever sent over
        https (servicenow-behaviour §1.3 captures). Plain-http loopback serving keeps a
        cookie the browser will send back over http."""
        return bool(super().get_cookie_secure(app)) or request.is_secure


def page_user() -> Principal | None:
    """The logged-in user of this browser session, or ``None``."""
    sys_id = session.get(_USER_KEY)
    if not sys_id:
        return None
    ctx = get_ctx()
    if sso_sessions.session_user(ctx, session.get(_SESSION_KEY)) != sys_id:
        session.clear()
        return None
    row = users.get_user(ctx, sys_id)
    if row is None or not users.can_authenticate(row):
        session.pop(_USER_KEY, None)
        return None
    return users.principal_for(ctx, row, via="session")


def log_in(principal: Principal) -> None:
    """Start a session for ``principal`` (a fresh session and g_ck: no fixation)."""
    session.clear()
    token = secrets.token_hex(32)
    session[_SESSION_KEY] = sso_sessions.open_session(get_ctx(), principal.sys_id, token)
    session[_USER_KEY] = principal.sys_id
    session[_TOKEN_KEY] = token
    session.permanent = False


def log_out() -> None:
    """End the session, server side too."""
    sso_sessions.close_session(get_ctx(), session.get(_SESSION_KEY))
    session.clear()


def login_redirect(login_path: str = "/login.do") -> WerkzeugResponse:
    """Send the browser to the login page, coming back to the current URL afterwards."""
    back = request.full_path if request.query_string else request.path
    return redirect(f"{login_path}?{urlencode({'sysparm_goto_url': back})}")


# --- user token (g_ck), CSRF and safe redirects (identity) -----------------------------------


def user_token() -> str:
    """This session's ``g_ck``: the ``X-UserToken`` a browser-derived REST call must send and
    the ``sysparm_ck`` every form posts back (servicenow-behaviour §6). Created on first use."""
    token = session.get(_TOKEN_KEY)
    if not token:
        token = secrets.token_hex(32)
        session[_TOKEN_KEY] = token
    return str(token)


def user_token_matches(candidate: str | None) -> bool:
    """Constant-time check of a presented ``X-UserToken`` / ``sysparm_ck``."""
    expected = session.get(_TOKEN_KEY)
    if not expected or not candidate:
        return False
    return hmac.compare_digest(str(expected).encode(), candidate.encode())


def csrf_ok() -> bool:
    """True when the posted form carries this session's ``sysparm_ck`` (CSRF protection)."""
    return user_token_matches(request.form.get("sysparm_ck"))


def has_session_user() -> bool:
    """True when the session cookie names a user (valid or not)."""
    return bool(session.get(_USER_KEY))


#: What a browser's URL parser drops before it reads a URL (WHATWG URL Standard, "basic URL
#: parser": leading and trailing C0 controls and spaces are stripped, and ASCII tab and
#: newline are removed wherever they are).
_STRIPPED = "".join(map(chr, range(0x21)))
_REMOVED = str.maketrans("", "", "\t\n\r")


def safe_goto(target: str | None, default: str = "/navpage.do") -> str:
    """A path on this instance to go to after login/logout; anything else becomes
    ``default``.

    The value is judged as the browser will read the ``Location`` it ends up in: with tabs
    and newlines removed and control characters trimmed, ``/\\t/evil.example/x`` is the
    scheme-relative ``//evil.example/x``, another site. What is left must be a path
    (``/`` then not ``/`` or ``\\``, which browsers treat like ``/``) with no control
    character; that normalised path is what the redirect uses, so CR/LF can never reach a
    header (an open redirect and a 500 otherwise, issue 15).
    """
    if not target:
        return default
    path = target.translate(_REMOVED).strip(_STRIPPED)
    if (not path.startswith("/") or path[1:2] in ("/", "\\") or "\\" in path
            or any(ord(char) < 0x20 or ord(char) == 0x7F for char in path)):
        return default
    return path


def start_session(principal: Principal) -> None:
    """Log ``principal`` in (same as :func:`log_in`; kept for the identity blueprints)."""
    log_in(principal)
