"""The library API end to end against the fake instance (MockTransport)."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest

from connector import (
    Connector,
    InvalidInput,
    NotConnected,
    NotProvisioned,
    UnsupportedInstance,
)
from tests.connector import fake_instance as fi
from tests.connector.fake_instance import FakeInstance, Fault

DUE = "2030-06-30"


def _connect(connector: Connector) -> None:
    connector.connect_with_password(fi.BASE, fi.CLIENT_ID, fi.CLIENT_SECRET, fi.USER,
                                    fi.PASSWORD)


def _creates(fake: FakeInstance) -> list[httpx.Request]:
    return [r for r in fake.requests if r.method == "POST" and "/api/now/table/" in r.url.path]


def test_status_before_connect(connector: Connector) -> None:
    status = connector.status()
    assert status.summary == "not connected" and "connect" in (status.hint or "")


def test_connect_checks_release_before_storing(make_connector, fake: FakeInstance) -> None:  # type: ignore[no-untyped-def]
    fake.glide_war = "glide-jakarta-05-03-2017__patch4-10-10-2017_10-12-2017_1552.zip"
    connector = make_connector()
    with pytest.raises(UnsupportedInstance, match="Jakarta.*Kingston or later"):
        _connect(connector)
    assert connector.store.load_credentials() is None


def test_kingston_is_accepted(make_connector, fake: FakeInstance) -> None:  # type: ignore[no-untyped-def]
    fake.glide_war = "glide-kingston-10-17-2017__patch5-03-06-2018_03-08-2018_1022.zip"
    connector = make_connector()
    _connect(connector)
    assert connector.status().release == "kingston"


def test_connect_requires_the_app(make_connector, fake: FakeInstance) -> None:  # type: ignore[no-untyped-def]
    fake.app_installed = False
    connector = make_connector()
    with pytest.raises(UnsupportedInstance, match="x_mioms_m365ticket.*not installed"):
        _connect(connector)
    assert connector.store.load_credentials() is None


def test_share_and_cards_refuse_until_provisioned(connector: Connector) -> None:
    _connect(connector)
    assert connector.status().summary == "connected, not provisioned"
    with pytest.raises(NotProvisioned) as caught:
        connector.share("DLPEnabled", ticket_type="change", priority="high", due=DUE)
    assert "authorize" in (caught.value.hint or "")
    with pytest.raises(NotProvisioned):
        connector.cards()
    connector.authorize()
    assert connector.status().summary == "connected and provisioned"
    assert connector.cards()


def test_commands_need_a_connection(connector: Connector) -> None:
    for call in (connector.cards, connector.sync, connector.authorize):
        with pytest.raises(NotConnected):
            call()


def test_share_change_request_payload(connected: Connector, fake: FakeInstance) -> None:
    ticket = connected.share("DLPEnabled", ticket_type="change", priority="critical", due=DUE)
    assert ticket.number == "CHG0030001" and ticket.created
    body = json.loads(_creates(fake)[-1].content)
    assert body["priority"] == "1" and body["type"] == "normal"
    assert body["short_description"] == "Apply data loss prevention policies"
    assert body["due_date"] == "2030-06-30 23:59:59"
    assert body["x_mioms_m365ticket_recommendation_source"] == "microsoft"
    assert body["x_mioms_m365ticket_recommendation_category"] == "data"
    assert body["x_mioms_m365ticket_control_id"] == "DLPEnabled"
    assert body["x_mioms_m365ticket_initiated_by"] == "admin@contoso.com"
    assert body["correlation_display"] == "Microsoft 365 Security and Configuration"
    assert len(body["correlation_id"]) <= 100
    assert "<" not in body["description"]


def test_share_incident_sends_impact_and_urgency(connected: Connector,
                                                 fake: FakeInstance) -> None:
    ticket = connected.share("BlockLegacyAuthentication", ticket_type="incident",
                             priority="high", due=DUE)
    body = json.loads(_creates(fake)[-1].content)
    assert "priority" not in body and (body["impact"], body["urgency"]) == ("1", "2")
    assert ticket.priority == "2" and ticket.number.startswith("INC")


def test_second_share_finds_the_existing_ticket(connected: Connector,
                                                fake: FakeInstance) -> None:
    first = connected.share("DLPEnabled", ticket_type="change", priority="high", due=DUE)
    again = connected.share("DLPEnabled", ticket_type="change", priority="low", due=DUE)
    other = connected.share("dlpenabled", ticket_type="incident", priority="low", due=DUE)
    assert again.number == other.number == first.number and not again.created
    assert len(_creates(fake)) == 1


def test_lost_create_answer_is_resolved_by_lookup(connected: Connector,
                                                  fake: FakeInstance) -> None:
    fake.faults.append(Fault("POST", "/api/now/table/change_request", error=httpx.ReadTimeout,
                             after_processing=True))
    ticket = connected.share("DLPEnabled", ticket_type="change", priority="high", due=DUE)
    assert ticket.number == "CHG0030001"
    assert len(fake.tables["change_request"]) == 1
    assert len(_creates(fake)) == 1  # no second POST


def test_create_lost_before_processing_is_sent_once_more(connected: Connector,
                                                         fake: FakeInstance) -> None:
    fake.faults.append(Fault("POST", "/api/now/table/change_request", status=502))
    ticket = connected.share("DLPEnabled", ticket_type="change", priority="high", due=DUE)
    assert ticket.number and len(fake.tables["change_request"]) == 1
    assert len(_creates(fake)) == 2  # the lookup said "not created", then one POST


def test_user_action_needs_name_and_description(connected: Connector,
                                                fake: FakeInstance) -> None:
    with pytest.raises(InvalidInput, match="--name and --description"):
        connected.share("my-own-action", ticket_type="change", priority="low", due=DUE,
                        name="Rotate keys")
    with pytest.raises(InvalidInput, match="category"):
        connected.share("my-own-action", ticket_type="change", priority="low", due=DUE,
                        name="Rotate keys", description="Rotate the storage keys")
    ticket = connected.share("my-own-action", ticket_type="change", priority="low", due=DUE,
                             name="Rotate <b>keys</b>", description="Rotate the keys",
                             category="Infrastructure")
    body = json.loads(_creates(fake)[-1].content)
    assert body["x_mioms_m365ticket_recommendation_source"] == "user"
    assert body["short_description"] == "Rotate keys"
    assert ticket.control_id == "my-own-action"


def test_due_date_in_the_past_is_refused(connected: Connector, fake: FakeInstance) -> None:
    today = dt.datetime.fromtimestamp(fake.now, dt.UTC).date()
    with pytest.raises(InvalidInput, match="in the past"):
        connected.share("DLPEnabled", ticket_type="change", priority="low",
                        due=(today - dt.timedelta(days=1)).isoformat())
    assert connected.share("DLPEnabled", ticket_type="change", priority="low",
                           due=today.isoformat()).created


def test_sync_is_incremental_and_paged(make_connector, fake: FakeInstance) -> None:  # type: ignore[no-untyped-def]
    from connector import ConnectorSettings

    connector = make_connector()
    connector.settings = ConnectorSettings(home=connector.settings.home, page_size=2)
    _connect(connector)
    connector.authorize()
    ids = ["MFARegistrationPolicy", "BlockLegacyAuthentication", "DLPEnabled",
           "SharePointExternalSharing", "OAuthAppConsentReview"]
    for index, action in enumerate(ids):
        fake.now += 1
        connector.share(action, ticket_type="incident" if index % 2 else "change",
                        priority="medium", due=DUE)
    seen: list[tuple[int, int | None]] = []
    first = connector.sync(progress=lambda done, total: seen.append((done, total)))
    assert first.pulled == 5 and first.tickets == 5
    assert (3, 3) in seen  # change_request: 3 rows over 2 pages
    queries = [r.url.params for r in fake.requests if r.url.path == "/api/now/table/incident"
               and r.method == "GET" and "STARTSWITH" in r.url.params.get("sysparm_query", "")]
    assert all(q["sysparm_query"].endswith("^ORDERBYsys_updated_on^ORDERBYsys_id")
               for q in queries)
    # An agent moves one incident along; the next sync pulls only from the watermark on.
    incident = next(t for t in connector.tickets() if t.table == "incident")
    fake.now += 60
    fake.set_state("incident", incident.sys_id, "6")
    second = connector.sync()
    assert second.changed == 1 and second.pulled < 5
    assert {t.number: t.state_name for t in connector.tickets()}[incident.number] == "Resolved"


def test_cards_use_custom_state_names(connected: Connector, fake: FakeInstance) -> None:
    ticket = connected.share("DLPEnabled", ticket_type="change", priority="high", due=DUE)
    connected.share("MFARegistrationPolicy", ticket_type="incident", priority="high", due=DUE)
    fake.set_state("change_request", ticket.sys_id, "-1")
    connected.set_state_name("change", "-1", "Being rolled out")
    before = len(fake.requests)
    cards = {c.table: c for c in connected.cards()}
    stats_calls = [r for r in fake.requests[before:] if r.url.path.startswith("/api/now/stats/")]
    assert len(stats_calls) == 2  # one aggregate request per card
    change = {line.name: line.count for line in cards["change_request"].states}
    assert change["Being rolled out"] == 1 and change["New"] == 0
    assert {line.name: line.count for line in cards["incident"].states}["New"] == 1


def test_state_names_are_validated(connector: Connector) -> None:
    with pytest.raises(InvalidInput):
        connector.set_state_name("problem", "1", "x")
    with pytest.raises(InvalidInput):
        connector.set_state_name("incident", "one", "x")
    with pytest.raises(InvalidInput):
        connector.set_state_name("incident", "1", "   ")
    assert connector.set_state_name("incident", "1", " Triage ") == {"1": "Triage"}


def test_disconnect_revokes_and_forgets(connected: Connector, fake: FakeInstance) -> None:
    creds = connected.store.load_credentials()
    assert creds is not None
    result = connected.disconnect()
    assert result.was_connected and result.connection_removed and result.tokens_revoked
    assert creds.access_token not in fake.access and creds.refresh_token not in fake.refresh
    assert fake.connection is None
    assert not connected.store.credentials_path.exists()
    assert connected.status().summary == "not connected"
    assert connected.disconnect().was_connected is False  # harmless the second time


def test_disconnect_when_instance_unreachable_still_deletes_secrets(
        connected: Connector, fake: FakeInstance) -> None:
    fake.faults += [Fault("DELETE", "/api/x_mioms_m365ticket/v1/connection", times=9,
                          error=httpx.ConnectError),
                    Fault("POST", "/oauth_revoke_token.do", times=9, error=httpx.ConnectError)]
    result = connected.disconnect()
    assert result.warnings and not result.tokens_revoked
    assert not connected.store.credentials_path.exists()


def test_status_shows_scope_denial_hint(connected: Connector, fake: FakeInstance) -> None:
    original = fake._route

    def denied(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/connection"):
            return httpx.Response(403, json={"error": {
                "message": "Read operation against 'oauth_entity' from scope "
                           "'x_mioms_m365ticket' has been refused due to the table's "
                           "cross-scope access policy", "detail": None}, "status": "failure"})
        return original(request)
    fake._route = denied  # type: ignore[method-assign]
    status = connected.status()
    assert status.problem and "403" in status.problem
    assert status.hint and "All application scopes" in status.hint


def test_no_secret_in_status_json(connected: Connector) -> None:
    creds = connected.store.load_credentials()
    assert creds is not None
    text = json.dumps(connected.status().to_json())
    for secret in (creds.client_secret, creds.access_token, str(creds.refresh_token)):
        assert secret not in text


def test_instance_name_is_normalized() -> None:
    from connector import normalize_instance_url

    assert normalize_instance_url("dev12345") == "https://dev12345.service-now.com"
    assert normalize_instance_url("http://127.0.0.1:8080/") == "http://127.0.0.1:8080"
    with pytest.raises(InvalidInput):
        normalize_instance_url("  ")


@pytest.mark.parametrize("glide_war, expected", [
    ("glide-brazil-01-01-2027__patch0-01-01-2027_01-01-2027_0000.zip", "brazil"),
    (None, None),
    ("not-a-build-name", None),
])
def test_unknown_or_unreadable_release_is_not_refused(make_connector, fake: FakeInstance,  # type: ignore[no-untyped-def]
                                                      glide_war: str | None,
                                                      expected: str | None) -> None:
    fake.glide_war = glide_war
    connector = make_connector()
    _connect(connector)
    assert connector.status().release == expected


@pytest.mark.parametrize("family", ["aspen", "geneva", "jakarta"])
def test_every_release_before_kingston_is_refused(make_connector, fake: FakeInstance,  # type: ignore[no-untyped-def]
                                                  family: str) -> None:
    fake.glide_war = f"glide-{family}-05-03-2016__patch4-10-10-2016_10-12-2016_1552.zip"
    with pytest.raises(UnsupportedInstance, match="Kingston or later"):
        _connect(make_connector())
