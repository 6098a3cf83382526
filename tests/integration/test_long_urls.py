"""What real clients do with URLs too long for a GET (issue 14, TinyURL): ServiceNow's ``pysnc``
never calls ``/api/now/tinyurl``; past ~10,000 characters of parameters it sends the listing
through the Batch API instead (``GlideRecord._do_query``), and below that a plain GET, even
well over 2,048 characters. Both answer like the short query. The platform's own pages are
the TinyURL clients (tests/mock_servicenow/test_tinyurl.py)."""

from __future__ import annotations

import pytest
import requests

from tests.integration.test_real_clients import https_server

__all__ = ["https_server"]

pysnc = pytest.importorskip("pysnc")


def _numbers(client: pysnc.ServiceNowClient, ors: int) -> tuple[list[str], int]:
    record = client.GlideRecord("incident")
    query = "^OR".join(f"short_description=no such text {i}" for i in range(ors))
    record.add_encoded_query(f"active=true^{query}^ORshort_descriptionISNOTEMPTY")
    record.query()
    return sorted(r.get_value("number") for r in record), len(query)


def test_pysnc_uses_a_get_then_the_batch_api_never_tinyurl(
        https_server: tuple[str, str]) -> None:
    base, bundle = https_server
    client = pysnc.ServiceNowClient(base, ("admin", "admin"), verify=bundle)
    try:
        reference = client.GlideRecord("incident")
        reference.add_query("active", "true")
        reference.query()
        expected = sorted(r.get_value("number") for r in reference)
        requests.post(f"{base}/_emulator/reset", verify=bundle, timeout=30)  # clears the journal
        medium, medium_length = _numbers(client, 90)   # a GET of ~3,000 characters
        long, long_length = _numbers(client, 400)      # ~13,000 characters: the Batch API
    finally:
        client.session.close()
    assert 2048 < medium_length < 10_000 < long_length
    assert medium == long == expected and expected
    journal = requests.get(f"{base}/_emulator/journal", verify=bundle, timeout=30).json()
    calls = [(e["method"], e["path"]) for e in journal["entries"]]
    gets = [len(e["query"]) for e in journal["entries"]
            if (e["method"], e["path"]) == ("GET", "/api/now/table/incident")]
    # The medium query went as a GET of its own (the batched one is longer than 10,000).
    assert any(2048 < length < 10_000 for length in gets), gets
    assert ("POST", "/api/now/v1/batch") in calls
    assert not [c for c in calls if "tinyurl" in c[1]]
