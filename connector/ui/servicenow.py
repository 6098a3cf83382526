"""The ServiceNow configuration pages: connect, connection status, provisioning, delete,
state names.

ms-docs-servicenow-tickets.fr.md: "Connect to ServiceNow" leads to the configuration page,
whose instructions authorize the Microsoft 365 connector app (signed in as the integration
user, never with personal credentials); the connection status shows there afterwards; "Manage
ServiceNow configuration" deletes the connection and customizes the ticket state names; the
provisioning page (``/ticketProvisioning``) has **Authorize**, after which the cards appear.
How the authorization reaches the ui on any port: :mod:`connector.ui.flows`.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from connector.api import TICKET_TYPES, Status
from connector.errors import ConnectorError, InvalidInput

from .context import ui_state
from .flows import is_own_address
from .rendering import Problem, http_status, problem

bp = Blueprint("servicenow", __name__)

_FLOW_KEY = "authorization_flow"


def _connect_page(*, problems: list[Problem] | None = None, form: dict[str, str] | None = None,
                  code: int = 200) -> tuple[str, int]:
    ui = ui_state()
    with ui.library() as lib:
        status = lib.status()
    flow = ui.flows.current()
    mine = flow is not None and session.get(_FLOW_KEY) == flow.id
    values = dict(form or {})
    if not values and flow is not None and mine:
        values = {"instance": flow.pending.instance_url, "client_id": flow.pending.client_id}
    elif not values and status.connected:
        values = {"instance": status.instance_url or "", "client_id": status.client_id or ""}
    return render_template("connect.html", status=status, flow=flow if mine else None,
                           form=values, problems=problems or [],
                           redirect_uri=ui.settings.redirect_uri, nav="settings"), code


@bp.get("/servicenow/connect")
def connect() -> tuple[str, int]:
    """The configuration page's connect form (and the flow in progress, if any)."""
    return _connect_page()


@bp.post("/servicenow/connect")
def start_connect() -> Response | tuple[str, int]:
    """Start the authorization-code flow: send the browser to the instance's authorize page."""
    form = {"instance": request.form.get("instance", "").strip(),
            "client_id": request.form.get("client_id", "").strip()}
    secret = request.form.get("client_secret", "")
    ui = ui_state()
    try:
        with ui.library() as lib:
            pending = lib.begin_authorization(form["instance"], form["client_id"], secret)
        flow = ui.flows.start(
            pending,
            return_to=lambda flow_id: url_for("servicenow.complete_connect", flow=flow_id,
                                              _external=True),
            ui_receives=is_own_address(request.host, pending.redirect_uri))
    except ConnectorError as exc:
        return _connect_page(problems=[problem(exc)], form=form, code=http_status(exc))
    session[_FLOW_KEY] = flow.id
    return redirect(pending.url, code=303)


@bp.post("/servicenow/connect/cancel")
def cancel_connect() -> Response:
    """Stop waiting for the instance (frees the redirect URI's port)."""
    flow = ui_state().flows.current()
    if flow is not None and session.get(_FLOW_KEY) == flow.id:
        ui_state().flows.finish(flow.id)
    session.pop(_FLOW_KEY, None)
    return redirect(url_for("servicenow.connect"), code=303)


def redirect_callback() -> Response | tuple[str, int]:
    """The registered redirect URI's path, when the ui itself listens on its host and port."""
    flow = ui_state().flows.receive(request.url)
    if flow is None:
        return _connect_page(problems=[Problem(
            "no authorization is in progress here: start again with Connect to ServiceNow")],
            code=409)
    return redirect(url_for("servicenow.complete_connect", flow=flow.id), code=303)


