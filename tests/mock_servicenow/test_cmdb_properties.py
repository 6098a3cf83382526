"""Property tests of the CMDB Instance API: whatever order CIs and relations are posted in,
a CI identified by its name exists once, with the last values posted, and a relation exists
once per (parent, child, type)."""

from __future__ import annotations

import uuid

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.mock_servicenow.cmdb_helpers import (
    APACHE01,
    DEPENDS_ON,
    LINUX,
    ORA01,
    RUNS_ON,
    count,
    created,
)

POST = st.tuples(st.sampled_from(["a", "b", "c"]), st.text(alphabet="xyz", max_size=3),
                 st.lists(st.tuples(st.sampled_from(["outbound_relations",
                                                     "inbound_relations"]),
                                    st.sampled_from([DEPENDS_ON, RUNS_ON, "Runs on::Runs"]),
                                    st.sampled_from([ORA01, APACHE01])), max_size=3))


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(posts=st.lists(POST, min_size=1, max_size=6))
def test_posting_identifies_cis_and_never_duplicates_relations(
        snow_admin: httpx.Client,
        posts: list[tuple[str, str, list[tuple[str, str, str]]]]) -> None:
    prefix = uuid.uuid4().hex[:10]  # examples share the instance
    ids: dict[str, str] = {}
    last_os: dict[str, str] = {}
    wanted: dict[str, set[tuple[str, str, str]]] = {}
    for name, os, relations in posts:
        body: dict[str, list[dict[str, str]]] = {}
        for key, kind, target in relations:
            body.setdefault(key, []).append({"type": kind, "target": target})
        ci = created(snow_admin, {"name": f"{prefix}-{name}", "os": os}, **body)
        sys_id = ci["attributes"]["sys_id"]
        assert ids.setdefault(name, sys_id) == sys_id
        last_os[name] = os
        for key, kind, target in relations:
            type_id = RUNS_ON if kind == "Runs on::Runs" else kind
            wanted.setdefault(name, set()).add((key, type_id, target))
    for name, sys_id in ids.items():
        assert count(snow_admin, "cmdb_ci", f"name={prefix}-{name}") == 1
        ci = snow_admin.get(f"{LINUX}/{sys_id}").json()["result"]
        assert ci["attributes"]["os"] == last_os[name]
        seen = [(key, r["type"]["value"], r["target"]["value"])
                for key in ("outbound_relations", "inbound_relations") for r in ci[key]]
        assert len(seen) == len(set(seen)) and set(seen) == wanted.get(name, set())
