"""Helpers shared by the CMDB Instance and Meta API tests: demo CIs, paths, payloads."""

from __future__ import annotations

from typing import Any

import httpx

#: Demo CIs and relation types with their published sys_ids (data/demo/40-cmdb.json).
LINUX_APP01 = "3a290cc60a0a0bb400000bdb386af1cf"  # PS LinuxApp01, cmdb_ci_linux_server
ORA01 = "3a307c930a0a0bb400353965d0b8861f"  # PS ORA01, cmdb_ci_database
APACHE01 = "3a27d4370a0a0bb4006316812bf45439"  # PS Apache01, cmdb_ci_appl
FILE_SERVER1 = "b0c3437ac0a8000900433b8a412966aa"  # FileServerFloor1, cmdb_ci_win_server
DEPENDS_ON = "1a9cb166f1571100a92eb60da2bce5c5"  # Depends on::Used by
EXCHANGES = "607ad1b2c0a8010e01941856b365af90"  # Exchanges data with::Exchanges data with
RUNS_ON = "60bc4e22c0a8010e01f074cbe6bd73c3"  # Runs on::Runs

INSTANCE = "/api/now/cmdb/instance"
LINUX = f"{INSTANCE}/cmdb_ci_linux_server"


def create(client: httpx.Client, attributes: dict[str, Any], *, cls: str = "cmdb_ci_linux_server",
           source: str = "ServiceNow", **extra: Any) -> httpx.Response:
    """POST a CI in the identification engine's envelope."""
    return client.post(f"{INSTANCE}/{cls}",
                       json={"attributes": attributes, "source": source, **extra})


def created(client: httpx.Client, attributes: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """POST a CI that must succeed; returns ``result``."""
    response = create(client, attributes, **kwargs)
    assert response.status_code == 201, response.text
    return response.json()["result"]  # type: ignore[no-any-return]


def count(client: httpx.Client, table: str, query: str) -> int:
    """How many rows of ``table`` match ``query`` (Table API)."""
    response = client.get(f"/api/now/table/{table}",
                          params={"sysparm_query": query, "sysparm_fields": "sys_id"})
    assert response.status_code == 200, response.text
    return len(response.json()["result"])


def targets(relations: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """``(type name, target name)`` of each relation of a CI, in order."""
    return [(r["type"]["display_value"], r["target"]["display_value"]) for r in relations]
