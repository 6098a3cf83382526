"""Interactive login: ``/login.do``, ``/side_door.do``, ``/logout.do``, SSO hand-off and return.

servicenow-behaviour §6: ``login.do`` is the local login page, ``side_door.do`` always the
local one (even with SSO on; an error when already logged in), ``login_with_sso.do?
glide_sso_id=<sso_properties sys_id>`` starts an identity-provider login. With multi-provider
SSO on and an active provider, ``login.do`` (and so ``oauth_auth.do``) sends the browser to
the provider (issue 4). Web-service-only users cannot log in here. Forms carry the session's
``sysparm_ck`` (CSRF).
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from flask import Blueprint, redirect, request, session
from werkzeug.wrappers import Response as BaseResponse

from mock_servicenow.domain.identity import sso, users
from mock_servicenow.errors import NotAuthenticated
from mock_servicenow.web import session as browser
from mock_servicenow.web.context import base_url, get_ctx
from mock_servicenow.web.pages import message, page

bp = Blueprint("login", __name__, template_folder="templates")

#: The login page's message for bad credentials (a real instance's wording).
INVALID_LOGIN = "User name or password invalid"
CSRF_MESSAGE = "Invalid security token: please reload the page and try again."
SSO_CALLBACK = "/oauth_redirect.do"


def _login_form(action: str, *, error: str | None = None, user_name: str = "",
                side_door: bool = False, status: int = 200) -> BaseResponse:
    goto = browser.safe_goto(request.values.get("sysparm_goto_url"))
    idp = sso.active_provider(get_ctx())
    sso_url = None
    if idp is not None:
        sso_url = "/login_with_sso.do?" + urlencode({"glide_sso_id": idp["sys_id"],
                                                     "sysparm_goto_url": goto})
    return page("login.html", status, action=action, error=error, user_name=user_name,
                goto=goto, g_ck=browser.user_token(), side_door=side_door, sso_url=sso_url)


def _post_login(action: str, *, side_door: bool) -> BaseResponse:
    if not browser.csrf_ok():
        return _login_form(action, error=CSRF_MESSAGE, side_door=side_door, status=403)
    user_name = request.form.get("user_name", "")
    try:
        principal = users.authenticate_password(
            get_ctx(), user_name, request.form.get("user_password", ""), via="session",
            interactive=True)
    except users.InteractiveLoginRefused:
        return _login_form(action, error=sso.identity_refusal(), user_name=user_name,
                           side_door=side_door, status=403)
    except NotAuthenticated:
        return _login_form(action, error=INVALID_LOGIN, user_name=user_name,
                           side_door=side_door, status=401)
    browser.start_session(principal)
    return redirect(browser.safe_goto(request.form.get("sysparm_goto_url")))


@bp.route("/login.do", methods=["GET", "POST"])
def login() -> BaseResponse:
    """The login page; with multi-provider SSO on, a redirect to the identity provider."""
    if request.method == "POST":
        return _post_login("/login.do", side_door=False)
    idp = sso.active_provider(get_ctx())
    if idp is not None:
        goto = browser.safe_goto(request.args.get("sysparm_goto_url"))
        return redirect("/login_with_sso.do?" + urlencode({"glide_sso_id": idp["sys_id"],
                                                           "sysparm_goto_url": goto}))
    return _login_form("/login.do")


@bp.route("/side_door.do", methods=["GET", "POST"])
def side_door() -> BaseResponse:
    """Always the local login, SSO or not (servicenow-behaviour §6)."""
    if browser.page_user() is not None:
        return message("Already logged in",
                       "You are already logged in. Log out before using the side door login.",
                       link_url="/logout.do", link_text="Log out")
    if request.method == "POST":
        return _post_login("/side_door.do", side_door=True)
    return _login_form("/side_door.do", side_door=True)


@bp.get("/logout.do")
def logout() -> BaseResponse:
    """End the session; with ``sysparm_goto_url``, back to the login page for that URL."""
    browser.log_out()
    goto = request.args.get("sysparm_goto_url")
    if goto:
        return redirect("/login.do?" + urlencode({"sysparm_goto_url": browser.safe_goto(goto)}))
    return redirect("/login.do")


@bp.get("/login_with_sso.do")
def login_with_sso() -> BaseResponse:
    """Start an OpenID Connect login at the provider ``glide_sso_id`` (servicenow-behaviour §6)."""
    ctx = get_ctx()
    idp = sso.provider(ctx, request.args.get("glide_sso_id"))
    if idp is None:
        return message("Identity provider not found",
                       "No active identity provider matches this login link.", 404,
                       link_url="/side_door.do", link_text="Log in with a local account")
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    session["sso"] = {"state": state, "nonce": nonce, "idp": idp["sys_id"],
                      "goto": browser.safe_goto(request.args.get("sysparm_goto_url"))}
    query = urlencode({
        "client_id": idp.get("client_id") or "", "response_type": "id_token",
        "response_mode": "form_post", "scope": "openid email profile",
        "redirect_uri": base_url() + SSO_CALLBACK, "state": state, "nonce": nonce,
    })
    return redirect(f"{idp.get('auth_url')}?{query}")


@bp.route(SSO_CALLBACK, methods=["GET", "POST"])
def sso_callback() -> BaseResponse:
    """The identity provider's answer: validate the ID token, map the user, log in."""
    pending = session.pop("sso", None)
    local = {"link_url": "/side_door.do", "link_text": "Log in with a local account"}
    if not pending or request.values.get("state") != pending.get("state"):
        return message("Login failed", "The single sign-on response does not match a login "
                       "started here (state mismatch).", 403, **local)
    if request.values.get("error"):
        return message("Login failed", "The identity provider refused the login: "
                       f"{request.values.get('error_description') or request.values['error']}",
                       403, **local)
    ctx = get_ctx()
    idp = sso.provider(ctx, pending.get("idp"))
    if idp is None:
        return message("Login failed", "The identity provider is no longer active.", 403,
                       **local)
    try:
        claims = sso.validate_id_token(ctx, idp, request.values.get("id_token", ""),
                                       pending.get("nonce"))
        principal = sso.map_user(ctx, idp, claims)
    except sso.SsoRefused as refused:
        return message("Login failed", str(refused), 403, **local)
    browser.start_session(principal)
    return redirect(browser.safe_goto(pending.get("goto")))
