"""Serving the ui over a socket: werkzeug's threaded server with a redacted access log.

``listen`` binds first, so ``snow-connector ui`` prints ``ready: <url>`` only once the socket
accepts connections, and a port in use is one error line instead of werkzeug's exit.
"""

from __future__ import annotations

import logging
import socket
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

#: The access log (one line per request, on stderr under ``snow-connector ui``).
access_log = logging.getLogger("connector.ui.access")

#: Query parameters never written to the log, whatever page they reach.
_MASKED = frozenset({"code", "state", "token", "access_token", "refresh_token",
                     "client_secret", "password"})


def redact(target: str) -> str:
    """A request target with secret-looking query values masked."""
    parts = urlsplit(target)
    if not parts.query:
        return parts.path
    query = [(k, "***" if k.lower() in _MASKED else v)
             for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return f"{parts.path}?{urlencode(query)}"


class _AccessLogHandler(WSGIRequestHandler):
    """werkzeug's handler, logging redacted lines to :data:`access_log`."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        access_log.info('%s "%s %s" %s', self.address_string(), self.command,
                        redact(self.path), code)

    def log(self, type: str, message: str, *args: Any) -> None:
        # werkzeug's own error lines can quote the request line: keep them redacted too.
        if type == "error":
            access_log.error("%s %s", self.address_string(), "request failed")


@dataclass
class Listening:
    """The ui bound to a socket."""

    server: BaseWSGIServer
    sock: socket.socket
    base_url: str

    def serve_forever(self) -> None:
        """Serve until :meth:`shutdown`."""
        self.server.serve_forever()

    def start_in_thread(self) -> threading.Thread:
        """Serve from a daemon thread (tests)."""
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        return thread

    def shutdown(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()
        self.sock.close()


def url_host(host: str) -> str:
    """A host as it appears in a URL (IPv6 in brackets)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def listen(app: Flask, host: str, port: int) -> Listening:
    """Bind the threaded server; ``port=0`` picks a free port. Raises ``OSError``."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(64)
    except OSError:
        sock.close()
        raise
    server = make_server(host.strip("[]"), sock.getsockname()[1], app, threaded=True,
                         request_handler=_AccessLogHandler, fd=sock.fileno())
    # A wildcard address is not one to browse to: show the loopback one.
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1", "[::]": "::1"}.get(host, host)
    return Listening(server, sock, f"http://{url_host(shown)}:{server.port}")
