"""The connector's public API is exactly ``connector.__all__``."""

from __future__ import annotations

import connector

EXPECTED = {
    "ActionSet", "AuthenticationError", "BadRequest", "Card", "CardLine", "Connector",
    "ConnectorError", "ConnectorSettings", "DisconnectResult", "ImprovementAction",
    "InstanceUnavailable", "InvalidInput", "LoopbackReceiver", "NotAuthenticated", "NotConnected",
    "NotFound",
    "NotProvisioned", "PendingAuthorization", "PermissionDenied", "RateLimited",
    "ReauthorizationRequired", "RedirectReceiver", "RetryPolicy", "ServiceNowAPIError",
    "ServiceNowClient", "StateName", "Status", "SyncResult", "Task", "TaskDraft", "Ticket",
    "TransportError", "UnsupportedInstance", "build_task", "correlation_id", "describe",
    "html_to_text", "load_actions", "normalize_instance_url", "parse_documents",
    "record_url", "release_family", "to_payload",
}


def test_all_is_the_public_api() -> None:
    assert set(connector.__all__) == EXPECTED
    for name in connector.__all__:
        assert getattr(connector, name).__doc__, f"{name} has no docstring"


def test_every_error_is_a_connector_error() -> None:
    errors = [getattr(connector, n) for n in connector.__all__
              if isinstance(getattr(connector, n), type)
              and issubclass(getattr(connector, n), Exception)]
    assert len(errors) == 15
    assert all(issubclass(e, connector.ConnectorError) for e in errors)
    assert issubclass(connector.ReauthorizationRequired, connector.AuthenticationError)
    assert issubclass(connector.RateLimited, connector.ServiceNowAPIError)
