"""Every route the Flask app registers appears in a contract, and every contract operation is
implemented (issue 8 item 2). Fails with the list of what is missing on either side."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from flask import Flask

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}
# Routes that are not part of any HTTP surface a client uses: Flask's static files.
NOT_API = {"/static/<path:filename>"}


def _normalise(path: str) -> str:
    """``/api/now/table/<table>`` and ``/api/now/table/{tableName}`` compare equal."""
    path = re.sub(r"<(?:[a-z_]+:)?[^>]+>", "{}", path)
    return re.sub(r"\{[^}]+\}", "{}", path)


def contract_operations() -> set[tuple[str, str]]:
    operations = set()
    for document in sorted(CONTRACTS.glob("*.openapi.yaml")):
        spec = yaml.safe_load(document.read_text())
        for path, item in (spec.get("paths") or {}).items():
            for method in item:
                if method in METHODS:
                    operations.add((method.upper(), _normalise(path)))
    return operations


def app_operations(app: Flask) -> set[tuple[str, str]]:
    operations = set()
    for rule in app.url_map.iter_rules():
        if rule.rule in NOT_API:
            continue
        for method in rule.methods or ():
            if method in {"HEAD", "OPTIONS"} and method not in _explicit(rule):
                continue
            operations.add((method, _normalise(rule.rule)))
    return operations


def _explicit(rule) -> set[str]:  # type: ignore[no-untyped-def]
    # Flask adds HEAD and OPTIONS to every rule; count them only where a view asks for them.
    return set(getattr(rule, "_explicit_methods", ()) or ())


def test_every_route_is_in_a_contract_and_every_operation_is_served(snow_app: Flask) -> None:
    served = app_operations(snow_app)
    documented = contract_operations()
    undocumented = sorted(served - documented)
    unimplemented = sorted(documented - served)
    assert not undocumented and not unimplemented, (
        f"routes missing from contracts/: {undocumented}\n"
        f"contract operations not served: {unimplemented}"
    )


def test_the_contracts_are_served_by_the_control_plane(snow_client) -> None:  # type: ignore[no-untyped-def]
    listed = snow_client.get("/_emulator/contracts").json()["contracts"]
    names = {c["name"] for c in listed}
    assert "control-plane.openapi.yaml" in names
    body = snow_client.get("/_emulator/contracts/control-plane.openapi.yaml")
    assert body.headers["content-type"].startswith("application/yaml")
    assert yaml.safe_load(body.text)["openapi"].startswith("3.1")
    traversal = snow_client.get("/_emulator/contracts/..%2Fpyproject.toml")
    assert traversal.status_code in (400, 404) and "project" not in traversal.text
    missing = snow_client.get("/_emulator/contracts/nope.openapi.yaml")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "No such contract"
