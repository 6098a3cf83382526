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
    "state", "g_ck", "x-usertoken", "nonce", "x-sn-apikey", "shared_key",
})
#: Any parameter whose name contains one of these is a secret too (``x_api_token``,
#: ``new_password``, ``client_assertion``...).
_SECRET_WORDS = ("password", "secret", "token", "assertion")

REDACTED = "***"

#: A term of an encoded query on a password-like field (dot-walked or not). Everything from
#: its operator to the end of the query is masked: a password may hold ``^`` (escaped as
#: ``^^`` or not), so no later ``^`` can be trusted to end it (issue 15).
_SECRET_QUERY_TERM = re.compile(
    r"(^|\^(?:OR|NQ)?)((?:[A-Za-z0-9_]+\.)*[A-Za-z0-9_]*(?:password|secret|token)[A-Za-z0-9_]*)",
    re.IGNORECASE)
#: How deep URLs nested in parameter values (``sysparm_goto_url=/x?token=...``) are followed.
_NESTING = 4


def _is_secret_name(name: str) -> bool:
    lowered = name.lower()
    return lowered in SECRET_PARAMETERS or any(word in lowered for word in _SECRET_WORDS)


def _redact_encoded_query(value: str) -> str:
    found = _SECRET_QUERY_TERM.search(value)
    if found is None:
        return value
    return value[:found.end()] + REDACTED


def _redact_value(name: str, value: str, depth: int) -> str:
    if _is_secret_name(name):
        return REDACTED
    if name.lower() == "sysparm_query":
        return _redact_encoded_query(value)
    if depth < _NESTING and ("?" in value or "#" in value):
        # A URL carried in a parameter (the login redirect's sysparm_goto_url, a
        # redirect_uri): its own query string and fragment are redacted the same way.
        head, _, rest = value.partition("?") if "?" in value else (value, "", "")
        query, hash_mark, fragment = rest.partition("#")
        if not rest:
            head, hash_mark, fragment = value.partition("#")
        redacted = head
        if query:
            redacted += "?" + _redact(query, depth + 1)
        if hash_mark:
            redacted += "#" + _redact(fragment, depth + 1)
        return redacted
    return value


def _redact(query: str, depth: int) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, _redact_value(k, v, depth)) for k, v in pairs])


def redact_query(query: str) -> str:
    """The query string with secret parameters' values replaced by ``***``, wherever they
    are: at the top, or in a URL that a parameter carries (the login redirect keeps the
    original URL, token included, in ``sysparm_goto_url``), and ``sysparm_query`` terms on
    password, secret and token fields masked to the end of the query."""
    if not query:
        return ""
    return _redact(query, 0)


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
