"""The connector under injected faults (issue 8 item 5), against the emulator in-process.

Faults come from the control plane (``/_emulator/faults``, docs/faults.md); the connector is
the real one with its real retry policy, given a recording ``sleep`` instead of time.sleep
(no real waiting, and the waits it asked for can be checked). A recording transport below
the connector's retries counts every attempt that reached the instance.

Promises, each a test that fails when it is broken:
- a create whose answer is lost after commit (``drop_after_commit``) makes exactly one ticket,
  and sharing again still finds that one;
- an instance that keeps failing (503) is retried exactly the policy's number of times, then
  the connector gives up with a clean one-line error and no ticket exists;
- ``Retry-After`` is honoured: the connector waits what the instance asked for before the
  retry, and gives the 429 back at once when the wait is longer than its budget.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from flask import Flask

from connector import Connector, ConnectorSettings
from connector.errors import ConnectorError, RateLimited, ServiceNowAPIError
from connector.settings import RetryPolicy
from tests.connector.recording import RecordingTransport

BASE = "https://dev00000.service-now.test"
CLIENT_SECRET = "reliability-client-secret-0123456789"
INTEGRATION_USER, INTEGRATION_PASSWORD = "m365_integration", "integration"
CHANGES = "/api/now/table/change_request"


class Sleeps(list[float]):
    """The waits the connector asked for, in order."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def recorder(snow_app: Flask) -> RecordingTransport:
    """Every attempt that reaches the instance (below the connector's own retries)."""
    return RecordingTransport(httpx.WSGITransport(app=snow_app))


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def connector(tmp_path: Path, recorder: RecordingTransport, sleeps: Sleeps,
              snow_admin: httpx.Client, snow_client: httpx.Client) -> Connector:
    """A connected and provisioned connector (password grant, the integration user)."""
    entity = snow_admin.post("/api/now/table/oauth_entity", json={
        "name": "Reliability connector", "type": "client", "client_secret": CLIENT_SECRET,
        "redirect_url": "http://127.0.0.1:8765/callback", "active": "true"})
    assert entity.status_code == 201, entity.text

    def clock() -> float:
        now = snow_client.get("/_emulator/clock").json()["now"]
        return dt.datetime.fromisoformat(now).replace(tzinfo=dt.UTC).timestamp()

    built = Connector(ConnectorSettings(home=tmp_path / "home", retry=RetryPolicy(attempts=4)),
                      transport=recorder, sleep=sleeps, clock=clock,
                      initiated_by="admin@contoso.com")
    built.connect_with_password(BASE, entity.json()["result"]["client_id"], CLIENT_SECRET,
                                INTEGRATION_USER, INTEGRATION_PASSWORD)
    assert built.authorize().provisioned
    sleeps.clear()
    return built


@pytest.fixture
def fault(snow_client: httpx.Client) -> Callable[..., dict[str, object]]:
    def add(**rule: object) -> dict[str, object]:
        response = snow_client.post("/_emulator/faults", json=rule)
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]
    return add


class _ArmOnLostAnswer(httpx.BaseTransport):
    """Calls ``arm`` when a POST's answer is lost, then lets the error through."""

    def __init__(self, inner: httpx.BaseTransport, arm: Callable[[], object]) -> None:
        self.inner, self.arm = inner, arm

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return self.inner.handle_request(request)
        except httpx.TransportError:
            if request.method == "POST":
                self.arm()
            raise


def _due() -> str:
    return (dt.date.today() + dt.timedelta(days=30)).isoformat()


def _tickets(snow_admin: httpx.Client, table: str, correlation_prefix: str = "m365ss:"
             ) -> list[dict[str, str]]:
    response = snow_admin.get(f"/api/now/table/{table}", params={
        "sysparm_query": f"correlation_idSTARTSWITH{correlation_prefix}",
        "sysparm_fields": "sys_id,number,correlation_id"})
    assert response.status_code == 200, response.text
    return response.json()["result"]  # type: ignore[no-any-return]


def _posts(recorder: RecordingTransport, path: str) -> list[int | None]:
    return [e.response.status_code if e.response is not None else None
            for e in recorder.exchanges
            if e.request.method == "POST" and e.request.url.path == path]


def test_a_lost_create_answer_makes_exactly_one_ticket(
        connector: Connector, fault: Callable[..., dict[str, object]],
        recorder: RecordingTransport, snow_admin: httpx.Client) -> None:
    fault(method="POST", path=CHANGES, action="drop_after_commit", times=1)
    ticket = connector.share("DLPEnabled", ticket_type="change", priority="high", due=_due())
    assert ticket.number.startswith("CHG")
    # The create reached the instance once and its answer was lost (no response recorded);
    # the connector looked it up instead of sending it again.
    assert _posts(recorder, CHANGES) == [None]
    rows = _tickets(snow_admin, "change_request")
    assert [row["number"] for row in rows] == [ticket.number]
    # Sharing again (the user retries after the error they might have seen) finds it too.
    again = connector.share("DLPEnabled", ticket_type="change", priority="high", due=_due())
    assert again.number == ticket.number
    assert len(_tickets(snow_admin, "change_request")) == 1
    assert [t.number for t in connector.tickets()] == [ticket.number]


