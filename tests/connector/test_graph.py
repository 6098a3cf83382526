"""Secure Score input: shapes (object, list, Graph pages across files) and real-data quirks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connector import InvalidInput, load_actions, parse_documents
from connector.graph import CATEGORIES, html_to_text, parse_profile


def test_builtin_samples_cover_every_category() -> None:
    actions = load_actions().actions
    assert len(actions) == 8
    assert {a.category for a in actions} == set(CATEGORIES)
    assert all(a.tenant_id and a.title and a.remediation for a in actions)


def test_quirky_profile_is_normalized() -> None:
    action = parse_profile({
        "id": "aad_admin_consent_workflow", "controlCategory": "device",
        "Title": "Ensure the <b>admin consent</b> workflow is enabled",
        "implementationCost": "Medium", "userImpact": None, "maxScore": "5",
        "rank": "10", "tier": "Defense In Depth", "remediation": "<p>Go&nbsp;to <a "
        "href='x'>Entra</a></p><script>alert(1)</script>", "threats": ["Account breach", None],
        "someUndocumentedKey": {"x": 1}, "deprecated": "false",
    })
    assert action.category == "devices"
    assert action.title == "Ensure the admin consent workflow is enabled"
    assert action.implementation_cost == "moderate" and action.user_impact == "unknown"
    assert action.max_score == 5.0 and action.rank == 10
    assert action.tier == "Defense in Depth"
    assert action.remediation == "Go to Entra"
    assert action.threats == ("Account breach",)
    assert action.extra == {"someUndocumentedKey": {"x": 1}}


def test_pages_across_files(tmp_path: Path) -> None:
    page1 = {"@odata.context": "x", "@odata.nextLink": "https://graph.microsoft.com/v1.0/"
             "security/secureScoreControlProfiles?$skiptoken=abc",
             "value": [{"id": "A", "controlCategory": "Apps", "title": "a"}]}
    page2 = {"value": [{"id": "B", "controlCategory": "Data", "title": "b"}]}
    first, second = tmp_path / "p1.json", tmp_path / "p2.json"
    first.write_text(json.dumps(page1))
    second.write_text(json.dumps(page2))
    only_first = load_actions([first])
    assert [a.id for a in only_first.actions] == ["A"] and only_first.incomplete
    both = load_actions([first, second])
    assert [a.id for a in both.actions] == ["A", "B"] and not both.incomplete


def test_single_object_and_list() -> None:
    assert [a.id for a in parse_documents([{"id": "X"}]).actions] == ["X"]
    assert [a.id for a in parse_documents([[{"id": "X"}, {"id": "Y"}]]).actions] == ["X", "Y"]


@pytest.mark.parametrize("document", [42, "text", [{"title": "no id"}], [17]])
def test_bad_documents_are_invalid_input(document: object) -> None:
    with pytest.raises(InvalidInput):
        parse_documents([document])


def test_unreadable_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InvalidInput, match="not valid JSON"):
        load_actions([bad])
    with pytest.raises(InvalidInput, match="cannot read"):
        load_actions([tmp_path / "missing.json"])


def test_unknown_action_id() -> None:
    with pytest.raises(InvalidInput, match="no improvement action"):
        load_actions().get("nope")


def test_html_to_text_drops_broken_markup() -> None:
    assert html_to_text("a <b>b</b> &lt;script&gt; <unclosed") == "a b script unclosed"
    assert html_to_text(None) == ""
