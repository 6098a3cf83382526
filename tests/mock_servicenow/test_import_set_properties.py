"""Property (issue 14): any import row is inserted or coalesced exactly once.

Rows with repeated coalesce keys, in any order and case, through ``insertMultiple`` (the
asynchronous transform) or one row at a time: each key ends as exactly one incident; each
staging row ends with exactly one status (inserted for the first row of its key, updated or
ignored after it, skipped without a key) and points at its key's incident; the incident
holds the last non-empty value sent for it (empty values do not overwrite, the Notification
map does not copy empty fields).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_servicenow.app import create_app
from mock_servicenow.settings import Settings
from tests.mock_servicenow.import_set_helpers import NOTIFICATION

KEYS = st.sampled_from(["a", "A", "b", "B", "c", ""])
MESSAGES = st.sampled_from(["", "up", "down", "flapping"])
ROWS = st.lists(st.tuples(KEYS, MESSAGES), min_size=1, max_size=12)


@pytest.fixture(scope="module")
def admin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """One instance for every example: each example's keys carry a prefix of their own."""
    directory = tmp_path_factory.mktemp("import-set-property")
    app: Flask = create_app(Settings(
        database_path=str(directory / "instance.db"), home=directory, admin_password="admin",
        password_hash_iterations=1000, secret_key="import-set-property", random_seed=3))
    with httpx.Client(transport=httpx.WSGITransport(app=app),
                      base_url="https://dev00000.service-now.test",
                      auth=("admin", "admin")) as client:
        yield client
    app.extensions["mock_servicenow"].instance.close()


def _load(admin: httpx.Client, prefix: str, sent: list[tuple[str, str]], one_by_one: bool
          ) -> list[dict[str, str]]:
    """Send the rows (tagged with ``prefix`` in the unmapped ``type`` column); return the
    staging rows (state, target) in the order sent."""
    keyed = [(f"{prefix}{key}" if key else "", message) for key, message in sent]
    if one_by_one:
        for key, message in keyed:
            response = admin.post(NOTIFICATION,
                                  json={"uuid": key, "message": message, "type": prefix})
            assert response.status_code == 201, response.text
    else:
        response = admin.post(f"{NOTIFICATION}/insertMultiple", json={"records": [
            {"UUID": key, "Message": message, "Type": prefix} for key, message in keyed]})
        assert response.status_code == 201, response.text
    found = admin.get("/api/now/table/imp_notification", params={
        "sysparm_query": f"type={prefix}^ORDERBYsys_import_row",
        "sysparm_fields": "sys_import_state,sys_target_sys_id"}).json()["result"]
    return list(found)


# Each example is a whole load through the app (up to 12 requests): 30 keep the run short.
@settings(max_examples=30)
@given(sent=ROWS, one_by_one=st.booleans())
def test_each_key_is_inserted_once_and_each_row_has_one_status(
        admin: httpx.Client, sent: list[tuple[str, str]], one_by_one: bool) -> None:
    prefix = f"p{uuid.uuid4().hex[:10]}-"
    staged = _load(admin, prefix, sent, one_by_one)
    assert len(staged) == len(sent)
    incidents = admin.get("/api/now/table/incident", params={
        "sysparm_query": f"correlation_idSTARTSWITH{prefix}",
        "sysparm_fields": "sys_id,correlation_id,short_description"}).json()["result"]
    by_key: dict[str, list[dict[str, str]]] = {}
    for incident in incidents:
        by_key.setdefault(incident["correlation_id"].removeprefix(prefix).lower(),
                          []).append(incident)
    keys = {key.lower() for key, _ in sent if key}
    assert set(by_key) == keys
    assert all(len(found) == 1 for found in by_key.values()), by_key
    seen: set[str] = set()
    last_message: dict[str, str] = {}
    for (key, message), row in zip(sent, staged, strict=True):
        status = row["sys_import_state"]  # one transform map: one status per row
        if not key:
            assert status == "skipped"
            continue
        group = key.lower()
        expected = {"inserted"} if group not in seen else {"updated", "ignored"}
        assert status in expected, (key, status)
        seen.add(group)
        assert row["sys_target_sys_id"] == by_key[group][0]["sys_id"]
        if message:
            last_message[group] = message
    for group, found in by_key.items():
        assert found[0]["short_description"] == last_message.get(group, "")
