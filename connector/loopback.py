"""The loopback redirect listener of the authorization-code flow (RFC 8252 §7.3).

Listens on the host and port of the redirect URI (``http://127.0.0.1:8765/callback`` by
default), answers one request to its path, and hands the full callback URL back. The answer is
a small page, or, with ``return_to``, a ``303 See Other`` to that URL: the ui
(``snow-connector ui``, any port) sends the browser through the registered redirect URI and
gets it back this way, while the code itself is handed over in-process and never travels in
another URL. The listener never logs the query string: it carries the authorization code.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Protocol
from urllib.parse import urlsplit

from .errors import ConnectorError


class RedirectReceiver(Protocol):
    """Something that receives the redirect of the authorize step."""

    def start(self, redirect_uri: str) -> None:
        """Get ready to receive a redirect to ``redirect_uri`` (before the URL is opened)."""

    def wait(self) -> str:
        """Block until the redirect arrives; return the full callback URL."""


class LoopbackReceiver:
    """A one-shot HTTP listener on the redirect URI's loopback address.

    ``return_to``: answer the redirect with ``303 See Other`` to this URL instead of a page.
    """

    def __init__(self, timeout: float = 300.0, *, return_to: str | None = None) -> None:
        self.timeout = timeout
        self.return_to = return_to
        self._server: HTTPServer | None = None
        self._result: str | None = None
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = threading.Lock()

    @property
    def received(self) -> bool:
        """Whether the redirect has arrived (``wait`` then returns at once)."""
        return self._result is not None

    def start(self, redirect_uri: str) -> None:
        """Bind the listener (fails early if the port is taken)."""
        parts = urlsplit(redirect_uri)
        host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/"
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                if urlsplit(self.path).path != path or receiver._done.is_set():
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                receiver._result = f"{parts.scheme}://{parts.netloc}{self.path}"
                if receiver.return_to is not None:
                    self.send_response(303)
                    self.send_header("Location", receiver.return_to)
                    self.send_header("Content-Length", "0")
                    self.send_header("Cache-Control", "no-store")
                    self.send_header("Referrer-Policy", "no-referrer")
                    self.end_headers()
                else:
                    body = (b"<!doctype html><title>snow-connector</title><p>The connector "
                            b"received the answer. You can close this window.</p>")
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                receiver._done.set()

            def log_message(self, format: str, *args: object) -> None:
                # The request line holds the authorization code: never print it.
                return

        try:
            self._server = HTTPServer((host, port), Handler)
        except OSError as exc:
            raise ConnectorError(f"cannot listen on {host}:{port} for the redirect: "
                                 f"{exc.strerror or exc}") from exc
        self._server.timeout = 0.2
        self._thread = threading.Thread(target=self._serve, args=(self._server,), daemon=True)
        self._thread.start()

    def _serve(self, server: HTTPServer) -> None:
        while not self._done.is_set():
            server.handle_request()

    def wait(self) -> str:
        """The callback URL; ``ConnectorError`` when nothing arrives in time (or after
        :meth:`close`)."""
        try:
            if not self._done.wait(self.timeout) or self._result is None:
                raise ConnectorError("no answer from the instance's authorize page in time")
            return self._result
        finally:
            self.close()

    def close(self) -> None:
        """Stop listening and free the port (idempotent; a pending :meth:`wait` gives up)."""
        self._done.set()
        with self._closed:
            if self._server is None:
                return
            # Let the serving thread notice and leave before the socket goes away.
            if self._thread is not None and self._thread is not threading.current_thread():
                self._thread.join(timeout=5)
            self._server.server_close()
            self._server = None
