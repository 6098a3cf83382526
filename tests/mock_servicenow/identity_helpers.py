"""Helpers for the identity tests: clients, users, logging in through the real pages."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
from flask import Flask

from mock_servicenow.dictionary.values import to_storage
from mock_servicenow.domain.identity import oauth_tokens
from mock_servicenow.domain.identity.passwords import hash_password
from mock_servicenow.domain.platform.seed import Seeder
from mock_servicenow.store import rows

REDIRECT = "https://client.example.test/callback"


def make_client(app: Flask, **options: Any) -> tuple[str, str, str]:
    """Register an oauth_entity; returns (sys_id, client_id, client_secret)."""
    instance = app.extensions["mock_servicenow"].instance
    db = instance.connect()
    try:
        ctx = instance.context(db)
        options.setdefault("redirect_url", f"{REDIRECT}, http://127.0.0.1:8765/callback")
        with db.atomic():
            return oauth_tokens.create_client(ctx, options.pop("name", "Test client"), **options)
    finally:
        db.close()


def make_user(app: Flask, user_name: str, password: str, **flags: str) -> str:
    """Create a sys_user (wire values in ``flags``), or set the password and flags of the
    existing one (the demo seed already has ``m365_integration``); returns its sys_id."""
    instance = app.extensions["mock_servicenow"].instance
    db = instance.connect()
    try:
        ctx = instance.context(db)
        values = {"user_name": user_name, "name": user_name.replace(".", " ").title(),
                  "email": f"{user_name}@example.com",
                  "user_password": hash_password(password, iterations=1000), **flags}
        with db.atomic():
            existing = rows.find_by(db, ctx.dictionary, "sys_user", user_name=user_name)
            if not existing:
                return Seeder(ctx).add("sys_user", values)
            fields = ctx.dictionary.fields("sys_user")
            changes = {k: to_storage(fields[k], v) for k, v in values.items()
                       if k in ("user_password", *flags)}
            rows.update(db, ctx.dictionary, "sys_user", existing[0]["sys_id"], changes)
            return str(existing[0]["sys_id"])
    finally:
        db.close()


def set_property(app: Flask, name: str, value: str) -> None:
    """Set a system property directly."""
    instance = app.extensions["mock_servicenow"].instance
    db = instance.connect()
    try:
        with db.atomic():
            oauth_tokens.set_property(instance.context(db), name, value)
    finally:
        db.close()


def update_user(app: Flask, sys_id: str, **storage: Any) -> None:
    """Change stored columns of a user (``active=0``, ``locked_out=1``...)."""
    instance = app.extensions["mock_servicenow"].instance
    db = instance.connect()
    try:
        sets = ", ".join(f'"{k}" = ?' for k in storage)
        with db.atomic():
            db.execute(f"UPDATE sys_user SET {sets} WHERE sys_id = ?", [*storage.values(), sys_id])
    finally:
        db.close()


def form_field(page: str, name: str) -> str:
    """The value of a hidden input in a rendered page."""
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no {name} in page"
    return html.unescape(found.group(1))


def form_action(page: str) -> str:
    """The action of the first POST form in a page."""
    found = re.search(r'<form method="post" action="([^"]+)"', page)
    assert found, "no form in page"
    return html.unescape(found.group(1))


def login(client: httpx.Client, user_name: str, password: str, goto: str = "") -> httpx.Response:
    """Log in through /login.do (GET for the CSRF token, then POST)."""
    page = client.get("/login.do", params={"sysparm_goto_url": goto} if goto else None)
    return client.post("/login.do", data={"sysparm_ck": form_field(page.text, "sysparm_ck"),
                                          "user_name": user_name, "user_password": password,
                                          "sysparm_goto_url": goto})


def clock(client: httpx.Client, **body: Any) -> None:
    """Drive the instance clock through the control plane."""
    response = client.post("/_emulator/clock", json=body)
    assert response.status_code == 200, response.text


PROBE = "/api/x_test/whoami"


def add_probe(app: Flask) -> None:
    """Register a test-only API route answering who the caller is (through ``authenticate``).

    The identity tests do not depend on the Table API (built on another branch): this probe
    goes through exactly the same authenticators.
    """
    from mock_servicenow.web.auth import authenticate
    from mock_servicenow.web.responses import json_response

    def whoami() -> Any:
        principal = authenticate()
        return json_response({"result": {"user_name": principal.user_name,
                                         "via": principal.via}})

    if PROBE not in {rule.rule for rule in app.url_map.iter_rules()}:
        app.add_url_rule(PROBE, "x_test_whoami", whoami)
