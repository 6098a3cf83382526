"""JSON request bodies of the emulated REST APIs, read the way the platform reads them.

servicenow-behaviour §1.1 and §3: a body in another media type is 415 with the captured text,
one that is not JSON 400 ``Exception while reading request`` / ``The payload is not valid
JSON.``; an empty body is an empty record. The Table API processes only the first record of
an array (§1.1); APIs that take one object refuse anything else the same way as broken JSON.
An API whose values all go to text columns can also refuse JSON text whose escapes spell a
lone UTF-16 surrogate (no character: UTF-8 cannot store it) that way, instead of failing in
the store. Elsewhere such a surrogate is replaced by U+FFFD, the Unicode replacement
character, as a Java-based instance's UTF-8 encoder does when it writes the string (inferred).
JSON nested deeper than the parser can follow (``[`` x 100,000 raises ``RecursionError``) is
an unreadable body too (issue 15): every JSON surface (Table API writes, batch, the app's
API, the control plane) reads its body through :func:`parse_json`.
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
_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_json(raw: bytes, *, scrub: bool = True) -> Any:
    """The JSON value of ``raw``; :class:`MalformedJSON` when it cannot be read (malformed,
    not UTF-8, or nested deeper than the parser can follow). With ``scrub``, lone surrogates
    in its strings (keys too) become U+FFFD."""
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise MalformedJSON() from None
    if scrub and _SURROGATE_ESCAPE.search(raw):
        value = _scrub(value)
    return value


def _scrub(value: Any) -> Any:
    """``value`` with lone surrogates replaced, iteratively: it may be nested nearly as deep
    as the parser allows."""
    root: list[Any] = [value]
    pending: list[tuple[Any, Any]] = [(root, 0)]
    while pending:
        container, key = pending.pop()
        item = container[key]
        if isinstance(item, str):
            container[key] = _SURROGATE.sub("\ufffd", item)
        elif isinstance(item, list):
            pending.extend((item, index) for index in range(len(item)))
        elif isinstance(item, dict):
            cleaned = {_SURROGATE.sub("\ufffd", k): v for k, v in item.items()}
            container[key] = cleaned
            pending.extend((cleaned, k) for k in cleaned)
    return root[0]


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
    payload = parse_json(raw, scrub=not text_only)
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
