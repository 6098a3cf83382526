"""``create_app(settings)``: the emulator's Flask application factory.

Nothing app-specific exists at import time: settings come in, one :class:`Emulator` holds the
app-scoped services in ``app.extensions["mock_servicenow"]``, blueprints are registered here
and only here (house style §2: nothing else imports ``web``).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

from flask import Flask, Response, g, request

from mock_servicenow import apps
from mock_servicenow.domain.identity.passwords import PasswordVerifier
from mock_servicenow.domain.platform.clock import GLIDE_FORMAT
from mock_servicenow.domain.platform.context import Platform
from mock_servicenow.domain.platform.ids import IdGenerator
from mock_servicenow.domain.platform.instance import Instance
from mock_servicenow.domain.platform.instances import InstanceRegistry
from mock_servicenow.domain.platform.scenarios import BUILTIN_ACTIONS
from mock_servicenow.domain.platform.schema import default_schema
from mock_servicenow.errors import RequestTooLarge
from mock_servicenow.idp import directory as idp_directory
from mock_servicenow.releases import parse_release
from mock_servicenow.settings import Settings
from mock_servicenow.store.db import DatabaseLocation
from mock_servicenow.web import (
    api_key_pages,
    assets,
    auth,
    control_plane,
    dashboard,
    faults,
    instances,
    login,
    m365ticket_app,
    oauth_endpoints,
    pages,
    platform_apis,
    record_pages,
    scenarios_api,
    table_api,
)
from mock_servicenow.web import idp as idp_pages
from mock_servicenow.web import session as browser_session
from mock_servicenow.web.context import OWN_BODY_LIMIT, close_db
from mock_servicenow.web.errors import register_error_handlers
from mock_servicenow.web.journal import Entry, Journal, redact_query


@dataclass
class Emulator:
    """App-scoped services: settings, the instance, the journal, the authenticators."""

    settings: Settings
    instance: Instance
    journal: Journal
    authenticators: list[auth.Authenticator] = field(default_factory=list)
    instances: InstanceRegistry = field(init=False)

    def __post_init__(self) -> None:
        self.instances = InstanceRegistry(self.instance, random_seed=self.settings.random_seed)

    def instance_for_host(self, host: str) -> Instance:
        """The instance serving ``host``: ``<name>.localhost`` names one created through
        ``/_emulator/instances``; every other host is the default instance."""
        return self.instances.for_host(host)


def build_instance(settings: Settings) -> Instance:
    """The :class:`Instance` described by ``settings``, prepared (seeded or migrated)."""
    release = parse_release(settings.release)
    platform = Platform(
        name=settings.instance_name,
        release=release,
        schema=default_schema(),
        ids=IdGenerator(settings.random_seed),
        verifier=PasswordVerifier(),
        password_hash_iterations=settings.password_hash_iterations,
        access_token_lifespan=settings.access_token_lifespan,
        refresh_token_lifespan=settings.refresh_token_lifespan,
        base_url=settings.base_url,
    )
    location = (DatabaseLocation.memory() if settings.is_memory
                else DatabaseLocation.file(settings.database_path))
    instance = Instance(
        platform=platform,
        location=location,
        seed_kind=settings.seed,
        admin_password=settings.admin_password,
        installers=apps.installers(release, settings.seed,
                                   integration_password=settings.integration_password),
        scenario_dirs=settings.scenario_dirs,
        startup_scenarios=settings.scenarios,
        actions={**BUILTIN_ACTIONS, **apps.scenario_actions(
            integration_password=settings.integration_password),
            "sso": idp_directory.sso_scenario_action},
    )
    instance.prepare()
    return instance


def create_app(settings: Settings) -> Flask:
    """Build the emulator for ``settings`` (its database is ready when this returns)."""
    # No static folder exists: without this, Flask registers /static/<path> (404s only, and an
    # OPTIONS answer) that no contract could honestly describe.
    app = Flask(__name__, static_folder=None)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        SESSION_COOKIE_NAME="glide_session_store",
        SESSION_COOKIE_SAMESITE="Lax",
        JSON_SORT_KEYS=False,
        # A real instance supports GET, DELETE, HEAD, PATCH, POST and PUT (servicenow-behaviour
        # §1.1): OPTIONS is a 405 like any other method, not Flask's automatic empty 200.
        PROVIDE_AUTOMATIC_OPTIONS=False,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.session_interface = browser_session.CookieSessions()
    emulator = Emulator(
        settings=settings,
        instance=build_instance(settings),
        journal=Journal(settings.journal_size),
        authenticators=[auth.basic, auth.bearer, auth.api_key, auth.client_certificate,
                        auth.session_cookie],
    )
    app.extensions["mock_servicenow"] = emulator
    register_error_handlers(app)
    app.teardown_appcontext(close_db)

    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()
        length = request.content_length
        if length is not None and length > settings.max_body_bytes and not getattr(
                app.view_functions.get(request.endpoint or ""), OWN_BODY_LIMIT, False):
            # Views marked own_body_limit (the Attachment API) enforce their own limit.
            raise RequestTooLarge(length, settings.max_body_bytes)

    @app.after_request
    def _journal(response: Response) -> Response:
        # Runs on every request: the request and g proxies are looked up once (issue 9).
        req = request._get_current_object()  # type: ignore[attr-defined]
        path = req.path
        if not path.startswith("/_emulator/journal"):
            scope = g._get_current_object()
            principal = scope.get("principal")
            started = scope.get("started")
            environ = req.environ
            entry = Entry(
                at=time.strftime(GLIDE_FORMAT, time.gmtime()),
                method=environ["REQUEST_METHOD"],
                path=path,
                query=redact_query(environ.get("QUERY_STRING", "")),
                status=response.status_code,
                duration_ms=round((time.perf_counter() - started) * 1000, 3)
                if started is not None else 0.0,
                user=principal.user_name if principal is not None else None,
                remote_addr=environ.get("REMOTE_ADDR"),
            )
            emulator.journal.record(entry)
            if settings.access_log:
                # Redacted like the journal: the query string can carry access_token.
                query = f"?{entry.query}" if entry.query else ""
                print(f"{entry.at} {entry.method} {entry.path}{query} {entry.status} "
                      f"{entry.duration_ms}ms", file=sys.stderr, flush=True)
        return response

    pages.install(app)
    app.register_blueprint(assets.bp)
    app.register_blueprint(m365ticket_app.api)
    app.register_blueprint(m365ticket_app.pages)
    if settings.enable_control_plane:
        app.register_blueprint(control_plane.bp)
        app.register_blueprint(dashboard.bp)
        app.register_blueprint(scenarios_api.bp)
        app.register_blueprint(idp_pages.control)
        app.register_blueprint(instances.bp)
        faults.install(app)
    # Identity (issue 4): OAuth server, login pages, the IdP stand-in.
    oauth_endpoints.init_oauth(app)
    app.register_blueprint(oauth_endpoints.bp)
    app.register_blueprint(login.bp)
    app.register_blueprint(idp_pages.bp)
    app.register_blueprint(api_key_pages.bp)
    # The REST APIs beside the Table API (issue 14): one module each, discovered.
    for blueprint in platform_apis.blueprints():
        app.register_blueprint(blueprint)
    # The navigator, list and form pages of every table (issue 16): after every fixed .do page.
    app.register_blueprint(record_pages.bp)
    # Table API (issue 3), with X-http-method-override.
    app.register_blueprint(table_api.bp)
    app.wsgi_app = table_api.MethodOverride(app.wsgi_app)  # type: ignore[method-assign]
    return app
