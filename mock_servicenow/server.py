"""Serving the app over real sockets: werkzeug's threaded server, or gunicorn with N workers.

``ready: <base url>`` is printed only after the listening socket is bound, so a script that
waits for that line can connect at once.
"""

from __future__ import annotations

import logging
import socket
import ssl
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from mock_servicenow.tls import TLSFiles

#: The one ``Server`` header of every response, as a real instance sends it
#: (servicenow-behaviour §1.3). The servers write it (werkzeug's and gunicorn's own names are
#: replaced), so the app adds nothing per request and no response carries two.
SERVER_HEADER = "ServiceNow"


class QuietHandler(WSGIRequestHandler):
    """werkzeug's handler without its access log (it would print query strings, which can
    carry ``access_token``; the app logs redacted lines itself), naming itself ServiceNow."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass

    def version_string(self) -> str:
        """The ``Server`` header (werkzeug's would be ``Werkzeug/3.1 Python/3.11``)."""
        return SERVER_HEADER


@dataclass
class Listening:
    """A server bound to a socket."""

    server: BaseWSGIServer
    base_url: str

    def serve_forever(self) -> None:
        """Serve until :meth:`shutdown`."""
        self.server.serve_forever()

    def start_in_thread(self) -> threading.Thread:
        """Serve from a daemon thread (test fixtures)."""
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        return thread

    def shutdown(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()
        # listen() keeps the socket it bound alive beside werkzeug's copy: close it too, or
        # it leaks (a ResourceWarning, an error under filterwarnings=error).
        bound = getattr(self.server, "_bound_socket", None)
        if bound is not None:
            bound.close()


def url_host(host: str) -> str:
    """A host as it appears in a URL (IPv6 in brackets)."""
    return f"[{host}]" if ":" in host else host


def listen(app: Flask, host: str, port: int, tls: TLSFiles | None = None) -> Listening:
    """Bind werkzeug's threaded server; ``port=0`` picks a free port. Raises ``OSError``."""
    context = None
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls.certificate, tls.private_key)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # Bind the socket ourselves: werkzeug reports "address in use" by printing and exiting.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    server = make_server(host, sock.getsockname()[1], app, threaded=True,
                         request_handler=QuietHandler, ssl_context=context, fd=sock.fileno())
    server._bound_socket = sock  # type: ignore[attr-defined]  # keep the fd alive
    scheme = "https" if tls else "http"
    return Listening(server, f"{scheme}://{url_host(host)}:{server.port}")


def serve_gunicorn(app_factory: Callable[[], Flask], host: str, port: int, workers: int,
                   tls: TLSFiles | None, on_ready: Callable[[str], None]) -> None:
    """Run gunicorn with ``workers`` processes on one database (WAL). Blocks until stopped.

    The app is created once in the master (``preload``: the database is prepared before any
    worker forks) and each worker opens its own connections per request.
    """
    from gunicorn.app.base import BaseApplication
    from gunicorn.http import wsgi as gunicorn_wsgi

    # gunicorn writes "Server: gunicorn" on every response and has no setting for it; its
    # responses read the module's SERVER when built. This process serves only the emulator.
    gunicorn_wsgi.SERVER = SERVER_HEADER
    scheme = "https" if tls else "http"

    class _Application(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{url_host(host)}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", 4)
            self.cfg.set("preload_app", True)
            self.cfg.set("accesslog", None)
            self.cfg.set("errorlog", "-")
            self.cfg.set("loglevel", "warning")
            self.cfg.set("graceful_timeout", 5)
            if tls is not None:
                self.cfg.set("certfile", str(tls.certificate))
                self.cfg.set("keyfile", str(tls.private_key))

            def when_ready(server: Any) -> None:
                bound = server.LISTENERS[0].sock.getsockname()[1]
                on_ready(f"{scheme}://{url_host(host)}:{bound}")

            self.cfg.set("when_ready", when_ready)

        def load(self) -> Flask:
            return app_factory()

    sys.argv = sys.argv[:1]  # gunicorn parses sys.argv otherwise
    _Application().run()
