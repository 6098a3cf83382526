"""JSON request bodies of the emulated REST APIs, read the way the platform reads them.

servicenow-behaviour §1.1 and §3: a body in another media type is 415 with the captured text,
one that is not JSON 400 ``Exception while reading request`` / ``The payload is not valid
JSON.``; an empty body is an empty record. The Table API processes only the first record of
an array (§1.1); APIs that take one object refuse anything else the same way as broken JSON.
An API whose values all go to text columns can also refuse JSON text whose escapes spell a
lone UTF-16 surrogate (no character: UTF-8 cannot store it) that way, instead of failing in
the store.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import request

from mock_servicenow.errors import MalformedJSON, UnsupportedMediaType

#: Media types read as JSON (servicenow-behaviour §1.1).
JSON_TYPES = ("application/json", "text/json", "application/javascript")
#: A ``\\uD800``-``\\uDFFF`` escape: JSON may spell a lone surrogate, which no text column
#: can store (UTF-8 has no encoding for it); checked only when the body has such an escape.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def json_object(*, first_of_array: bool = False, text_only: bool = False) -> dict[str, Any]:
    """The request's JSON object; with ``first_of_array`` an array stands for its first
    element (``[]`` for an empty object); with ``text_only`` an escape spelling a lone UTF-16
    surrogate, which is no character, is broken JSON."""
    mimetype = request.mimetype
    if mimetype and mimetype not in JSON_TYPES:
        raise UnsupportedMediaType()
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise MalformedJSON() from None
    if text_only and _SURROGATE_ESCAPE.search(raw):
        try:
            json.dumps(payload, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise MalformedJSON() from None
    if first_of_array and isinstance(payload, list):
        payload = payload[0] if payload else {}
    if not isinstance(payload, dict):
        raise MalformedJSON()
    return payload
