"""How library results and errors look on the pages.

An error reads on a page exactly as the CLI prints it after ``snow-connector:``
(:func:`connector.errors.describe`), followed by the page that fixes it, when there is one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, url_for

from connector.api import TICKET_TYPES, Ticket, record_url
from connector.errors import (
    AuthenticationError,
    ConnectorError,
    InvalidInput,
    NotConnected,
    NotProvisioned,
    RateLimited,
    ReauthorizationRequired,
    ServiceNowAPIError,
    TransportError,
    describe,
)

from .context import ui_state

#: Ticket priority values as the instance labels them (servicenow-behaviour §7.2, §7.4).
PRIORITY_LABELS = {"1": "1 - Critical", "2": "2 - High", "3": "3 - Moderate", "4": "4 - Low",
                   "5": "5 - Planning"}
#: Ticket type (``--type``) -> table, and the card each shows on.
TABLE_OF_TYPE = {"change": "change_request", "incident": "incident"}
TYPE_OF_TABLE = {table: kind for kind, table in TABLE_OF_TYPE.items()}
CARD_TITLES = {"change": "Change management", "incident": "Incident management"}
TYPE_NAMES = {"change": "Change request", "incident": "Incident"}
assert set(TABLE_OF_TYPE) == set(TICKET_TYPES)


@dataclass(frozen=True)
class Problem:
    """An error as a page shows it: the CLI's words, and where to fix it."""

    text: str
    fix_label: str | None = None
    fix_endpoint: str | None = None

    @property
    def fix_url(self) -> str | None:
        """The fixing page's URL."""
        return url_for(self.fix_endpoint) if self.fix_endpoint else None


def problem(error: ConnectorError) -> Problem:
    """The page form of a library error."""
    text = describe(error)
    if isinstance(error, NotProvisioned):
        return Problem(text, "Go to the provisioning page", "servicenow.provisioning")
    if isinstance(error, NotConnected | ReauthorizationRequired | AuthenticationError):
        return Problem(text, "Connect to ServiceNow", "servicenow.connect")
    if isinstance(error, TransportError | ServiceNowAPIError) and not isinstance(
            error, RateLimited):
        return Problem(text, "Manage ServiceNow configuration", "servicenow.configuration")
    return Problem(text)


def http_status(error: ConnectorError) -> int:
    """The status of a page that failed a form's action with ``error``."""
    if isinstance(error, InvalidInput):
        return 400
    if isinstance(error, RateLimited):
        return 429
    if isinstance(error, TransportError):
        return 504
    if isinstance(error, ServiceNowAPIError):
        return 502
    # Not connected, not provisioned, refused authorization, an instance that cannot host
    # the integration, a redirect port in use: the state of things, not a fault of the ui.
    return 409


def priority_label(value: str) -> str:
    """``2`` -> ``2 - High``."""
    return PRIORITY_LABELS.get(value, value or "-")


def due(value: str) -> str:
    """``2026-12-31 23:59:59`` -> ``2026-12-31`` (the date the admin chose)."""
    return value.split(" ", 1)[0] if value else "-"


def ticket_url(ticket: Ticket, instance_url: str | None) -> str | None:
    """The ticket's form on the instance."""
    return record_url(instance_url, ticket.table, ticket.sys_id) if instance_url else None


def install(app: Flask) -> None:
    """Filters and globals the templates use."""
    app.jinja_env.filters["priority_label"] = priority_label
    app.jinja_env.filters["due"] = due
    app.jinja_env.globals["ticket_url"] = ticket_url
    app.jinja_env.globals["CARD_TITLES"] = CARD_TITLES
    app.jinja_env.globals["TYPE_NAMES"] = TYPE_NAMES
    app.jinja_env.globals["TYPE_OF_TABLE"] = TYPE_OF_TABLE

    @app.context_processor
    def _page_globals() -> dict[str, Any]:
        return {"account": ui_state().account}
