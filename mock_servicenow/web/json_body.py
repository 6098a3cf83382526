"""Reading a JSON request body the way a real instance does, whatever the bytes.

Every JSON endpoint (Table API writes, batch, the app's scripted API, the control plane)
parses its body here, so odd input gets one answer: 400 ``Exception while reading request``
(servicenow-behaviour §1.1, the platform's envelope for a body it cannot read), never a 500.

* Malformed JSON, bytes that are not UTF-8, and nesting deeper than Python's parser can
  follow (``[`` x 100,000 raises ``RecursionError``) are all unreadable bodies.
* A JSON string may carry a lone surrogate escape (``"\\ud800"``): valid JSON text, but no
  UTF-8 byte sequence, SQLite binding or HTTP answer can hold it. It is replaced by U+FFFD,
  the Unicode replacement character, as a Java-based instance's UTF-8 encoder does when it
  writes such a string to its database (inferred; the reference has no capture of it).
"""

from __future__ import annotations

import json
import re
from typing import Any

from mock_servicenow.errors import MalformedJSON

#: ``\ud800``..``\udfff`` escapes in the raw text: only they can produce lone surrogates
#: (UTF-8 decoding never does), so bodies without one skip the scrub entirely.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_json(raw: bytes) -> Any:
    """The JSON value of ``raw``; :class:`MalformedJSON` when it cannot be read."""
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise MalformedJSON() from None
    if _SURROGATE_ESCAPE.search(raw):
        value = _scrub(value)
    return value


def _scrub(value: Any) -> Any:
    """``value`` with lone surrogates in its strings (keys too) replaced, iteratively: the
    value may be nested nearly as deep as the parser allows."""
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
