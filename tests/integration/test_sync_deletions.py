"""``sync`` notices tickets that no longer exist (issue 15 item 14): after ``mock-servicenow
reset`` ``tickets`` listed tickets the instance had forgotten, forever.

Against the emulator in-process; every request is counted, so the cost of noticing is pinned
too: one count per table on an incremental sync, nothing more unless something is gone.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest
from flask import Flask

from connector import Connector, ConnectorSettings
from tests.connector.recording import RecordingTransport

BASE = "https://dev00000.service-now.test"
CLIENT_SECRET = "sync-deletions-client-secret-0123"


@pytest.fixture
def recorder(snow_app: Flask) -> RecordingTransport:
    return RecordingTransport(httpx.WSGITransport(app=snow_app))


@pytest.fixture
def connector(tmp_path: Path, recorder: RecordingTransport,
              snow_admin: httpx.Client) -> Connector:
    entity = snow_admin.post("/api/now/table/oauth_entity", json={
        "name": "Sync connector", "type": "client", "client_secret": CLIENT_SECRET,
        "redirect_url": "http://127.0.0.1:8765/callback", "active": "true"})
    built = Connector(ConnectorSettings(home=tmp_path / "home"), transport=recorder,
                      sleep=lambda _s: None, initiated_by="admin@contoso.com")
    built.connect_with_password(BASE, entity.json()["result"]["client_id"], CLIENT_SECRET,
                                "m365_integration", "integration")
    assert built.authorize().provisioned
    return built


def _due() -> str:
    return (dt.date.today() + dt.timedelta(days=30)).isoformat()


def test_sync_forgets_a_deleted_ticket(connector: Connector, snow_admin: httpx.Client,
                                       recorder: RecordingTransport) -> None:
    kept = connector.share("DLPEnabled", ticket_type="change", priority="high", due=_due())
    gone = connector.share("BlockLegacyAuthentication", ticket_type="change", priority="low",
                           due=_due())
    incident = connector.share("MFARegistrationPolicy", ticket_type="incident",
                               priority="high", due=_due())
    first = connector.sync()  # a full sync: sets the watermarks
    assert first.removed == 0 and first.tickets == 3
    assert snow_admin.delete(f"/api/now/table/change_request/{gone.sys_id}").status_code == 204
    assert {t.number for t in connector.tickets()} == {kept.number, gone.number,
                                                       incident.number}
    result = connector.sync()
    assert result.removed == 1 and result.tickets == 2
    assert {t.number for t in connector.tickets()} == {kept.number, incident.number}
    # Nothing gone: an incremental sync costs one count per table besides its pages.
    before = len(recorder.exchanges)
    assert connector.sync().removed == 0
    listed = [e.request.url.path for e in recorder.exchanges[before:]]
    assert sorted(listed) == sorted(["/api/now/table/change_request"] * 2
                                    + ["/api/now/table/incident"] * 2), listed


def test_sync_after_a_reset_forgets_every_ticket(connector: Connector,
                                                 snow_client: httpx.Client,
                                                 snow_admin: httpx.Client) -> None:
    connector.share("DLPEnabled", ticket_type="change", priority="high", due=_due())
    connector.share("MFARegistrationPolicy", ticket_type="incident", priority="high",
                    due=_due())
    assert connector.sync().tickets == 2
    assert snow_client.post("/_emulator/reset").status_code == 200
    # The reset instance forgot the connection too: connect again (same instance URL, so
    # the tracked tickets are kept until sync finds them gone).
    entity = snow_admin.post("/api/now/table/oauth_entity", json={
        "name": "Sync connector", "type": "client", "client_secret": CLIENT_SECRET,
        "redirect_url": "http://127.0.0.1:8765/callback", "active": "true"})
    connector.connect_with_password(BASE, entity.json()["result"]["client_id"], CLIENT_SECRET,
                                    "m365_integration", "integration")
    assert len(connector.tickets()) == 2
    # The reset instance has the demo data again, and no ticket of this connector.
    result = connector.sync()
    assert result.removed == 2 and result.tickets == 0
    assert connector.tickets() == []
