"""The identity-provider stand-in's pages (``/_idp/...``) and its control plane.

``/_idp/authorize`` is an Azure-AD-like sign-in page; a successful sign-in posts a signed ID
token back to the instance (OpenID Connect ``form_post``). ``/_idp/keys`` publishes the
signing key. ``/_emulator/idp/users`` manages the IdP's own directory and
``/_emulator/idp/sso`` points the instance at the stand-in and switches SSO on or off.
"""

from __future__ import annotations

import secrets

from flask import Blueprint, Response, request, session

from mock_servicenow.domain.identity import sso
from mock_servicenow.errors import InvalidRequest, RecordNotFound
from mock_servicenow.idp import directory
from mock_servicenow.web.context import base_url, get_ctx
from mock_servicenow.web.control_plane import json_body, loopback_only
from mock_servicenow.web.pages import message, page
from mock_servicenow.web.responses import json_response

bp = Blueprint("idp", __name__, template_folder="templates")
control = Blueprint("idp_control", __name__, url_prefix="/_emulator/idp")
control.before_request(loopback_only)

#: Azure AD's wording for a bad password (AADSTS50126).
BAD_CREDENTIALS = "Your account or password is incorrect."
DEFAULT_CLIENT_ID = "servicenow-instance"


def issuer() -> str:
    """The stand-in's issuer URL (``iss`` of its ID tokens)."""
    return base_url() + "/_idp"


def _idp_token() -> str:
    token = session.get("idp_ck")
    if not token:
        token = secrets.token_hex(16)
        session["idp_ck"] = token
    return str(token)


@bp.route("/_idp/authorize", methods=["GET", "POST"])
def authorize() -> Response:
    """Sign in at the IdP, then ``form_post`` an ID token to the instance's redirect URI."""
    redirect_uri = request.args.get("redirect_uri", "")
    if not redirect_uri.startswith(base_url() + "/"):
        return message("Sign-in error", "AADSTS50011: The redirect URI specified in the "
                       "request does not match the redirect URIs configured for the "
                       "application.")
    if request.method in ("GET", "HEAD"):  # HEAD is GET without a body
        return page("idp_login.html", action=request.full_path, idp_ck=_idp_token(),
                    error=None, login="")
    login = request.form.get("login", "")
    expected = session.get("idp_ck")
    if not expected or not secrets.compare_digest(str(expected), request.form.get("idp_ck", "")):
        return page("idp_login.html", 403, action=request.full_path, idp_ck=_idp_token(),
                    error="Your session expired. Please sign in again.", login=login)
    ctx = get_ctx()
    user = directory.authenticate(ctx, login, request.form.get("password", ""))
    if user is None:
        return page("idp_login.html", 401, action=request.full_path, idp_ck=_idp_token(),
                    error=BAD_CREDENTIALS, login=login)
    token = directory.id_token(ctx, user, issuer=issuer(),
                               audience=request.args.get("client_id", ""),
                               nonce=request.args.get("nonce"))
    fields = [("id_token", token), ("state", request.args.get("state", ""))]
    return page("form_post.html", action=redirect_uri, fields=fields)


@bp.get("/_idp/keys")
def keys() -> Response:
    """The signing key, public half (JWKS and PEM)."""
    ctx = get_ctx()
    key = directory.signing_key(ctx)
    public = key.as_dict(private=False)
    public.update(use="sig", alg="RS256")
    return json_response({"keys": [public], "pem": directory.public_pem(ctx),
                          "issuer": issuer()})


@control.get("/users")
def list_users() -> Response:
    """The IdP directory (no passwords)."""
    return json_response({"result": directory.list_users(get_ctx())})


@control.post("/users")
def add_user() -> Response:
    """Add (or replace) a directory user: ``{"user_name", "email", "password", "name"?}``."""
    body = json_body()
    # Strings only: str() of an object or a list would be stored as a user name or an email.
    fields = {key: body.get(key) for key in ("user_name", "email", "password", "name")}
    if any(value is not None and not isinstance(value, str) for value in fields.values()):
        raise InvalidRequest("user_name, email, password and name must be strings",
                             message="Invalid IdP user")
    try:
        user = directory.add_user(get_ctx(), user_name=fields["user_name"] or "",
                                  email=fields["email"] or "",
                                  password=fields["password"] or "",
                                  name=fields["name"] or None)
    except directory.IdpUserError as error:
        raise InvalidRequest(str(error), message="Invalid IdP user") from None
    return json_response({"result": user}, 201)


@control.delete("/users/<user_name>")
def remove_user(user_name: str) -> Response:
    """Remove a directory user."""
    if not directory.remove_user(get_ctx(), user_name):
        raise RecordNotFound(f"No identity-provider user {user_name}")
    return json_response({}, 204, body=False)


@control.post("/sso")
def configure_sso() -> Response:
    """``{"enabled": true|false, "client_id"?: str}``: point the instance at the stand-in
    (a default ``sso_properties`` row) and set ``glide.authenticate.multisso.enabled``."""
    body = json_body()
    enabled = body.get("enabled", True)
    client_id = body.get("client_id", DEFAULT_CLIENT_ID)
    if not isinstance(enabled, bool) or not isinstance(client_id, str) or not client_id:
        raise InvalidRequest("enabled must be true or false and client_id a non-empty string",
                             message="Invalid SSO request")
    ctx = get_ctx()
    result = sso.configure_local_idp(
        ctx, enabled=enabled, issuer=issuer(), auth_url=base_url() + "/_idp/authorize",
        signing_key=directory.public_pem(ctx),
        client_id=client_id)
    return json_response({"result": result})
