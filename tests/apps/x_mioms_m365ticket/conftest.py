"""Fixtures for the x_mioms_m365ticket app: instances at a known checklist state, clients."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import httpx
import pytest
from flask import Flask

from mock_servicenow.app import create_app
from mock_servicenow.apps.x_mioms_m365ticket import install
from mock_servicenow.domain.platform.context import ADMIN_SYS_ID, Context
from mock_servicenow.pytest_plugin import IN_PROCESS_BASE_URL
from mock_servicenow.settings import Settings
from mock_servicenow.store import rows

API = "/api/x_mioms_m365ticket/v1"
POLICY_DENIAL = ("Read operation against 'oauth_entity' from scope 'x_mioms_m365ticket' has "
                 "been refused due to the table's cross-scope access policy")


def system_ctx(app: Flask) -> Context:
    """A system context on a new connection to ``app``'s instance (close ``ctx.db``)."""
    instance = app.extensions["mock_servicenow"].instance
    return instance.context(instance.connect())  # type: ignore[no-any-return]


def set_table_access(app: Flask, table: str, **values: object) -> None:
    """Change a table's application access the way a customized instance has it."""
    ctx = system_ctx(app)
    with ctx.db.atomic():
        row = rows.find_by(ctx.db, ctx.dictionary, "sys_db_object", name=table)[0]
        rows.update(ctx.db, ctx.dictionary, "sys_db_object", row["sys_id"], values)
    ctx.db.close()


@pytest.fixture
def fresh_app(snow_settings: Settings) -> Iterator[Flask]:
    """An instance with the app installed and its checklist not started (no demo data)."""
    app = create_app(dataclasses.replace(snow_settings, seed="empty"))
    ctx = system_ctx(app)
    with ctx.db.atomic():
        install.install(ctx)
    ctx.db.close()
    yield app
    app.extensions["mock_servicenow"].instance.close()


def client(app: Flask, auth: tuple[str, str] | None = ("admin", "admin")) -> httpx.Client:
    """An in-process client for ``app`` (Basic ``auth``; ``None`` for anonymous)."""
    return httpx.Client(transport=httpx.WSGITransport(app=app), base_url=IN_PROCESS_BASE_URL,
                        auth=auth, headers={"Accept": "application/json"})


@pytest.fixture
def fresh_admin(fresh_app: Flask) -> Iterator[httpx.Client]:
    """Admin client of :func:`fresh_app`."""
    with client(fresh_app) as c:
        yield c


def browser_session(app: Flask, sys_id: str = ADMIN_SYS_ID):  # type: ignore[no-untyped-def]
    """A Flask test client logged in (session cookie) as the user ``sys_id``."""
    from flask import session

    from mock_servicenow.domain.identity import users
    from mock_servicenow.web import session as browser
    from mock_servicenow.web.context import get_ctx

    test_client = app.test_client()
    # A real server-side session, as /login.do would open (demo users have no password).
    with app.test_request_context("/"):
        ctx = get_ctx()
        browser.log_in(users.principal_for(ctx, users.get_user(ctx, sys_id), via="session"))
        values = dict(session)
    with test_client.session_transaction() as cookie:
        cookie.update(values)
    return test_client
