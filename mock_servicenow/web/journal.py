"""The request journal: the last N requests, secrets redacted (``GET /_emulator/journal``).

Only what helps a person debug their client is kept: method, path, query string with secret
parameters masked, status, duration, the acting user name. Headers and bodies are never
stored, so Authorization headers, passwords and tokens cannot leak through it. Kept per
process: with ``--workers N`` each worker journals what it served.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from dataclasses import asdict, dataclass
from urllib.parse import parse_qsl, urlencode

#: Query or form parameter names whose values are never recorded.
SECRET_PARAMETERS = frozenset({
    "access_token", "refresh_token", "token", "password", "client_secret", "code",
    "code_verifier", "assertion", "user_password", "sysparm_ck", "samlresponse", "id_token",
    "state", "x-sn-apikey", "shared_key",
})

REDACTED = "***"


#: An encoded-query term on a password-like field (dot-walked or not): its operator and value
#: are masked, so ``sysparm_query=user_password=<a password>`` never reaches the journal or
#: the access log (the query itself is refused, §1.5, but the line is still written).
_SECRET_QUERY_TERM = re.compile(
    r"(^|\^(?:OR|NQ)?)((?:[A-Za-z0-9_]+\.)*[A-Za-z0-9_]*(?:password|secret|token)[A-Za-z0-9_]*)"
    r"([^^]*)", re.IGNORECASE)


def _redact_encoded_query(value: str) -> str:
    return _SECRET_QUERY_TERM.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", value)


def redact_query(query: str) -> str:
    """The query string with secret parameters' values replaced by ``***``, and the terms of
    ``sysparm_query`` on password, secret and token fields masked."""
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, REDACTED if k.lower() in SECRET_PARAMETERS
                       else _redact_encoded_query(v) if k.lower() == "sysparm_query" else v)
                      for k, v in pairs])


@dataclass(slots=True)
class Entry:
    """One journalled request."""

    at: str
    method: str
    path: str
    query: str
    status: int
    duration_ms: float
    user: str | None
    remote_addr: str | None


class Journal:
    """A bounded, thread-safe ring of :class:`Entry`."""

    def __init__(self, size: int) -> None:
        self._entries: deque[Entry] = deque(maxlen=size)
        self._lock = threading.Lock()

    def record(self, entry: Entry) -> None:
        """Append one entry (the oldest falls off when full)."""
        with self._lock:
            self._entries.append(entry)

    def recent(self, limit: int | None = None) -> list[dict[str, object]]:
        """The newest ``limit`` entries, oldest first, as JSON-ready dicts."""
        with self._lock:
            entries = list(self._entries)
        if limit is not None:
            entries = entries[-limit:] if limit > 0 else []
        return [asdict(e) for e in entries]

    def clear(self) -> None:
        """Forget everything (reset)."""
        with self._lock:
            self._entries.clear()
