"""Serving the app over real sockets: werkzeug's threaded server, or gunicorn with N workers.

``ready: <base url>`` is printed only after the listening socket is bound, so a script that
waits for that line can connect at once.

With ``client_ca`` (``serve --tls --client-ca PATH``) the TLS handshake asks for a client
certificate (optional: clients without one still connect) and verifies it against that CA
bundle; the app receives the verified certificate as ``SSL_CLIENT_CERT`` (PEM), the name
werkzeug, Apache and nginx give it (certificate-based authentication, issue 18).
"""

from __future__ import annotations

import logging
import socket
import ssl
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
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


def server_context(tls: TLSFiles, client_ca: Path | None = None) -> ssl.SSLContext:
    """The server side of TLS; with ``client_ca`` it asks for (never requires) a client
    certificate verified against that bundle. Raises ``OSError`` / ``ssl.SSLError``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls.certificate, tls.private_key)
    if client_ca is not None:
        context.load_verify_locations(cafile=str(client_ca))
        context.verify_mode = ssl.CERT_OPTIONAL
    return context


def listen(app: Flask, host: str, port: int, tls: TLSFiles | None = None,
           client_ca: Path | None = None) -> Listening:
    """Bind werkzeug's threaded server; ``port=0`` picks a free port. Raises ``OSError``."""
    context = server_context(tls, client_ca) if tls is not None else None
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


class PeerCertificate:
    """WSGI middleware for gunicorn: the verified client certificate as ``SSL_CLIENT_CERT``
    (werkzeug's server sets it itself). Installed only with a client CA."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        sock = environ.get("gunicorn.socket")
        if isinstance(sock, ssl.SSLSocket):
            der = sock.getpeercert(binary_form=True)
            if der:
                environ["SSL_CLIENT_CERT"] = ssl.DER_cert_to_PEM_cert(der)
        return self.app(environ, start_response)


def serve_gunicorn(app_factory: Callable[[], Flask], host: str, port: int, workers: int,
                   tls: TLSFiles | None, on_ready: Callable[[str], None],
                   client_ca: Path | None = None) -> None:
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
                if client_ca is not None:
                    self.cfg.set("ca_certs", str(client_ca))
                    self.cfg.set("cert_reqs", ssl.CERT_OPTIONAL)

            def when_ready(server: Any) -> None:
                bound = server.LISTENERS[0].sock.getsockname()[1]
                on_ready(f"{scheme}://{url_host(host)}:{bound}")

            self.cfg.set("when_ready", when_ready)

        def load(self) -> Callable[..., Iterable[bytes]]:
            app = app_factory()
            if tls is not None and client_ca is not None:
                return PeerCertificate(app)
            return app

    sys.argv = sys.argv[:1]  # gunicorn parses sys.argv otherwise
    _Application().run()
