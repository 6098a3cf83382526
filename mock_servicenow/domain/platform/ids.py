"""sys_ids and secrets: random by default, seedable for deterministic tests (moto's MotoRandom).

``sys_id`` is 32 lowercase hex characters (servicenow-behaviour §1.4); tokens are 86-char
URL-safe strings like the platform's (§4.1).
"""

from __future__ import annotations

import base64
import hashlib
import random
import secrets
import threading


class IdGenerator:
    """One per instance; thread-safe. ``seed=None`` draws from the operating system."""

    def __init__(self, seed: int | None = None) -> None:
        self._seed = seed
        self._random: random.Random | None = random.Random(seed) if seed is not None else None
        self._lock = threading.Lock()

    @property
    def seed(self) -> int | None:
        """The seed of this stream (``None``: drawn from the operating system)."""
        return self._seed

    def derive(self, label: str) -> IdGenerator:
        """A separate stream for ``label``: seeded from this seed and the label, or random.

        Seed-time installers use one: a seeded instance's template is built once per process
        and copied into later instances whose own generator starts again from the seed, so ids
        drawn from it while seeding would be drawn again (and collide) afterwards.
        """
        if self._seed is None:
            return IdGenerator(None)
        digest = hashlib.sha256(f"{self._seed}:{label}".encode()).hexdigest()
        return IdGenerator(int(digest[:16], 16))

    def _bytes(self, count: int) -> bytes:
        if self._random is None:
            return secrets.token_bytes(count)
        with self._lock:
            return self._random.randbytes(count)

    def sys_id(self) -> str:
        """A new 32-hex sys_id."""
        return self._bytes(16).hex()

    def token(self) -> str:
        """A new 86-character URL-safe token (access/refresh tokens, codes, secrets)."""
        return base64.urlsafe_b64encode(self._bytes(64)).decode("ascii").rstrip("=")[:86]

    def hex_secret(self, length: int = 32) -> str:
        """A hex secret (``client_id`` is 32 hex on the platform, servicenow-behaviour §4.3)."""
        return self._bytes((length + 1) // 2).hex()[:length]

    def client_id(self) -> str:
        """A new OAuth ``client_id``: 32 hex, made by the platform (servicenow-behaviour §4.3)."""
        return self.hex_secret(32)

    def client_secret(self) -> str:
        """A new OAuth ``client_secret``, as the platform generates one when left blank (§4.3)."""
        return self.token()[:32]
