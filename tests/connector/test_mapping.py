"""Properties of the mapping (hypothesis): any valid profile maps to an acceptable payload."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector import InvalidInput, build_task, correlation_id, to_payload
from connector.graph import parse_profile
from connector.mapping import (
    CHANGE_PRIORITY,
    INCIDENT_IMPACT_URGENCY,
    PRIORITIES,
    PRIORITY_LOOKUP,
)
from tests.connector.recording import _errors, load_contract

CONTRACT = load_contract(Path(__file__).parent / "contracts" / "connector-surface.openapi.yaml")
POST_SCHEMA = CONTRACT["paths"]["/api/now/table/{table}"]["post"]["requestBody"]["content"][
    "application/json"]["schema"]
TODAY = dt.date(2026, 11, 26)

text = st.text(min_size=0, max_size=300)
html_text = st.lists(st.one_of(text, st.sampled_from(
    ["<p>", "</p>", "<b>", "<br/>", "<a href='x'>", "&amp;", "&lt;", "<script>x</script>",
     "<", ">", "<!-- c -->", "<li>"])), max_size=12).map("".join)
casing = st.sampled_from(["Apps", "apps", "APPS", "Device", "Devices", "data", "Identity",
                          "Infrastructure", "Account"])
level = st.one_of(st.none(), st.sampled_from(["low", "Low", "Moderate", "medium", "Medium",
                                              "High", "Unknown", "None"]), text)
number = st.one_of(st.none(), st.integers(-5, 1000), st.floats(allow_nan=False,
                                                                allow_infinity=False),
                   st.integers(0, 100).map(str), text)
profiles = st.fixed_dictionaries(
    {"id": st.text(min_size=1, max_size=120).filter(lambda s: s.strip()),
     "controlCategory": casing},
    optional={
        "azureTenantId": st.uuids().map(str), "title": html_text, "remediation": html_text,
        "remediationImpact": st.one_of(st.none(), html_text), "implementationCost": level,
        "userImpact": level, "maxScore": number, "rank": number,
        "threats": st.one_of(st.none(), st.lists(st.one_of(st.none(), text), max_size=4)),
        "tier": st.one_of(st.none(), text), "service": st.one_of(st.none(), text),
        "actionUrl": st.one_of(st.none(), text), "deprecated": st.one_of(st.booleans(), text),
        "unexpectedKey": st.one_of(st.none(), text, st.integers()),
    })


def _task(profile: dict[str, Any], priority: str, days: int) -> Any:
    action = parse_profile(profile)
    return build_task(action=action, control_id=action.id, tenant_id=action.tenant_id,
                      initiated_by="admin@contoso.com", priority=priority,
                      due=TODAY + dt.timedelta(days=days), today=TODAY)


@given(profiles, st.sampled_from(PRIORITIES), st.integers(0, 3650),
       st.sampled_from(["change", "incident"]))
def test_any_valid_profile_maps_to_an_accepted_payload(profile: dict[str, Any], priority: str,
                                                       days: int, kind: str) -> None:
    payload = to_payload(_task(profile, priority, days), kind)
    assert _errors(CONTRACT, POST_SCHEMA, payload) == []
    assert all(isinstance(v, str) for v in payload.values())


@given(profiles, st.sampled_from(PRIORITIES))
def test_no_html_survives_into_ticket_text(profile: dict[str, Any], priority: str) -> None:
    payload = to_payload(_task(profile, priority, 1), "incident")
    for key in ("short_description", "description"):
        assert "<" not in payload[key] and ">" not in payload[key]


@given(st.text(max_size=80), st.sampled_from(["microsoft", "user"]), st.text(min_size=1,
                                                                           max_size=400))
def test_correlation_id_is_stable_short_and_query_safe(tenant: str, source: str,
                                                       control: str) -> None:
    value = correlation_id(tenant, source, control)
    assert value == correlation_id(tenant, source, control)
    assert len(value) <= 100 and value.startswith("m365ss:")
    assert not set(value) & set("^=,@ \n")
    assert value != correlation_id(tenant + "x", source, control)


def test_correlation_id_ignores_case_of_tenant_and_control() -> None:
    assert correlation_id("ABC", "microsoft", "DLPEnabled") == \
        correlation_id("abc", "microsoft", "dlpenabled")


def test_priority_mapping_is_total_and_consistent() -> None:
    assert set(CHANGE_PRIORITY) == set(INCIDENT_IMPACT_URGENCY) == set(PRIORITIES)
    for priority in PRIORITIES:
        # The instance derives the incident priority (§7.2): it matches the change priority.
        assert PRIORITY_LOOKUP[INCIDENT_IMPACT_URGENCY[priority]] == CHANGE_PRIORITY[priority]


@pytest.mark.parametrize("kwargs, message", [
    ({"priority": None}, "priority"),
    ({"due": None}, "due date"),
    ({"due": "31/12/2030"}, "YYYY-MM-DD"),
    ({"priority": "urgent"}, "not one of"),
    ({"due": "2026-11-25"}, "in the past"),
    ({"name": "  <br> "}, "name"),
    ({"category": "network"}, "not one of"),
])
def test_required_fields_have_clear_messages(kwargs: dict[str, Any], message: str) -> None:
    action = parse_profile({"id": "X", "title": "T", "controlCategory": "Apps",
                            "remediation": "do it"})
    options: dict[str, Any] = {"action": action, "control_id": "X", "tenant_id": "t",
                               "initiated_by": "u", "priority": "high", "due": "2030-01-01",
                               "today": TODAY}
    options.update(kwargs)
    with pytest.raises(InvalidInput, match=message):
        build_task(**options)
