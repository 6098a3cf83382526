"""Password hashing with a configurable cost, and a cache of verified credentials.

PBKDF2-SHA256 from the standard library. The cost is a setting (house style F9): cheap in
tests, real by default. Because Basic auth sends the password on every request, a successful
verification is remembered (keyed by an HMAC of stored hash and password, never the password
itself) so a client making thousands of calls pays the cost once.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mock_servicenow.dictionary import Dictionary

_PREFIX = "pbkdf2_sha256"


#: ``password2`` fields stored hashed (one-way) rather than kept for the platform to read back:
#: a client secret is only ever compared (issue 15). Other ``password2`` fields (a JWT
#: verifier's shared key, a certificate's key) must be read back to be used, and stay.
HASHED_PASSWORD2 = frozenset({("oauth_entity", "client_secret")})


def stored_hashed(dictionary: Dictionary, table: str, field: str) -> bool:
    """True when ``table.field`` is written as a PBKDF2 hash: every ``password`` field
    (write-only, servicenow-behaviour §6) and the ``password2`` fields of
    :data:`HASHED_PASSWORD2` (on their table or a table extending it)."""
    fld = dictionary.field(table, field)
    if fld is None:
        return False
    if fld.type == "password":
        return True
    return fld.type == "password2" and any(
        (name, field) in HASHED_PASSWORD2 for name in dictionary.ancestry(table))


def hash_password(password: str, *, iterations: int, salt: bytes | None = None) -> str:
    """``pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>``."""
    salt = salt or os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return f"{_PREFIX}${iterations}${salt.hex()}${digest.hex()}"


class PasswordVerifier:
    """Checks passwords against stored hashes, remembering recent successes."""

    def __init__(self, cache_size: int = 1024) -> None:
        self._key = os.urandom(32)
        self._cache: OrderedDict[bytes, None] = OrderedDict()
        self._size = cache_size
        self._lock = threading.Lock()

    def verify(self, stored: str | None, password: str) -> bool:
        """True when ``password`` matches ``stored``; constant-time on the hash compare."""
        if not stored or not password:
            return False
        fingerprint = hmac.new(
            self._key, stored.encode() + b"\0" + password.encode("utf-8"), "sha256"
        ).digest()
        with self._lock:
            if fingerprint in self._cache:
                self._cache.move_to_end(fingerprint)
                return True
        try:
            prefix, iterations, salt, expected = stored.split("$")
        except ValueError:
            return False
        if prefix != _PREFIX:
            return False
        digest = hashlib.pbkdf2_hmac(
            "sha256", password.encode("utf-8"), bytes.fromhex(salt), int(iterations)
        )
        if not hmac.compare_digest(digest.hex(), expected):
            return False
        with self._lock:
            self._cache[fingerprint] = None
            if len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return True
