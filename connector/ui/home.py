"""The home page's ServiceNow cards, and all tickets of a type.

ms-docs-servicenow-tickets.fr.md, "Connect" and "Track tickets": the home page shows the "Do
you use ServiceNow?" card until a connection exists; once change-management and
incident-management tickets exist they show on cards, from which the admin can create a
ticket, view all tickets, or manage the ServiceNow configuration. Without provisioning there
are no cards (the "installation is complete but don't see tickets" case).
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from connector.api import Card, Ticket
from connector.errors import ConnectorError, InvalidInput

from .context import ui_state
from .rendering import TABLE_OF_TYPE, Problem, http_status, problem

bp = Blueprint("home", __name__)

#: Tickets listed on a card (the newest first); "View all tickets" shows the rest.
CARD_TICKETS = 5


@bp.get("/")
def index() -> str:
    """Home: the connect card, the provisioning notice, or the two ticket cards."""
    problems: list[Problem] = []
    cards: list[Card] = []
    tickets: list[Ticket] = []
    with ui_state().library() as lib:
        status = lib.status()
        ready = status.connected and status.provisioned and not (
            status.reauthorization_required or status.problem)
        if ready:
            try:
                lib.sync()
                cards = lib.cards()
            except ConnectorError as exc:
                problems.append(problem(exc))
            tickets = lib.tickets()
    newest = sorted(tickets, key=lambda t: t.number, reverse=True)
    per_card = {card.table: [t for t in newest if t.table == card.table][:CARD_TICKETS]
                for card in cards}
    return render_template("home.html", status=status, cards=cards, per_card=per_card,
                           problems=problems, nav="home")


@bp.get("/tickets")
def tickets() -> tuple[str, int]:
    """All tickets of one type, synced from the instance on load."""
    kind = request.args.get("type", "change")
    problems: list[Problem] = []
    if kind not in TABLE_OF_TYPE:
        error = InvalidInput(f"ticket type {kind!r} is not one of: change, incident")
        return render_template("tickets.html", kind=None, tickets=[], synced=None,
                               instance_url=None, problems=[problem(error)],
                               nav="tickets"), http_status(error)
    synced = None
    with ui_state().library() as lib:
        try:
            synced = lib.sync()
        except ConnectorError as exc:
            problems.append(problem(exc))
        listed = [t for t in lib.tickets() if t.table == TABLE_OF_TYPE[kind]]
        instance_url = lib.instance_url()
    listed.sort(key=lambda t: t.number, reverse=True)
    return render_template("tickets.html", kind=kind, tickets=listed, synced=synced,
                           instance_url=instance_url, problems=problems, nav="tickets"), 200
