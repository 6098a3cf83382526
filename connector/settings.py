"""Connector settings: a frozen dataclass; the CLI is the only place reading the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

#: The demo instance registers exactly this redirect URL for the connector's OAuth client.
DEFAULT_REDIRECT_URI = "http://127.0.0.1:8765/callback"


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with jittered exponential backoff (429, 502, 503, 504, transport errors)."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    statuses: frozenset[int] = field(default_factory=lambda: frozenset({429, 502, 503, 504}))


@dataclass(frozen=True)
class ConnectorSettings:
    """Where the connector keeps its state and how it talks to the instance."""

    home: Path
    timeout: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    redirect_uri: str = DEFAULT_REDIRECT_URI
    #: Refresh this many seconds before the access token expires (proactive refresh).
    refresh_leeway: float = 60.0
    #: Rows per page when syncing tickets.
    page_size: int = 100

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ConnectorSettings:
        """Settings from ``$SNOW_CONNECTOR_HOME`` (default ``~/.snow-connector``) and
        ``$SNOW_CONNECTOR_REDIRECT_URI`` (default :data:`DEFAULT_REDIRECT_URI`: it must be one
        of the redirect URLs of the instance's OAuth application registry entry)."""
        env = os.environ if environ is None else environ
        home = env.get("SNOW_CONNECTOR_HOME") or str(Path.home() / ".snow-connector")
        redirect = env.get("SNOW_CONNECTOR_REDIRECT_URI", "").strip() or DEFAULT_REDIRECT_URI
        return cls(home=Path(home).expanduser(), redirect_uri=redirect)
