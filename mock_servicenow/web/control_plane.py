"""The control plane: ``/_emulator/...``, beside the emulated API and never inside ``/api/now``.

JSON in and out (ARCHITECTURE §2). Enabled by default and answering loopback callers only;
``Settings.enable_control_plane=False`` (``MOCK_SERVICENOW_CONTROL_PLANE=off``) removes it.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, request

from mock_servicenow.domain.platform.clock import ControllableClock, parse_glide
from mock_servicenow.errors import InvalidRequest, NotAuthorized, RecordNotFound
from mock_servicenow.web.context import (
    current_instance,
    emulator,
    get_db,
    is_loopback_caller,
)
from mock_servicenow.web.responses import json_response

bp = Blueprint("control_plane", __name__, url_prefix="/_emulator")


@bp.before_request
def loopback_only() -> None:
    """Refuse callers that are not on the loopback interface (unless configured off)."""
    if emulator().settings.control_plane_loopback_only and not is_loopback_caller():
        raise NotAuthorized("The emulator control plane only answers loopback callers")


def json_body() -> dict[str, Any]:
    """The request's JSON object (empty when there is no body); 400 when it is not JSON."""
    if not request.get_data():
        return {}
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidRequest("The body must be a JSON object", message="Invalid request body")
    return body


@bp.get("/info")
def info() -> Response:
    """Instance name, release, database, clock, table counts."""
    instance = current_instance()
    db = get_db()
    platform = instance.platform
    return json_response({
        "instance_name": platform.name,
        "release": platform.release.family,
        "build": platform.release.glide_war,
        "base_url": emulator().settings.base_url,
        "database": instance.location.describe(),
        "seed": instance.seed_kind,
        "clock": instance.load_clock(db).describe(),
        "scenarios": instance.applied_scenarios(db),
        "tables": instance.table_counts(db),
        # Which process answered: with serve --workers N, tells the workers apart.
        "pid": os.getpid(),
    })


@bp.post("/reset")
def reset() -> Response:
    """Back to the seeded state (template copy); the journal is cleared too."""
    instance = current_instance()
    elapsed = instance.reset(get_db())
    emulator().journal.clear()
    return json_response({"status": "reset", "elapsed_ms": round(elapsed * 1000, 3)})


@bp.get("/journal")
def journal() -> Response:
    """The most recent requests (``?limit=N``), secrets redacted."""
    raw = request.args.get("limit", "100")
    try:
        limit = int(raw)
    except ValueError:
        raise InvalidRequest(f"limit must be an integer, not {raw!r}",
                             message="Invalid request") from None
    return json_response({"entries": emulator().journal.recent(limit)})


@bp.route("/clock", methods=["GET", "POST"])
def clock() -> Response:
    """Read or drive the instance clock.

    Body: ``{"action": "freeze", "at": "2026-01-01 00:00:00"}`` (``at`` optional),
    ``{"action": "advance", "seconds": 3600}``, ``{"action": "unfreeze"}`` or
    ``{"action": "reset"}``.
    """
    instance = current_instance()
    db = get_db()
    if request.method in ("GET", "HEAD"):  # HEAD is GET without a body (§1.1)
        return json_response(instance.load_clock(db).describe())
    body = json_body()
    action = body.get("action")
    if action not in ("freeze", "advance", "unfreeze", "reset"):
        raise InvalidRequest("action must be one of freeze, advance, unfreeze, reset",
                             message="Invalid clock action")
    try:
        at = parse_glide(str(body["at"])) if action == "freeze" and body.get("at") else None
        seconds = float(body["seconds"]) if action == "advance" else 0.0
        if not math.isfinite(seconds) or abs(seconds) > 100 * 365 * 86400:
            raise ValueError("seconds out of range")
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise InvalidRequest(f"bad clock request: {type(exc).__name__}",
                             message="Invalid clock action") from None

    def change(current: ControllableClock) -> None:
        if action == "freeze":
            current.freeze(at)
        elif action == "advance":
            current.advance(seconds)
        elif action == "unfreeze":
            current.unfreeze()
        else:
            current.reset()

    # One write transaction: concurrent advances from several workers all count.
    return json_response(instance.update_clock(db, change).describe())


#: The OpenAPI documents, kept at the project root (``contracts/``) as the shared truth.
CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "contracts"
_CONTRACT_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*\.openapi\.yaml$")


@bp.get("/contracts")
def contracts() -> Response:
    """The contracts a user can point schemathesis or a code generator at."""
    names = sorted(p.name for p in CONTRACTS_DIR.glob("*.openapi.yaml"))
    return json_response({"contracts": [
        {"name": name, "url": f"{request.host_url.rstrip('/')}/_emulator/contracts/{name}"}
        for name in names
    ]})


@bp.get("/contracts/<name>")
def contract(name: str) -> Response:
    """One contract document, as YAML."""
    path = CONTRACTS_DIR / name
    if not _CONTRACT_NAME.match(name) or not path.is_file():
        raise RecordNotFound(f"no contract named {name!r}", message="No such contract")
    return Response(path.read_bytes(), content_type="application/yaml")
