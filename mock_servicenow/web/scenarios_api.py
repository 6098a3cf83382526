"""``/_emulator/scenarios``: list the troubleshooting catalogue, apply a scenario or its fix.

``GET /_emulator/scenarios`` lists every scenario (and which are applied);
``POST /_emulator/scenarios/<name>`` applies one to the running instance, no restart;
``POST /_emulator/scenarios/<name>`` with ``{"fix": true}`` applies its documented fix.
"""

from __future__ import annotations

from flask import Blueprint, Response

from mock_servicenow.errors import InvalidRequest
from mock_servicenow.web.context import base_url, current_instance, get_db
from mock_servicenow.web.control_plane import json_body, loopback_only
from mock_servicenow.web.responses import json_response

bp = Blueprint("scenarios", __name__, url_prefix="/_emulator/scenarios")
bp.before_request(loopback_only)


@bp.get("")
def list_scenarios() -> Response:
    """The catalogue, each entry with title, symptom, fix and whether it is applied."""
    instance = current_instance()
    applied = set(instance.applied_scenarios(get_db()))
    return json_response({"scenarios": [
        {**scenario.describe(), "applied": name in applied}
        for name, scenario in sorted(instance.scenarios().items())
    ]})


@bp.post("/<name>")
def apply(name: str) -> Response:
    """Apply the scenario ``name`` (or its fix with ``{"fix": true}``)."""
    fix = json_body().get("fix", False)
    if not isinstance(fix, bool):
        raise InvalidRequest("'fix' must be true or false", message="Invalid request body")
    instance = current_instance()
    db = get_db()
    scenario = instance.apply_scenario(db, name, fix=fix, base_url=base_url())
    return json_response({
        "scenario": scenario.name,
        "applied": "fix" if fix else "setup",
        "active": instance.applied_scenarios(db),
    })
