"""Building responses the way a real instance sends them (servicenow-behaviour §1.3, §3).

Every JSON body of the emulated API goes through :func:`json_response`: compact JSON,
``Content-Type: application/json;charset=UTF-8`` (no space, as captured), and the platform's
cache and security headers.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any

from flask import Response

JSON_CONTENT_TYPE = "application/json;charset=UTF-8"

#: Headers a real PDI sends on every REST answer (servicenow-behaviour §1.3, captured). Its
#: ``Server: ServiceNow`` is the server's to send, once, on every response (``server.py``).
PLATFORM_HEADERS = {
    "Cache-Control": "no-cache,no-store,must-revalidate,max-age=-1",
    "Pragma": "no-store,no-cache",
    "Expires": "0",
    "X-Content-Type-Options": "nosniff",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
}

_PLATFORM_HEADER_LIST = list(PLATFORM_HEADERS.items())


def dumps(payload: Any) -> str:
    """Compact JSON (the platform sends no insignificant whitespace)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def json_response(payload: Any, status: int = 200,
                  headers: Mapping[str, str] | None = None, *, body: bool = True) -> Response:
    """A JSON response with the platform's headers; ``body=False`` keeps headers only."""
    return json_text_response(dumps(payload) if body else "", status, headers)


def json_text_response(text: str | bytes, status: int = 200,
                       headers: Mapping[str, str] | None = None) -> Response:
    """:func:`json_response` for a body that is already compact JSON text."""
    response = Response(text, status=status, content_type=JSON_CONTENT_TYPE)
    # A new response holds only its Content-Type: append, no replace-by-name per header.
    response.headers.extend(_PLATFORM_HEADER_LIST)
    response.headers.add("X-Transaction-ID", secrets.token_hex(6))
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error_payload(message: str, detail: str | None) -> dict[str, Any]:
    """The ServiceNow error envelope (servicenow-behaviour §3)."""
    return {"error": {"message": message, "detail": detail}, "status": "failure"}
