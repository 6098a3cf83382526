"""Web side of the ``x_mioms_m365ticket`` app: its scripted REST API and the admin pages.

Scripted REST (servicenow-behaviour §9.5): ``/api/x_mioms_m365ticket/v1/...``, JSON, bodies
wrapped as ``{"result": ...}``, errors in the ServiceNow envelope (§3). When the app is not
installed (``--empty``, releases before Kingston) the API does not exist: 400 ``Requested URI
does not represent any resource`` (§1.5), as for any unknown REST path.

Pages (reachable after login, ``web.session``): the checklist with a Run button per step, the
connection status, System OAuth > Application Registry list and form, User Administration >
Users list and form, and a table's application access form on ``sys_db_object`` (where the
fix for the scope denial is made). Views parse, call one domain function, render.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from flask import Blueprint, Response, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from mock_servicenow.apps.x_mioms_m365ticket import admin, checklist, connection, install
from mock_servicenow.apps.x_mioms_m365ticket.constants import (
    APP_NAME,
    APP_ROLE,
    INTEGRATION_USER,
    OAUTH_ENTITY_NAME,
    SCOPE,
)
from mock_servicenow.domain.platform.context import Context, Principal
from mock_servicenow.errors import (
    InvalidRequest,
    NotAuthorized,
    RecordNotFound,
    RequestedURINotFound,
    ServiceNowError,
    UnsupportedMediaType,
)
from mock_servicenow.web.auth import authenticate
from mock_servicenow.web.context import emulator, get_ctx
from mock_servicenow.web.json_body import parse_json
from mock_servicenow.web.responses import json_response
from mock_servicenow.web.session import login_redirect, page_user

api = Blueprint("m365ticket_api", __name__, url_prefix=f"/api/{SCOPE}/v1")
pages = Blueprint("m365ticket_pages", __name__, template_folder="templates")

#: The REST_Endpoint ACL refusal (servicenow-behaviour §1.5, "Failed API level ACL Validation").
API_ACL_DETAIL = "Failed API level ACL Validation"


# -- scripted REST API ---------------------------------------------------------------------

@api.before_request
def _installed() -> None:
    if not install.is_installed(get_ctx()):
        raise RequestedURINotFound()


def _api_user(*, admin_only: bool) -> Context:
    user = authenticate()
    allowed = user.is_admin if admin_only else user.has_role(APP_ROLE)
    if not allowed:
        raise NotAuthorized(API_ACL_DETAIL)
    return get_ctx(user)


def _json_object() -> dict[str, Any]:
    raw = request.get_data()
    mimetype = request.mimetype or "application/json"
    if mimetype != "application/json":
        raise UnsupportedMediaType()
    body = parse_json(raw) if raw.strip() else None
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object", message="Bad Request")
    return body


@api.get("/checklist")
def api_checklist() -> Response:
    """The installation checklist (admin only)."""
    ctx = _api_user(admin_only=True)
    return json_response({"result": checklist.get_checklist(ctx).as_dict()})


@api.post("/checklist/<step>/run")
def api_run_step(step: str) -> Response:
    """Run one step; answers its new state and message (admin only)."""
    ctx = _api_user(admin_only=True)
    state = checklist.run_step(ctx, step,
                               integration_password=emulator().settings.integration_password)
    return json_response({"result": state.as_dict()})


@api.get("/connection")
def api_connection() -> Response:
    """Who connected, and when (the app's user role, or admin)."""
    ctx = _api_user(admin_only=False)
    return json_response({"result": connection.get_connection(ctx).as_dict()})


@api.post("/connection")
def api_connect() -> Response:
    """The provisioning handshake: the connector registers with its token."""
    ctx = _api_user(admin_only=False)
    body = _json_object()
    return json_response({"result": connection.connect(ctx, body).as_dict()}, 201)


@api.delete("/connection")
def api_disconnect() -> Response:
    """Disconnect (204, no body)."""
    ctx = _api_user(admin_only=False)
    connection.disconnect(ctx)
    return json_response(None, 204, body=False)


# -- pages ---------------------------------------------------------------------------------

def _form_token(user: Principal) -> str:
    """A per-user form token (``sysparm_ck``): POSTs from other sites cannot forge it."""
    key = str(emulator().settings.secret_key).encode()
    return hmac.new(key, f"{SCOPE}:{user.sys_id}".encode(), hashlib.sha256).hexdigest()


def _page_user(*, admin_only: bool = True) -> Principal | BaseResponse:
    user = page_user()
    if user is None:
        return login_redirect()
    allowed = user.is_admin if admin_only else user.has_role(APP_ROLE)
    if not allowed:
        return _forbidden()
    if request.method == "POST" and not hmac.compare_digest(
            request.form.get("sysparm_ck", ""), _form_token(user)):
        return _forbidden("The form expired or did not come from this instance; reload it")
    get_ctx(user)
    g.principal = user  # the journal names the page's user, as it does for API calls
    return user


def _forbidden(text: str = "Security constraints prevent access to the requested page") -> Response:
    return Response(render_template("x_mioms_m365ticket_message.html", title="Access denied",
                                    text=text, user=None),
                    status=403, content_type="text/html;charset=UTF-8")


def _render(template: str, user: Principal, **values: Any) -> Response:
    html = render_template(template, user=user, ck=_form_token(user), app_name=APP_NAME,
                           **values)
    return Response(html, content_type="text/html;charset=UTF-8")


def _search_arg() -> str:
    return request.args.get("sysparm_search", "")[:100]


@pages.route("/x_mioms_m365ticket_checklist.do", methods=["GET", "POST"])
def checklist_page() -> BaseResponse:
    """The installation checklist: per-step status and error text, a Run button per step."""
    user = _page_user()
    if isinstance(user, BaseResponse):
        return user
    ctx = get_ctx()
    if not install.is_installed(ctx):
        return _not_installed(user, ctx)
    if request.method == "POST":
        step = request.form.get("step", "")
        checklist.run_step(ctx, step,
                           integration_password=emulator().settings.integration_password)
        return redirect(url_for("m365ticket_pages.checklist_page") + f"#step-{step}", 303)
    return _render("x_mioms_m365ticket_checklist.html", user,
                   checklist=checklist.get_checklist(ctx), entity_name=OAUTH_ENTITY_NAME,
                   integration_user=INTEGRATION_USER)


@pages.get("/x_mioms_m365ticket_connection.do")
def connection_page() -> BaseResponse:
    """The app's connection status page."""
    user = _page_user(admin_only=False)
    if isinstance(user, BaseResponse):
        return user
    ctx = get_ctx()
    if not install.is_installed(ctx):
        return _not_installed(user, ctx)
    return _render("x_mioms_m365ticket_connection.html", user,
                   connection=connection.get_connection(ctx))


def _not_installed(user: Principal, ctx: Context) -> Response:
    reason = (install.release_refusal(install.reported_release(ctx))
              or f"{APP_NAME} is not installed")
    return _render("x_mioms_m365ticket_message.html", user, title=APP_NAME, text=reason)


@pages.get("/oauth_entity_list.do")
def oauth_entity_list() -> BaseResponse:
    """System OAuth > Application Registry (search by name)."""
    user = _page_user()
    if isinstance(user, BaseResponse):
        return user
    records = admin.search(get_ctx(), "oauth_entity", _search_arg(), ("name", "client_id"))
    return _render("x_mioms_m365ticket_list.html", user, title="Application Registries",
                   table="oauth_entity", columns=("name", "client_id", "type", "active"),
                   records=records, search=_search_arg())


@pages.get("/oauth_entity.do")
def oauth_entity_form() -> BaseResponse:
    """One Application Registry entry (the client secret stays masked)."""
    user = _page_user()
    if isinstance(user, BaseResponse):
        return user
    record = admin.get(get_ctx(), "oauth_entity", request.args.get("sys_id", ""))
    return _render("x_mioms_m365ticket_form.html", user, title="Application Registry",
                   record=record, fields=("name", "client_id", "client_secret", "redirect_url",
                                          "type", "active", "access_token_lifespan",
                                          "refresh_token_lifespan", "comments"))


@pages.get("/sys_user_list.do")
def user_list() -> BaseResponse:
    """User Administration > Users (search by user ID or name)."""
    user = _page_user()
    if isinstance(user, BaseResponse):
        return user
    records = admin.search(get_ctx(), "sys_user", _search_arg(), ("user_name", "name", "email"))
    return _render("x_mioms_m365ticket_list.html", user, title="Users", table="sys_user",
                   columns=("user_name", "name", "email", "active", "web_service_access_only"),
                   records=records, search=_search_arg())


@pages.get("/sys_user.do")
def user_form() -> BaseResponse:
    """One user (password never shown)."""
    user = _page_user()
    if isinstance(user, BaseResponse):
        return user
    record = admin.get(get_ctx(), "sys_user", request.args.get("sys_id", ""))
    return _render("x_mioms_m365ticket_form.html", user, title="User", record=record,
                   fields=("user_name", "name", "email", "title", "active", "locked_out",
                           "web_service_access_only", "internal_integration_user", "roles",
                           "user_password"))


@pages.route("/sys_db_object.do", methods=["GET", "POST"])
def application_access_form() -> BaseResponse:
    """A table's application access (``?sys_id=`` or ``?sysparm_query=name=<table>``)."""
    user = _page_user()
    if isinstance(user, BaseResponse):
        return user
    ctx = get_ctx()
    query = request.args.get("sysparm_query", "")
    name = query[5:] if query.startswith("name=") else ""
    sys_id = request.args.get("sys_id", "")
    if not name and not sys_id:
        raise RecordNotFound()
    if request.method == "POST":
        record = admin.application_access(ctx, sys_id=sys_id, name=name)
        admin.update_application_access(ctx, record.sys_id, request.form)
        return redirect(url_for("m365ticket_pages.application_access_form",
                                sys_id=record.sys_id, saved="1"), 303)
    record = admin.application_access(ctx, sys_id=sys_id, name=name)
    return _render("x_mioms_m365ticket_access.html", user, record=record,
                   saved=request.args.get("saved") == "1")


@pages.errorhandler(ServiceNowError)
def _page_error(error: ServiceNowError) -> Response:
    # Pages answer HTML, not the REST envelope; the text is the domain error's own.
    text = error.detail or error.message
    return Response(render_template("x_mioms_m365ticket_message.html", title=error.message,
                                    text=text, user=None),
                    status=error.status, content_type="text/html;charset=UTF-8")
