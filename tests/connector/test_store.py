"""The connector home: owner-only files, atomic writes, damaged files reported clearly."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from connector import ConnectorError
from connector.store import ConnectorState, Credentials, Store


def _creds(token: str) -> Credentials:
    return Credentials("https://dev1.service-now.com", "cid", "secret", token, "r", 1.0)


def test_files_are_owner_only(tmp_path: Path) -> None:
    store = Store(tmp_path / "home")
    store.save_credentials(_creds("a1"))
    store.save_state(ConnectorState(provisioned=True))
    assert stat.S_IMODE(os.stat(store.home).st_mode) == 0o700
    for path in (store.credentials_path, store.state_path):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_failed_write_leaves_the_old_file_whole(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(tmp_path / "home")
    store.save_credentials(_creds("old-token"))

    def crash(src: str, dst: str) -> None:
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        store.save_credentials(_creds("new-token"))
    monkeypatch.undo()
    loaded = store.load_credentials()
    assert loaded is not None and loaded.access_token == "old-token"
    assert sorted(p.name for p in store.home.iterdir()) == ["credentials.json"]


def test_damaged_files_are_reported(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.credentials_path.write_text("{broken")
    with pytest.raises(ConnectorError, match="not valid JSON"):
        store.load_credentials()
    store.credentials_path.write_text('{"instance_url": "x"}')
    with pytest.raises(ConnectorError, match="damaged"):
        store.load_credentials()


def test_state_round_trips(tmp_path: Path) -> None:
    store = Store(tmp_path)
    state = ConnectorState(provisioned=True, tenant_id="t",
                           state_names={"incident": {"2": "Doing"}},
                           watermarks={"incident": "2026-11-26 10:00:00"})
    store.save_state(state)
    assert store.load_state() == state
    assert store.delete_credentials() is False