@bp.get("/servicenow/connect/complete")
def complete_connect() -> Response | tuple[str, int]:
    """Where the browser comes back: exchange the code, show the connection status."""
    ui = ui_state()
    flow = ui.flows.get(request.args.get("flow", ""))
    if flow is None or session.get(_FLOW_KEY) != flow.id:
        return _connect_page(problems=[Problem(
            "this authorization is not in progress any more (it finished, was cancelled, "
            "expired, or began in another browser): start again with Connect to ServiceNow",
            "Connect to ServiceNow", "servicenow.connect")], code=409)
    callback = ui.flows.callback(flow)
    if callback is None:
        # Came back here without the instance's answer (a reload, the back button).
        return _connect_page()
    session.pop(_FLOW_KEY, None)
    ui.flows.finish(flow.id)
    form = {"instance": flow.pending.instance_url, "client_id": flow.pending.client_id}
    try:
        with ui.library() as lib:
            status = lib.complete_authorization(flow.pending, callback)
    except ConnectorError as exc:
        return _connect_page(problems=[problem(exc)], form=form, code=http_status(exc))
    return render_template("connected.html", status=status, nav="settings"), 200


@bp.get("/ticketProvisioning")
def provisioning() -> str:
    """The provisioning page: status and **Authorize**."""
    with ui_state().library() as lib:
        status = lib.status()
    return render_template("provisioning.html", status=status, problems=[], nav="settings")


@bp.post("/ticketProvisioning")
def authorize() -> Response | tuple[str, int]:
    """**Authorize**: the provisioning step; then back to the home page, where the cards are."""
    with ui_state().library() as lib:
        try:
            status = lib.authorize()
        except ConnectorError as exc:
            current = lib.status()
            return render_template("provisioning.html", status=current,
                                   problems=[problem(exc)], nav="settings"), http_status(exc)
    flash(f"Authorized: status: {status.summary}", "success")
    return redirect(url_for("home.index"), code=303)


def _configuration(status: Status | None = None, problems: list[Problem] | None = None,
                   code: int = 200, confirm_delete: bool = False) -> tuple[str, int]:
    with ui_state().library() as lib:
        current = status or lib.status()
        names = {kind: lib.state_names(kind) for kind in TICKET_TYPES}
    return render_template("configuration.html", status=current, state_names=names,
                           problems=problems or [], confirm_delete=confirm_delete,
                           nav="settings"), code


@bp.get("/servicenow/configuration")
def configuration() -> tuple[str, int]:
    """Connection details and status, **Delete connection**, the state-name tables."""
    return _configuration(confirm_delete=request.args.get("confirm") == "delete")


@bp.post("/servicenow/configuration/delete")
def delete_connection() -> Response:
    """Delete the connection: the app's record, both tokens, the stored secrets."""
    with ui_state().library() as lib:
        outcome = lib.disconnect()
    for warning in outcome.warnings:
        flash(f"warning: {warning}", "warning")
    flash("disconnected" if outcome.was_connected else "not connected", "success")
    return redirect(url_for("home.index"), code=303)


@bp.post("/servicenow/configuration/states")
def save_state_names() -> Response | tuple[str, int]:
    """**Save** one ticket type's state names (an empty name restores the platform's)."""
    kind = request.form.get("type", "")
    try:
        if kind not in TICKET_TYPES:
            raise InvalidInput(f"ticket type {kind!r} is not one of: change, incident")
        with ui_state().library() as lib:
            _save_names(lib, kind, request.form)
    except ConnectorError as exc:
        return _configuration(problems=[problem(exc)], code=http_status(exc))
    flash(f"Saved the {kind} state names", "success")
    return redirect(url_for("servicenow.configuration") + f"#states-{kind}", code=303)


def _save_names(lib: Any, kind: str, form: Any) -> None:
    for row in lib.state_names(kind):
        sent = " ".join(str(form.get(f"name_{row.value}", "")).split())
        if sent and sent != row.default:
            if sent != row.custom:
                lib.set_state_name(kind, row.value, sent)
        elif row.custom is not None:
            lib.clear_state_name(kind, row.value)
    value = str(form.get("new_value", "")).strip()
    name = str(form.get("new_name", "")).strip()
    if value or name:
        if not value:
            raise InvalidInput("give the state value the new name is for (an integer such as "
                               "-5, 1 or 7)")
        # The page's "add a state" row: a value of a customized state model, named on
        # purpose (the CLI's `states set` refuses values the table is not known to have).
        lib.set_state_name(kind, value, name, new=True)
