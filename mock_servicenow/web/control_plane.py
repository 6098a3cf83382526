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
from flask.blueprints import BlueprintSetupState
from werkzeug.routing import PathConverter

from mock_servicenow.domain.platform.clock import (
    ClockOutOfRange,
    ControllableClock,
    parse_glide,
)
from mock_servicenow.errors import InvalidRequest, NotAuthorized, RecordNotFound
from mock_servicenow.web.bodies import parse_json
from mock_servicenow.web.context import (
    current_instance,
    emulator,
    get_db,
    is_loopback_caller,
)
from mock_servicenow.web.responses import json_response

bp = Blueprint("control_plane", __name__, url_prefix="/_emulator")


class AnyText(PathConverter):
    """A path parameter taking any text, slashes and newlines included, so that every
    value reaches the view and gets the documented answer (werkzeug's ``path`` stops at a
    newline, and no route then matches: an undocumented 400)."""

    regex = r"[\s\S]+"
    part_isolating = False  # werkzeug infers True from a regex without "/"


@bp.record_once
def _register_converter(state: BlueprintSetupState) -> None:
    state.app.url_map.converters.setdefault("any_text", AnyText)


@bp.before_request
def loopback_only() -> None:
    """Refuse callers that are not on the loopback interface (unless configured off)."""
    if emulator().settings.control_plane_loopback_only and not is_loopback_caller():
        raise NotAuthorized("The emulator control plane only answers loopback callers")


def json_body() -> dict[str, Any]:
    """The request's JSON object (empty when there is no body): 400 ``Exception while reading
    request`` when the body cannot be read (``web.bodies``), 400 ``Invalid request body``
    when it is JSON but not an object."""
    raw = request.get_data()
    if not raw:
        return {}
    body = parse_json(raw)
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
        given = body.get("at") if action == "freeze" else None
        if given is not None and not isinstance(given, str):
            raise TypeError("at must be a date-time string")
        at = parse_glide(given) if given is not None else None  # "" is not a date-time
        if action == "advance" and isinstance(body["seconds"], bool):
            raise TypeError("seconds must be a number")
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
    try:
        updated = instance.update_clock(db, change)
    except ClockOutOfRange as exc:
        raise InvalidRequest(str(exc), message="Invalid clock action") from None
    return json_response(updated.describe())


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


@bp.get("/contracts/<any_text:name>")
def contract(name: str) -> Response:
    """One contract document, as YAML; any other name (slashes included: the route takes a
    path, so ``a%2Fb`` is the documented 404 rather than a routing 400) is a 404."""
    path = CONTRACTS_DIR / name
    if not _CONTRACT_NAME.fullmatch(name) or not path.is_file():
        # The name is not echoed: it is the caller's text (path tricks, control characters).
        raise RecordNotFound("No contract has this name; GET /_emulator/contracts lists them",
                             message="No such contract")
    return Response(path.read_bytes(), content_type="application/yaml")
