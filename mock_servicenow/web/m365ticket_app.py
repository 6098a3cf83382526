"""Web side of the ``x_mioms_m365ticket`` app: its scripted REST API and the admin pages.

Scripted REST (servicenow-behaviour §9.5): ``/api/x_mioms_m365ticket/v1/...``, JSON, bodies
wrapped as ``{"result": ...}``, errors in the ServiceNow envelope (§3). When the app is not
installed (``--empty``, releases before Kingston) the API does not exist: 400 ``Requested URI
does not represent any resource`` (§1.5), as for any unknown REST path.

Pages (reachable after login, ``web.session``): the checklist with a Run button per step and
the connection status, on the instance's templates (the navigator shows them under the app's
menu). The admin validates what the checklist created, and fixes the ``oauth_entity`` table's
application access, on the platform's own list and form pages (``web/record_pages.py``).
Views parse, call one domain function, render.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from mock_servicenow.apps.x_mioms_m365ticket import checklist, connection, install
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
    RequestedURINotFound,
    ServiceNowError,
    UnsupportedMediaType,
)
from mock_servicenow.web.auth import authenticate
from mock_servicenow.web.bodies import parse_json
from mock_servicenow.web.context import emulator, get_ctx
from mock_servicenow.web.pages import instance_page, message
from mock_servicenow.web.responses import json_response
from mock_servicenow.web.session import csrf_ok, login_redirect, page_user

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

def _page_user(*, admin_only: bool = True) -> Principal | BaseResponse:
    """The logged-in user allowed on the page; POSTs carry the session's ``sysparm_ck``."""
    user = page_user()
    if user is None:
        return login_redirect()
    allowed = user.is_admin if admin_only else user.has_role(APP_ROLE)
    get_ctx(user)
    g.principal = user  # the journal names the page's user, as it does for API calls
    if not allowed:
        return _message(user, "Access denied",
                        "Security constraints prevent access to the requested page", 403)
    if request.method == "POST" and not csrf_ok():
        return _message(user, "Access denied",
                        "The form expired or did not come from this instance; reload it", 403)
    return user


def _message(user: Principal, title: str, text: str, status: int = 200) -> Response:
    return instance_page("x_mioms_m365ticket_message.html", user, status, title=title,
                         text=text, app_name=APP_NAME)


def _render(template: str, user: Principal, **values: Any) -> Response:
    return instance_page(template, user, app_name=APP_NAME, **values)


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
    return _message(user, APP_NAME, reason)


@pages.errorhandler(ServiceNowError)
def _page_error(error: ServiceNowError) -> Response:
    # Pages answer HTML, not the REST envelope; the text is the domain error's own.
    user = page_user()
    text = error.detail or error.message
    if user is None:
        return message(error.message, text, error.status)
    return _message(user, error.message, text, error.status)
