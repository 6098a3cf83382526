"""``/_emulator/instances``: create, list and delete isolated instances (issue 9 item 4).

Rules (host names, storage, validation) live in ``domain/platform/instances.py``; this
blueprint only parses, calls the registry and renders. Loopback callers only, like the rest
of the control plane.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, request

from mock_servicenow.domain.platform.instances import InstanceInfo
from mock_servicenow.web import control_plane
from mock_servicenow.web.context import emulator
from mock_servicenow.web.responses import json_response

bp = Blueprint("instances", __name__, url_prefix="/_emulator/instances")
bp.before_request(control_plane.loopback_only)


def _port(host: str) -> str | None:
    """The port of a ``Host`` header, if it names one (IPv6 literals in brackets)."""
    if host.startswith("["):
        rest = host.partition("]")[2]
        return rest[1:] if rest.startswith(":") else None
    return host.rsplit(":", 1)[1] if ":" in host else None


def _shown(entry: InstanceInfo) -> dict[str, Any]:
    """The listing line plus the base URL that reaches it through this server."""
    port = _port(request.host)
    authority = f"{entry.host}:{port}" if port else entry.host
    return {**asdict(entry), "base_url": f"{request.scheme}://{authority}"}


@bp.get("")
def list_instances() -> Response:
    """The default instance and every instance created by name."""
    return json_response({"instances": [_shown(e) for e in emulator().instances.list()]})


@bp.post("")
def create_instance() -> Response:
    """``{"name": "ci-7"}``: a seeded instance at ``ci-7.localhost`` (201)."""
    body = control_plane.json_body()
    entry, elapsed = emulator().instances.create(body.get("name"))
    return json_response({**_shown(entry), "elapsed_ms": round(elapsed * 1000, 3)}, 201)


@bp.delete("/<name>")
def delete_instance(name: str) -> Response:
    """Remove an instance and its database."""
    emulator().instances.delete(name)
    return json_response({"deleted": name})
