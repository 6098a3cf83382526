"""Fixtures for the connector's unit tests: a fake instance behind MockTransport, recorded and
validated against the test contract, and a Connector with a temporary home."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connector import Connector, ConnectorSettings
from tests.connector import fake_instance
from tests.connector.fake_instance import FakeInstance
from tests.connector.recording import RecordingTransport, load_contract

CONTRACT = Path(__file__).parent / "contracts" / "connector-surface.openapi.yaml"


@pytest.fixture
def fake() -> FakeInstance:
    """A fresh fake instance (Washington DC, app installed)."""
    return FakeInstance()


@pytest.fixture
def recorder(fake: FakeInstance) -> Iterator[RecordingTransport]:
    """The transport the connector uses: fake instance, every exchange contract-checked."""
    transport = RecordingTransport(fake_instance.transport(fake), [load_contract(CONTRACT)])
    yield transport
    assert transport.problems == [], "\n".join(transport.problems)
    # Secrets travel in headers and form bodies only, never in a URL (proxies and access
    # logs keep URLs).
    for exchange in transport.exchanges:
        url = str(exchange.request.url)
        assert fake_instance.CLIENT_SECRET not in url and fake_instance.PASSWORD not in url
        assert not any(token in url for token in [*fake.access, *fake.refresh])


@pytest.fixture
def sleeps() -> list[float]:
    """Delays the retry policy asked for (nothing really sleeps)."""
    return []


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """The connector home of the test."""
    return tmp_path / "snow-connector"


@pytest.fixture
def make_connector(home: Path, recorder: RecordingTransport, fake: FakeInstance,
                   sleeps: list[float]):  # type: ignore[no-untyped-def]
    """Build a Connector on the fake instance (fresh object, same home)."""
    def build(**overrides: object) -> Connector:
        options: dict[str, object] = {"transport": recorder, "clock": fake.clock,
                                      "sleep": sleeps.append, "initiated_by": "admin@contoso.com"}
        options.update(overrides)
        return Connector(ConnectorSettings(home=home), **options)  # type: ignore[arg-type]
    return build


@pytest.fixture
def connector(make_connector) -> Connector:  # type: ignore[no-untyped-def]
    """A Connector on the fake instance."""
    return make_connector()


@pytest.fixture
def connected(connector: Connector) -> Connector:
    """Connected with the password grant and provisioned."""
    connector.connect_with_password(fake_instance.BASE, fake_instance.CLIENT_ID,
                                    fake_instance.CLIENT_SECRET, fake_instance.USER,
                                    fake_instance.PASSWORD)
    connector.authorize()
    return connector
