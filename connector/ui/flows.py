"""Browser authorization flows of the pages, on whatever port the ui listens.

A real instance sends the browser back only to a redirect URL its OAuth application registry
entry lists, compared exactly (servicenow-behaviour §4.2); the connector's registered one is
its loopback callback, ``http://127.0.0.1:8765/callback`` by default. The ui runs on any port
(``ui --port 0``), so it never asks the instance for its own address. Instead:

1. **Connect** builds the authorize URL with the registered redirect URI
   (:meth:`Connector.begin_authorization`) and starts the connector's loopback receiver on that
   URI, told to return the browser to the ui (``return_to``);
2. the browser signs in and consents on the instance, which redirects it to the registered
   callback;
3. the receiver keeps the callback URL (in this process: the code never travels in another
   URL) and answers ``303 See Other`` to ``/servicenow/connect/complete?flow=<id>`` on the ui;
4. that page checks the flow belongs to this browser session and exchanges the code with the
   same redirect URI (:meth:`Connector.complete_authorization`).

When the ui itself listens on the redirect URI's host and port, it is the callback: its own
route at the redirect URI's path keeps the callback URL instead of a separate listener.

One flow at a time (one port to listen on): starting another closes the previous listener. A
flow expires after ``timeout`` seconds and then frees the port.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

from connector.api import PendingAuthorization
from connector.errors import ConnectorError
from connector.loopback import LoopbackReceiver

#: Seconds a flow waits for the instance's redirect (the CLI's receiver waits as long).
FLOW_TIMEOUT = 300.0
_LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


class HandOff(Protocol):
    """Receives the instance's redirect on the registered URI and returns the browser."""

    @property
    def received(self) -> bool:
        """Whether the redirect has arrived."""

    def start(self, redirect_uri: str) -> None:
        """Listen on ``redirect_uri`` (raises :class:`ConnectorError` when it cannot)."""

    def wait(self) -> str:
        """The callback URL (call once :attr:`received`); frees the port."""

    def close(self) -> None:
        """Stop listening (idempotent)."""


HandOffFactory = Callable[[str], HandOff]


def loopback_hand_off(return_to: str) -> HandOff:
    """The connector's loopback receiver, answering the redirect with a 303 to ``return_to``."""
    return LoopbackReceiver(timeout=FLOW_TIMEOUT, return_to=return_to)


@dataclass
class Flow:
    """One authorization in progress."""

    id: str
    pending: PendingAuthorization
    started: float
    hand_off: HandOff | None
    #: The callback URL, when the ui itself received the redirect.
    callback: str | None = None
    timer: threading.Timer | None = field(default=None, repr=False)


def _origin(netloc: str) -> tuple[str, int | None]:
    parts = urlsplit(f"//{netloc}")
    host = (parts.hostname or "").lower()
    return ("loopback" if host in _LOOPBACK_NAMES else host), parts.port


def is_own_address(ui_host: str, redirect_uri: str) -> bool:
    """Whether the browser reaches the ui (``Host`` header ``ui_host``) at the redirect URI's
    host and port, so the ui itself is the callback. Loopback names count as one host."""
    parts = urlsplit(redirect_uri)
    redirect_port = parts.port or (443 if parts.scheme == "https" else 80)
    host, port = _origin(ui_host)
    return (host, port or 80) == (_origin(parts.netloc)[0], redirect_port)


class Flows:
    """The ui's authorization flows (at most one is pending)."""

    def __init__(self, hand_off_factory: HandOffFactory = loopback_hand_off, *,
                 timeout: float = FLOW_TIMEOUT,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._factory = hand_off_factory
        self._timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._flow: Flow | None = None

    def start(self, pending: PendingAuthorization, *, return_to: Callable[[str], str],
              ui_receives: bool) -> Flow:
        """Begin waiting for the redirect of ``pending``; the previous flow is dropped.

        ``return_to(flow_id)`` is the ui URL the browser comes back to. ``ui_receives``: the
        ui is itself the redirect target (no separate listener).
        """
        self.cancel()
        flow_id = secrets.token_urlsafe(24)
        hand_off: HandOff | None = None
        if not ui_receives:
            hand_off = self._factory(return_to(flow_id))
            hand_off.start(pending.redirect_uri)
        flow = Flow(id=flow_id, pending=pending, started=self._clock(), hand_off=hand_off)
        if hand_off is not None:
            # Free the port when nobody comes back (the CLI's connect may need it).
            flow.timer = threading.Timer(self._timeout, self._expire, args=(flow_id,))
            flow.timer.daemon = True
            flow.timer.start()
        with self._lock:
            self._flow = flow
        return flow

    def current(self) -> Flow | None:
        """The pending flow, unless it expired."""
        with self._lock:
            flow = self._flow
        if flow is not None and self._clock() - flow.started > self._timeout:
            self._expire(flow.id)
            return None
        return flow

    def get(self, flow_id: str) -> Flow | None:
        """The pending flow with this id, if any."""
        flow = self.current()
        return flow if flow is not None and secrets.compare_digest(flow.id, flow_id) else None

    def receive(self, callback_url: str) -> Flow | None:
        """The ui itself received the redirect: keep it for the pending flow."""
        flow = self.current()
        if flow is None or flow.hand_off is not None:
            return None
        flow.callback = callback_url
        return flow

    def callback(self, flow: Flow) -> str | None:
        """The flow's callback URL once the redirect arrived (``None`` until then)."""
        if flow.callback is not None:
            return flow.callback
        if flow.hand_off is not None and flow.hand_off.received:
            try:
                flow.callback = flow.hand_off.wait()
            except ConnectorError:
                return None
        return flow.callback

    def finish(self, flow_id: str) -> None:
        """Forget the flow (done, failed or cancelled); frees its port."""
        with self._lock:
            flow = self._flow
            if flow is None or flow.id != flow_id:
                return
            self._flow = None
        self._close(flow)

    def cancel(self) -> None:
        """Drop the pending flow, if any."""
        with self._lock:
            flow, self._flow = self._flow, None
        if flow is not None:
            self._close(flow)

    def _expire(self, flow_id: str) -> None:
        self.finish(flow_id)

    @staticmethod
    def _close(flow: Flow) -> None:
        if flow.timer is not None:
            flow.timer.cancel()
        if flow.hand_off is not None:
            flow.hand_off.close()
