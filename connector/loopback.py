"""The loopback redirect listener of the authorization-code flow (RFC 8252 §7.3).

Listens on the host and port of the redirect URI (``http://127.0.0.1:8765/callback`` by
default), answers one request to its path with a small page, and hands the full callback URL
back. The listener never logs the query string: it carries the authorization code.
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
    """A one-shot HTTP listener on the redirect URI's loopback address."""

    def __init__(self, timeout: float = 300.0) -> None:
        self.timeout = timeout
        self._server: HTTPServer | None = None
        self._result: str | None = None
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, redirect_uri: str) -> None:
        """Bind the listener (fails early if the port is taken)."""
        parts = urlsplit(redirect_uri)
        host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/"
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                if urlsplit(self.path).path != path:
                    self.send_response(404)
                    self.end_headers()
                    return
                receiver._result = f"{parts.scheme}://{parts.netloc}{self.path}"
                body = (b"<!doctype html><title>snow-connector</title>"
                        b"<p>The connector received the answer. You can close this window.</p>")
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
        """The callback URL; ``ConnectorError`` when nothing arrives in time."""
        try:
            if not self._done.wait(self.timeout) or self._result is None:
                raise ConnectorError("no answer from the instance's authorize page in time")
            return self._result
        finally:
            self._done.set()
            if self._server is not None:
                # Let the serving thread notice and leave before the socket goes away.
                if self._thread is not None:
                    self._thread.join(timeout=5)
                self._server.server_close()