def test_lost_answers_for_several_actions_still_one_ticket_each(
        connector: Connector, fault: Callable[..., dict[str, object]],
        snow_admin: httpx.Client) -> None:
    fault(method="POST", path="/api/now/table/*", action="drop_after_commit", times=3)
    shared = [connector.share(action, ticket_type=kind, priority="medium", due=_due())
              for action, kind in [("DLPEnabled", "change"), ("MFARegistrationPolicy",
                                                              "incident"),
                                   ("BlockLegacyAuthentication", "change")]]
    changes = _tickets(snow_admin, "change_request")
    incidents = _tickets(snow_admin, "incident")
    assert sorted(r["number"] for r in changes + incidents) == sorted(t.number for t in shared)
    assert len({r["correlation_id"] for r in changes + incidents}) == 3


def test_the_connector_gives_up_cleanly_after_its_retry_budget(
        connector: Connector, fault: Callable[..., dict[str, object]], sleeps: Sleeps,
        recorder: RecordingTransport, snow_admin: httpx.Client) -> None:
    fault(method="POST", path=CHANGES, action="status", status=503)
    with pytest.raises(ServiceNowAPIError) as raised:
        connector.share("DLPEnabled", ticket_type="change", priority="high", due=_due())
    assert isinstance(raised.value, ConnectorError) and raised.value.status == 503
    assert "\n" not in str(raised.value) and CLIENT_SECRET not in str(raised.value)
    # Exactly the policy's attempts (a 503 means "not processed": safe to repeat a create),
    # with a bounded backoff between them, then nothing more.
    assert _posts(recorder, CHANGES) == [503, 503, 503, 503]
    assert len(sleeps) == 3 and all(0 <= s <= RetryPolicy().max_delay for s in sleeps)
    assert _tickets(snow_admin, "change_request") == []
    assert connector.tickets() == []


def test_a_lost_answer_is_never_blindly_resent_when_the_lookup_fails_too(
        connector: Connector, fault: Callable[..., dict[str, object]],
        recorder: RecordingTransport, snow_admin: httpx.Client,
        snow_client: httpx.Client) -> None:
    """Answer lost, then the instance stays unreachable for lookups: the connector must
    stop with an error rather than POST again without knowing (which could duplicate)."""
    fault(method="POST", path=CHANGES, action="drop_after_commit", times=1)
    # Armed only once the create's answer is lost (the lookups before the create must work).
    recorder.inner = _ArmOnLostAnswer(recorder.inner, lambda: fault(
        method="GET", path=CHANGES, action="status", status=502))
    with pytest.raises(ConnectorError):
        connector.share("DLPEnabled", ticket_type="change", priority="high", due=_due())
    assert _posts(recorder, CHANGES) == [None]
    assert snow_client.delete("/_emulator/faults").status_code == 200
    assert len(_tickets(snow_admin, "change_request")) == 1
    # Once the instance answers again, sharing finds the committed ticket: still one.
    connector.share("DLPEnabled", ticket_type="change", priority="high", due=_due())
    assert _posts(recorder, CHANGES) == [None]
    assert len(_tickets(snow_admin, "change_request")) == 1


def test_retry_after_is_honoured(connector: Connector, fault: Callable[..., dict[str, object]],
                                 sleeps: Sleeps, recorder: RecordingTransport,
                                 snow_admin: httpx.Client) -> None:
    fault(method="POST", path=CHANGES, action="rate_limit", retry_after=7, times=1)
    ticket = connector.share("DLPEnabled", ticket_type="change", priority="high", due=_due())
    assert _posts(recorder, CHANGES) == [429, 201]
    # It waited what the instance asked for (plus at most the policy's jitter), not less.
    assert len(sleeps) == 1
    assert 7 <= sleeps[0] <= 7 + RetryPolicy().base_delay
    assert [r["number"] for r in _tickets(snow_admin, "change_request")] == [ticket.number]


def test_a_retry_after_beyond_the_budget_is_given_back_at_once(
        connector: Connector, fault: Callable[..., dict[str, object]], sleeps: Sleeps,
        recorder: RecordingTransport, snow_admin: httpx.Client) -> None:
    fault(method="POST", path=CHANGES, action="rate_limit", retry_after=3600)
    with pytest.raises(RateLimited) as raised:
        connector.share("DLPEnabled", ticket_type="change", priority="high", due=_due())
    assert raised.value.retry_after == 3600
    assert _posts(recorder, CHANGES) == [429] and sleeps == []
    assert _tickets(snow_admin, "change_request") == []
