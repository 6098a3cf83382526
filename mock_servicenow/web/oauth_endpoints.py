"""OAuth endpoints: ``/oauth_token.do``, ``/oauth_revoke_token.do``, ``/oauth_auth.do``.

servicenow-behaviour §4. The token endpoint takes form bodies only; credentials in the query
string, JSON bodies and every other failure answer the captured 401. The authorize page
shows the login page to anonymous browsers (the identity provider when SSO is on), then a
consent page naming the logged-in user with "Not You?", Allow and Deny.
"""

from __future__ import annotations

from urllib.parse import urlencode

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.wrappers import Response as WerkzeugResponse

from mock_servicenow.domain.identity import oauth_tokens, sso
from mock_servicenow.domain.identity.oauth_entities import DEFAULT_SCOPE
from mock_servicenow.oauth.server import ServiceNowAuthorizationServer, token_failure
from mock_servicenow.web import session as browser
from mock_servicenow.web.context import get_ctx
from mock_servicenow.web.pages import message, page

bp = Blueprint("oauth", __name__, template_folder="templates")

_EXTENSION = "mock_servicenow.oauth"
#: Parameters that must travel in the form body, never in the URL (servicenow-behaviour §4.1).
_BODY_ONLY = frozenset({"grant_type", "client_id", "client_secret", "username", "password",
                        "refresh_token", "code", "code_verifier", "assertion"})
MISSING_STATE = "Missing State parameter in request."


def init_oauth(app: Flask) -> ServiceNowAuthorizationServer:
    """Build this app's authorization server (one per app, lazy context: house style F4)."""
    server = ServiceNowAuthorizationServer(context=get_ctx)
    app.extensions[_EXTENSION] = server
    return server


def server() -> ServiceNowAuthorizationServer:
    """This app's authorization server."""
    return current_app.extensions[_EXTENSION]  # type: ignore[no-any-return]


@bp.post("/oauth_token.do")
def token() -> Response:
    """Issue tokens (password, refresh_token, authorization_code, client_credentials, the JWT
    bearer grant)."""
    if request.mimetype != "application/x-www-form-urlencoded" \
            or _BODY_ONLY.intersection(request.args):
        return token_failure()
    return server().token_response()


@bp.route("/oauth_revoke_token.do", methods=["GET", "POST"])
def revoke() -> Response:
    """Revoke an access or refresh token; no authentication needed (servicenow-behaviour §4.3).

    The reference does not capture the answer; like RFC 7009 §2.2 it is 200 whether or not
    the token was known (nothing is learned by probing).
    """
    oauth_tokens.revoke(get_ctx(), request.values.get("token"))
    response = Response("", status=200)
    response.headers["Cache-Control"] = "no-store"
    return response


def _consent_page(grant: object) -> Response:
    user = browser.page_user()
    client = grant.client  # type: ignore[attr-defined]
    return page("consent.html", user=user, client=client,
                scope=grant.request.scope or DEFAULT_SCOPE,  # type: ignore[attr-defined]
                action=request.full_path, g_ck=browser.user_token(),
                not_you_url="/logout.do?" + urlencode({"sysparm_goto_url": request.full_path}))


@bp.route("/oauth_auth.do", methods=["GET", "POST"])
def authorize() -> Response | WerkzeugResponse:
    """The authorize endpoint (servicenow-behaviour §4.2)."""
    ctx = get_ctx()
    if oauth_tokens.property_true(ctx, oauth_tokens.STATE_REQUIRED_PROPERTY, default=True) \
            and not request.args.get("state"):
        return message("OAuth error", MISSING_STATE)
    user = browser.page_user()
    if user is None:
        return browser.login_redirect()
    if user.row.get("web_service_access_only"):
        return message("Not authorized", sso.identity_refusal(), 403)
    try:
        grant = server().get_consent_grant(end_user=user)
    except OAuth2Error as error:
        return message("OAuth error", _describe(error))
    if request.method in ("GET", "HEAD"):  # HEAD is GET without a body (never a decision)
        return _consent_page(grant)
    if not browser.csrf_ok():
        return message("OAuth error", "Invalid security token: please reload the page and "
                       "try again.", 403)
    allowed = request.form.get("action") == "allow"
    with ctx.db.atomic():
        return server().create_authorization_response(  # type: ignore[no-any-return]
            grant=grant, grant_user=user if allowed else None)


def _describe(error: OAuth2Error) -> str:
    if error.error == "invalid_client":
        return "Invalid client_id: no active OAuth application has this client id."
    return str(error.description or error.error)
