"""Secure Score's improvement actions, their **Share** menu and the ServiceNow task panel.

ms-docs-servicenow-tickets.fr.md, "Create a task and share it to ServiceNow": on an
improvement action the share icon offers ServiceNow; a task is generated in which the admin
sets the priority and edits the name, description or due date; once every required field is
filled, the task is sent to ServiceNow. The actions come from the built-in sample set or an
uploaded Microsoft Graph ``secureScoreControlProfiles`` export (m365-ticketing.md §2).
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from connector.api import (
    RECOMMENDATION_CATEGORIES,
    SHARE_PRIORITIES,
    TICKET_TYPES,
    Connector,
    TaskDraft,
    Ticket,
)
from connector.errors import ConnectorError

from .context import ui_state
from .rendering import Problem, http_status, problem

bp = Blueprint("securescore", __name__)

_FIELDS = ("type", "priority", "name", "description", "due", "category")


def _page(lib: Connector, *, share: str | None = None, form: dict[str, str] | None = None,
          problems: list[Problem] | None = None,
          panel_problems: list[Problem] | None = None, code: int = 200) -> tuple[str, int]:
    problems = list(problems or [])
    files = lib.imported_action_files()
    actions: tuple[object, ...] = ()
    incomplete = False
    try:
        action_set = lib.actions(files)
        actions, incomplete = action_set.actions, action_set.incomplete
    except ConnectorError as exc:
        problems.append(problem(exc))
    shared: dict[str, Ticket] = {}
    for ticket in lib.tickets():
        shared.setdefault(ticket.control_id.lower(), ticket)
    panel = None
    if share is not None:
        panel = _panel(lib, share, files, shared, form, list(panel_problems or []))
    return render_template(
        "securescore.html", actions=actions, incomplete=incomplete,
        imported=bool(files), shared=shared, panel=panel, instance_url=lib.instance_url(),
        problems=problems, nav="securescore"), code


def _panel(lib: Connector, action_id: str, files: list[Path], shared: dict[str, Ticket],
           form: dict[str, str] | None, problems: list[Problem]) -> dict[str, object]:
    draft: TaskDraft | None = None
    try:
        draft = lib.draft(action_id, files=files)
    except ConnectorError as exc:
        problems.append(problem(exc))
    ready = False
    if draft is not None and not problems:
        try:
            lib.check_provisioned()
            ready = True
        except ConnectorError as exc:
            problems.append(problem(exc))
    values = form or ({"name": draft.name, "description": draft.description,
                       "category": draft.category, "type": "change", "priority": "",
                       "due": ""} if draft else {})
    return {"action_id": draft.action_id if draft else action_id, "draft": draft,
            "ticket": shared.get((draft.action_id if draft else action_id).lower()),
            "form": values, "problems": problems, "ready": ready,
            "types": TICKET_TYPES, "priorities": SHARE_PRIORITIES,
            "categories": RECOMMENDATION_CATEGORIES}


@bp.get("/securescore")
def actions() -> tuple[str, int]:
    """The improvement actions; ``?share=<id>`` opens the ServiceNow task panel for one."""
    with ui_state().library() as lib:
        return _page(lib, share=request.args.get("share"))


@bp.post("/securescore/share")
def share() -> Response | tuple[str, int]:
    """**Submit**: create the ticket (or find the one already made for the action)."""
    action_id = request.form.get("action_id", "")
    form = {name: request.form.get(name, "") for name in _FIELDS}
    with ui_state().library() as lib:
        try:
            ticket = lib.share(action_id, ticket_type=form["type"],
                               priority=form["priority"] or None, due=form["due"] or None,
                               name=form["name"], description=form["description"],
                               category=form["category"] or None,
                               files=lib.imported_action_files())
        except ConnectorError as exc:
            return _page(lib, share=action_id, form=form, panel_problems=[problem(exc)],
                         code=http_status(exc))
    if ticket.created:
        flash(f"Sent to ServiceNow: {ticket.number}", "success")
    else:
        # The CLI's words for the same case.
        flash(f"already shared: {ticket.number} exists for this action", "warning")
    return redirect(url_for("securescore.actions", share=ticket.control_id or action_id),
                    code=303)


@bp.post("/securescore/import")
def import_export() -> Response | tuple[str, int]:
    """Use an uploaded Graph export (one file per page, in order) instead of the samples."""
    uploads = [f for f in request.files.getlist("export") if f.filename]
    with ui_state().library() as lib:
        try:
            imported = lib.import_actions([f.read() for f in uploads])
        except ConnectorError as exc:
            return _page(lib, problems=[problem(exc)], code=http_status(exc))
    note = " (the last page has an @odata.nextLink: add the next pages)" \
        if imported.incomplete else ""
    flash(f"Imported {len(imported.actions)} improvement actions{note}", "success")
    return redirect(url_for("securescore.actions"), code=303)


@bp.post("/securescore/sample")
def use_samples() -> Response:
    """Go back to the built-in sample actions."""
    with ui_state().library() as lib:
        lib.forget_imported_actions()
    flash("Showing the sample improvement actions", "success")
    return redirect(url_for("securescore.actions"), code=303)
