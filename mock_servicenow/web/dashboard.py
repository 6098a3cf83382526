"""``/_emulator/``: the control plane as a page, for people who would rather click.

The page is a shell: its script (``static/dashboard.js``) reads and drives everything through
the same JSON endpoints a script or the CLI uses (``/_emulator/info``, ``/scenarios``,
``/faults``, ``/clock``, ``/journal``, ``/reset``, ``/instances``), so the dashboard can do
nothing the API cannot, and shows exactly what the API says (the journal is the API's:
secrets masked). Loopback callers only, like the rest of the control plane.
"""

from __future__ import annotations

from flask import Blueprint, Response

from mock_servicenow.web.control_plane import loopback_only
from mock_servicenow.web.pages import page

bp = Blueprint("dashboard", __name__, url_prefix="/_emulator", template_folder="templates")
bp.before_request(loopback_only)


@bp.get("/")
def dashboard() -> Response:
    """The control-plane dashboard."""
    return page("dashboard.html")
