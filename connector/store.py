"""What the connector keeps on disk under its home, written atomically and owner-only.

Two files, and the Secure Score export the ui pages were given:

* ``credentials.json`` (mode 0600): exactly what the integration documents it keeps, the
  instance name (its URL), client id, client secret, access and refresh tokens (plus the access
  token's expiry, needed for proactive refresh) (m365-ticketing.md §3.3).
* ``state.json`` (mode 0600): no secrets; provisioning flag, custom state names, the tickets
  the connector created and the sync watermark.

* ``secure-score/page-N.json``: Graph ``secureScoreControlProfiles`` pages uploaded on the
  ``/securescore`` page (no secrets; the CLI reads exports from ``--file`` instead).

Writes go to a temporary file in the same directory, are fsynced, then ``os.replace``d over the
old file, so a crash never leaves half a token file behind.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConnectorError


@dataclass
class Credentials:
    """The connection secrets. ``repr`` hides every secret."""

    instance_url: str
    client_id: str
    client_secret: str
    access_token: str
    refresh_token: str | None
    expires_at: float | None
    ca_bundle: str | None = None

    def __repr__(self) -> str:
        return (f"Credentials(instance_url={self.instance_url!r}, client_id={self.client_id!r}, "
                "client_secret=<held>, access_token=<held>, refresh_token=<held>)")


@dataclass
class TrackedTicket:
    """A ticket the connector created, as last seen on the instance."""

    table: str
    sys_id: str
    number: str
    correlation_id: str
    control_id: str
    short_description: str
    state: str
    priority: str
    due_date: str
    sys_updated_on: str


@dataclass
class ConnectorState:
    """Non-secret state: provisioning, state names, tracked tickets, sync watermark."""

    instance_url: str = ""
    release: str = ""
    provisioned: bool = False
    reauthorization_required: bool = False
    tenant_id: str = ""
    #: ``{"change_request": {"-5": "Draft"}, "incident": {...}}``: the admin's custom names.
    state_names: dict[str, dict[str, str]] = field(default_factory=dict)
    tickets: dict[str, TrackedTicket] = field(default_factory=dict)
    #: Per table, the ``sys_updated_on`` of the newest change already pulled.
    watermarks: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The JSON document stored in ``state.json``."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ConnectorState:
        """Inverse of :meth:`to_json`; unknown keys are ignored (forward compatibility)."""
        tickets = {key: TrackedTicket(**value) for key, value in data.get("tickets", {}).items()}
        return cls(
            instance_url=str(data.get("instance_url", "")),
            release=str(data.get("release", "")),
            provisioned=bool(data.get("provisioned", False)),
            reauthorization_required=bool(data.get("reauthorization_required", False)),
            tenant_id=str(data.get("tenant_id", "")),
            state_names={t: dict(v) for t, v in data.get("state_names", {}).items()},
            tickets=tickets,
            watermarks=dict(data.get("watermarks", {})),
        )


class Store:
    """The connector home directory."""

    def __init__(self, home: Path) -> None:
        self.home = home

    @property
    def credentials_path(self) -> Path:
        """Path of the owner-only secrets file."""
        return self.home / "credentials.json"

    @property
    def state_path(self) -> Path:
        """Path of the non-secret state file."""
        return self.home / "state.json"

    def _ensure_home(self) -> None:
        """Create the home owner-only, and make an existing one owner-only too (``mkdir``'s
        mode only applies to a directory it creates; docs/connector.md promises 0700)."""
        self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        if stat.S_IMODE(self.home.stat().st_mode) != 0o700:
            os.chmod(self.home, 0o700)

    def _write(self, path: Path, payload: object) -> None:
        self._ensure_home()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # mkstemp creates the file 0600 before any byte is written: no window where a
        # secret sits in a world-readable file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(payload, handle, indent=2, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _read(self, path: Path) -> dict[str, Any] | None:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConnectorError(f"{path} is not valid JSON; remove it and connect again") from exc
        if not isinstance(data, dict):
            raise ConnectorError(f"{path} is not a JSON object; remove it and connect again")
        return data

    def load_credentials(self) -> Credentials | None:
        """The stored credentials, or ``None`` when not connected."""
        data = self._read(self.credentials_path)
        if data is None:
            return None
        try:
            return Credentials(**data)
        except TypeError as exc:
            raise ConnectorError(
                f"{self.credentials_path} is damaged; run `snow-connector connect` again"
            ) from exc

    def save_credentials(self, credentials: Credentials) -> None:
        """Persist credentials atomically, readable by the owner only."""
        self._write(self.credentials_path, asdict(credentials))

    def delete_credentials(self) -> bool:
        """Remove the secrets file; ``False`` when there was none."""
        try:
            self.credentials_path.unlink()
        except FileNotFoundError:
            return False
        return True

    def load_state(self) -> ConnectorState:
        """The stored state, or a fresh one."""
        data = self._read(self.state_path)
        return ConnectorState() if data is None else ConnectorState.from_json(data)

    def save_state(self, state: ConnectorState) -> None:
        """Persist the state atomically."""
        self._write(self.state_path, state.to_json())

    @property
    def actions_dir(self) -> Path:
        """Where uploaded Secure Score export pages are kept."""
        return self.home / "secure-score"

    def save_action_pages(self, pages: list[Any]) -> None:
        """Replace the kept export with ``pages`` (page-1.json, page-2.json, ...)."""
        old = self.action_page_paths()
        for number, page in enumerate(pages, start=1):
            self._write(self.actions_dir / f"page-{number}.json", page)
        for path in old[len(pages):]:
            path.unlink(missing_ok=True)

    def action_page_paths(self) -> list[Path]:
        """The kept export's pages, in order (empty when none was uploaded)."""
        if not self.actions_dir.is_dir():
            return []
        found = [(int(p.stem.split("-", 1)[1]), p) for p in self.actions_dir.glob("page-*.json")
                 if p.stem.split("-", 1)[1].isdigit()]
        return [p for _, p in sorted(found)]

    def delete_action_pages(self) -> None:
        """Forget the kept export."""
        for path in self.action_page_paths():
            path.unlink(missing_ok=True)
