"""The pages' one stylesheet and scripts, served from the package: no web fonts, no CDN.

``/styles/<name>`` and ``/scripts/<name>``, where a real instance serves its own
(``/styles/...css``, ``/scripts/...js``). Files are read once per process; page links carry
``?v=<content hash>`` so browsers may cache them for a year and still see a new version at
once. Only the files under ``web/static/`` exist; any other name is a 404 page.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, abort, request

STATIC = Path(__file__).resolve().parent / "static"
_TYPES = {".css": "text/css;charset=UTF-8", ".js": "text/javascript;charset=UTF-8"}
_FOLDERS = {"styles": ".css", "scripts": ".js"}

bp = Blueprint("assets", __name__)


@lru_cache(maxsize=16)
def _read(name: str) -> tuple[bytes, str] | None:
    """The bytes of ``web/static/<name>`` and their hash (``None`` when it is not there)."""
    path = STATIC / name
    if path.parent != STATIC or not path.is_file():
        return None
    body = path.read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:12]


def url(name: str) -> str:
    """The versioned URL of an asset for templates: ``/styles/mock_servicenow.css?v=...``."""
    found = _read(name)
    folder = next(f for f, suffix in _FOLDERS.items() if name.endswith(suffix))
    return f"/{folder}/{name}" + (f"?v={found[1]}" if found else "")


def _serve(folder: str, name: str) -> Response:
    suffix = _FOLDERS[folder]
    found = _read(name) if name.endswith(suffix) and "/" not in name else None
    if found is None:
        abort(404)
    body, digest = found
    response = Response(body, content_type=_TYPES[suffix])
    response.set_etag(digest)
    response.headers["Cache-Control"] = ("public, max-age=31536000, immutable"
                                         if request.args.get("v") == digest else "no-cache")
    response.make_conditional(request)
    return response


@bp.get("/styles/<name>")
def style(name: str) -> Response:
    """The stylesheet."""
    return _serve("styles", name)


@bp.get("/scripts/<name>")
def script(name: str) -> Response:
    """A script."""
    return _serve("scripts", name)
