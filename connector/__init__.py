"""The Microsoft 365 side of the ServiceNow ticketing integration.

Connects to a ServiceNow instance over OAuth, shares Microsoft Secure Score improvement
actions as change requests or incidents, tracks them, and disconnects. The CLI
(``snow-connector``) and the pages (``snow-connector ui``, :mod:`connector.ui`) are thin layers
over :class:`Connector`.
"""

from __future__ import annotations

from .api import (
    Card,
    CardLine,
    Connector,
    DisconnectResult,
    PendingAuthorization,
    StateName,
    Status,
    SyncResult,
    TaskDraft,
    Ticket,
    normalize_instance_url,
    record_url,
    release_family,
)
from .client import ServiceNowClient
from .errors import (
    AuthenticationError,
    BadRequest,
    ConnectorError,
    InstanceUnavailable,
    InvalidInput,
    NotAuthenticated,
    NotConnected,
    NotFound,
    NotProvisioned,
    PermissionDenied,
    RateLimited,
    ReauthorizationRequired,
    ServiceNowAPIError,
    TransportError,
    UnsupportedInstance,
    describe,
)
from .graph import ActionSet, ImprovementAction, html_to_text, load_actions, parse_documents
from .loopback import LoopbackReceiver, RedirectReceiver
from .mapping import Task, build_task, correlation_id, to_payload
from .settings import ConnectorSettings, RetryPolicy

__all__ = [
    "ActionSet",
    "AuthenticationError",
    "BadRequest",
    "Card",
    "CardLine",
    "Connector",
    "ConnectorError",
    "ConnectorSettings",
    "DisconnectResult",
    "ImprovementAction",
    "InstanceUnavailable",
    "InvalidInput",
    "LoopbackReceiver",
    "NotAuthenticated",
    "NotConnected",
    "NotFound",
    "NotProvisioned",
    "PendingAuthorization",
    "PermissionDenied",
    "RateLimited",
    "ReauthorizationRequired",
    "RedirectReceiver",
    "RetryPolicy",
    "ServiceNowAPIError",
    "ServiceNowClient",
    "StateName",
    "Status",
    "SyncResult",
    "Task",
    "TaskDraft",
    "Ticket",
    "TransportError",
    "UnsupportedInstance",
    "build_task",
    "correlation_id",
    "describe",
    "html_to_text",
    "load_actions",
    "normalize_instance_url",
    "parse_documents",
    "record_url",
    "release_family",
    "to_payload",
]
