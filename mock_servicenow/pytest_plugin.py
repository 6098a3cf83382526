"""pytest fixtures for testing against an emulated instance (entry point ``pytest11``).

Installed with the package, so a project that depends on ``mock-servicenow`` gets them too:

* ``snow_settings``: :class:`~mock_servicenow.settings.Settings` for a fresh instance in
  ``tmp_path`` with a cheap password hash (override the fixture to change anything);
* ``snow_app``: the Flask app for those settings (a fresh, isolated, seeded instance);
* ``snow_client``: an ``httpx.Client`` talking to ``snow_app`` in-process over
  ``httpx.WSGITransport`` at ``https://dev00000.service-now.test`` (no sockets);
* ``snow_admin``: the same client authenticated as ``admin`` with Basic auth;
* ``snow_server``: a real threaded server on a free loopback port; yields its base URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from flask import Flask

from mock_servicenow.settings import Settings

#: Base URL of in-process instances (https: authlib refuses plain http off loopback).
IN_PROCESS_BASE_URL = "https://dev00000.service-now.test"
#: Admin password of test instances.
TEST_ADMIN_PASSWORD = "admin"


@pytest.fixture
def snow_settings(tmp_path: Path) -> Settings:
    """Settings of a fresh test instance (file database under ``tmp_path``)."""
    return Settings(
        database_path=str(tmp_path / "instance.db"),
        home=tmp_path / ".mock_servicenow",
        admin_password=TEST_ADMIN_PASSWORD,
        password_hash_iterations=1000,
        secret_key="test-secret-key",
        random_seed=20261126,
    )


@pytest.fixture
def snow_app(snow_settings: Settings) -> Iterator[Flask]:
    """A fresh, isolated, seeded instance's Flask app."""
    from mock_servicenow.app import create_app

    app = create_app(snow_settings)
    yield app
    app.extensions["mock_servicenow"].instance.close()


@pytest.fixture
def snow_client(snow_app: Flask) -> Iterator[httpx.Client]:
    """An httpx client bound to ``snow_app`` in-process, no authentication."""
    with httpx.Client(transport=httpx.WSGITransport(app=snow_app),
                      base_url=IN_PROCESS_BASE_URL) as client:
        yield client


@pytest.fixture
def snow_admin(snow_app: Flask) -> Iterator[httpx.Client]:
    """An httpx client bound to ``snow_app``, authenticated as ``admin`` (Basic)."""
    with httpx.Client(transport=httpx.WSGITransport(app=snow_app),
                      base_url=IN_PROCESS_BASE_URL,
                      auth=("admin", TEST_ADMIN_PASSWORD),
                      headers={"Accept": "application/json"}) as client:
        yield client


@pytest.fixture
def snow_server(snow_app: Flask) -> Iterator[str]:
    """``snow_app`` served over a real socket on a free loopback port; yields the base URL."""
    from mock_servicenow.server import listen

    listening = listen(snow_app, "127.0.0.1", 0)
    listening.start_in_thread()
    try:
        yield listening.base_url
    finally:
        listening.shutdown()
