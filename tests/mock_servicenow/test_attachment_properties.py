"""Property (issue 14): any attachment uploaded is listed once for its record, with its bytes,
and is gone after the record is deleted (servicenow-behaviour §9.2)."""

from __future__ import annotations

import hashlib

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FILES = st.lists(
    st.tuples(
        st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40),
        st.binary(max_size=3000),
        st.sampled_from(["text/plain", "application/octet-stream", "image/png"]),
        st.booleans(),  # multipart or raw
    ),
    min_size=1, max_size=4)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=FILES)
def test_uploaded_attachments_are_listed_once_and_go_with_the_record(
        snow_admin: httpx.Client, files: list[tuple[str, bytes, str, bool]]) -> None:
    record = snow_admin.post("/api/now/table/incident", json={"short_description": "property"})
    sys_id = record.json()["result"]["sys_id"]
    uploaded: dict[str, bytes] = {}
    for name, content, content_type, multipart in files:
        if multipart:
            response = snow_admin.post(
                "/api/now/attachment/upload",
                data={"table_name": "incident", "table_sys_id": sys_id},
                files={"uploadFile": (name, content, content_type)})
        else:
            response = snow_admin.post(
                "/api/now/attachment/file", content=content, headers={"Content-Type": content_type},
                params={"table_name": "incident", "table_sys_id": sys_id, "file_name": name})
        assert response.status_code == 201, response.text
        meta = response.json()["result"]
        assert meta["file_name"] == name and meta["hash"] == hashlib.sha256(content).hexdigest()
        uploaded[meta["sys_id"]] = content

    listed = snow_admin.get("/api/now/attachment",
                            params={"sysparm_query": f"table_sys_id={sys_id}"})
    ids = [m["sys_id"] for m in listed.json()["result"]]
    assert sorted(ids) == sorted(uploaded) and listed.headers["X-Total-Count"] == str(len(ids))
    for attachment, content in uploaded.items():
        assert snow_admin.get(f"/api/now/attachment/{attachment}/file").content == content

    assert snow_admin.delete(f"/api/now/table/incident/{sys_id}").status_code == 204
    after = snow_admin.get("/api/now/attachment", params={"sysparm_query":
                                                          f"table_sys_id={sys_id}"})
    assert after.json()["result"] == [] and after.headers["X-Total-Count"] == "0"
    for attachment in uploaded:
        assert snow_admin.get(f"/api/now/attachment/{attachment}").status_code == 404
