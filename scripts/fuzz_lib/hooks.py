"""Schemathesis hooks for ``scripts/fuzz`` (loaded through ``SCHEMATHESIS_HOOKS``).

The control plane lets a generated request change the instance for every request after it: a
fault rule on ``/*`` (a 500, a 300 s latency, the hibernation page), a scenario that installs
one, isolated instances that copy the database. After such a call the instance is put back,
so each test case meets the same instance (the in-process CI run does the same,
tests/contract/test_schemathesis.py).
"""

from __future__ import annotations

import os
from typing import Any

import httpx
import schemathesis

BASE_URL = os.environ["FUZZ_BASE_URL"]
_STATEFUL_PREFIXES = ("/_emulator/faults", "/_emulator/scenarios", "/_emulator/instances")
KEPT_INSTANCES = 8


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    """Remove fault rules a control-plane call may have left, and extra instances beyond a
    few."""
    if not str(case.path).startswith(_STATEFUL_PREFIXES) or case.method.upper() == "GET":
        return
    with httpx.Client(base_url=BASE_URL, timeout=30) as client:
        client.delete("/_emulator/faults")
        listed = client.get("/_emulator/instances")
        extra = [i["name"] for i in listed.json().get("instances", []) if not i.get("default")] \
            if listed.status_code == 200 else []
        # A few are kept (stateful links read and delete what a POST created); beyond that
        # each one is a database copy, so the oldest go.
        for name in extra[:-KEPT_INSTANCES] if len(extra) > KEPT_INSTANCES else []:
            client.delete(f"/_emulator/instances/{name}")
