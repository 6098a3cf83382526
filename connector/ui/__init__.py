"""``snow-connector ui``: the Microsoft 365 security center's ServiceNow pages, served locally.

The pages the 2020 security center showed (ms-docs-servicenow-tickets.fr.md, m365-ticketing.md
§3.4): the home page's "Do you use ServiceNow?" card and the change- and incident-management
cards, the ServiceNow configuration page (connect, connection status, delete, state names),
the provisioning page (``/ticketProvisioning``, **Authorize**), Secure Score's improvement
actions with their **Share** menu and the task panel, and all tickets.

Every page calls :class:`connector.api.Connector`, the library the CLI uses, on the same
connector home: what the CLI does the pages show, and the other way round. Nothing here
imports the emulator (tests/test_layering.py).
"""

from __future__ import annotations

from .app import create_app
from .server import Listening, listen

__all__ = ["Listening", "create_app", "listen"]
