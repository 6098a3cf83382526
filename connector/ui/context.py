"""The state the pages share, kept on the app (no module-level singletons)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask import current_app

from connector.api import Connector
from connector.settings import ConnectorSettings

from .flows import Flows

EXTENSION = "snow_connector_ui"

ConnectorFactory = Callable[[], Connector]


@dataclass
class UiState:
    """What the pages share: the library, the lock around it, the authorization flows."""

    settings: ConnectorSettings
    make_connector: ConnectorFactory
    flows: Flows
    #: The Microsoft 365 user the pages act for (sent with each ticket as its initiator).
    account: str = ""
    #: One library call at a time: each call reads, changes and writes back the connector
    #: home's files, and the threaded server would otherwise interleave them.
    lock: threading.RLock = field(default_factory=threading.RLock)

    @contextmanager
    def library(self) -> Iterator[Connector]:
        """The connector, for the duration of one page's calls."""
        with self.lock:
            yield self.make_connector()


def ui_state() -> UiState:
    """The running app's :class:`UiState`."""
    state: UiState = current_app.extensions[EXTENSION]
    return state
