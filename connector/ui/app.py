"""``create_app``: the ui's Flask app for one connector home."""

from __future__ import annotations

import logging
import secrets
from urllib.parse import urlsplit

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from connector.api import Connector
from connector.settings import ConnectorSettings

from . import home, rendering, securescore, security, servicenow
from .context import EXTENSION, ConnectorFactory, UiState
from .flows import Flows, HandOffFactory, loopback_hand_off

log = logging.getLogger("connector.ui")

#: Largest upload (a Graph export of 200 profiles is ~340 KB).
MAX_UPLOAD = 10 * 1024 * 1024


def create_app(settings: ConnectorSettings, *,
               connector_factory: ConnectorFactory | None = None,
               hand_off_factory: HandOffFactory = loopback_hand_off,
               bound_host: str = "127.0.0.1",
               account: str = "",
               secret_key: bytes | None = None) -> Flask:
    """The ui for the connector home of ``settings``.

    ``connector_factory`` builds the library object for each page (tests inject a transport;
    by default ``Connector(settings)``). ``hand_off_factory`` receives the instance's redirect
    on the registered URI (:mod:`connector.ui.flows`). ``bound_host`` is the address the ui
    listens on: on loopback, only loopback ``Host`` names are served. ``secret_key`` signs the
    session cookie (CSRF token, flow id; never a secret of the connection); a random one by
    default, so sessions end with the process. ``account`` is the Microsoft 365 user shown in
    the header (the tickets' initiating user, set on the connectors the factory builds).
    """
    app = Flask("connector.ui")
    app.config.update(
        SECRET_KEY=secret_key or secrets.token_bytes(32),
        SESSION_COOKIE_NAME="snow_connector_ui",
        SESSION_COOKIE_HTTPONLY=True,
        # Lax: the instance's redirect back to the ui is a cross-site top-level GET.
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=MAX_UPLOAD,
        TEMPLATES_AUTO_RELOAD=False,
    )
    factory = connector_factory or (lambda: Connector(settings))
    app.extensions[EXTENSION] = UiState(settings=settings, make_connector=factory,
                                        flows=Flows(hand_off_factory), account=account)
    security.install(app, security.host_names(bound_host))
    rendering.install(app)
    app.register_blueprint(home.bp)
    app.register_blueprint(servicenow.bp)
    app.register_blueprint(securescore.bp)
    # The registered redirect URI's path: used when the ui itself listens there.
    callback_path = urlsplit(settings.redirect_uri).path or "/"
    app.add_url_rule(callback_path, "redirect_callback", servicenow.redirect_callback)
    _register_error_pages(app)
    return app


def _register_error_pages(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        code = error.code or 500
        if isinstance(error, RequestEntityTooLarge):
            text = f"The upload is larger than {MAX_UPLOAD // (1024 * 1024)} MB."
        elif code == 404:
            text = "There is no such page here."
        elif code == 405:
            text = "This page does not take that kind of request."
        else:
            text = error.description or error.name
        return render_template("error.html", title=error.name, text=text), code

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[str, int]:
        # The traceback goes to the log, never to the page.
        log.exception("unexpected error on a page")
        return render_template("error.html", title="Something went wrong",
                               text="The page could not be shown. The ui's log has the "
                                    "details."), 500
