"""The Attachment API (issue 14 item 1): uploads raw and multipart, listing, metadata, content,
deletion, the cascade with the record, access through the record, the size limit, bad input,
persistence and reset (c_AttachmentAPI.md; servicenow-behaviour §9.2)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask

from mock_servicenow.app import create_app
from mock_servicenow.dictionary.records import stable_sys_id
from mock_servicenow.domain.attachment.attachments import CHUNK_SIZE_BYTES, METADATA_KEYS
from mock_servicenow.settings import Settings
from tests.mock_servicenow.table_api_helpers import client_as, envelope, set_password

# Demo data: INC0000018's caller is abel.tuter (no roles); INC0000002's is fred.luddy.
INC_ABEL = stable_sys_id("incident", "INC0000018")
INC_OTHER = "9d385017c611228701d22104cc95c371"
BASE = "https://dev00000.service-now.test"


def upload(client: httpx.Client, content: bytes, *, table: str = "incident",
           sys_id: str = INC_OTHER, name: str = "notes.txt",
           content_type: str = "text/plain", prefix: str = "/api/now",
           **params: str) -> httpx.Response:
    """``POST <prefix>/attachment/file`` with the raw body."""
    return client.post(f"{prefix}/attachment/file", content=content,
                       params={"table_name": table, "table_sys_id": sys_id, "file_name": name,
                               **params},
                       headers={"Content-Type": content_type})


def created(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 201, response.text
    result: dict[str, str] = response.json()["result"]
    return result


def doc_rows(app: Flask, attachment: str) -> list[dict[str, Any]]:
    instance = app.extensions["mock_servicenow"].instance
    db = instance.connect()
    try:
        cursor = db.execute("SELECT position, length, data FROM sys_attachment_doc "
                            "WHERE sys_attachment = ? ORDER BY position", [attachment])
        return [dict(zip(("position", "length", "data"), row, strict=True))
                for row in cursor.fetchall()]
    finally:
        db.close()


@pytest.fixture
def abel(snow_app: Flask, snow_admin: httpx.Client) -> httpx.Client:
    """abel.tuter: no roles; caller (owner) of INC0000018 only."""
    set_password(snow_admin, "abel.tuter", "Abel-pw-1")
    return client_as(snow_app, "abel.tuter", "Abel-pw-1")


# -- uploads --------------------------------------------------------------------------------

def test_raw_upload_answers_the_captured_metadata(snow_admin: httpx.Client) -> None:
    content = "Résumé: naïve café, 日本語\n".encode() * 50
    response = upload(snow_admin, content, name="notes.txt", content_type="text/plain")
    meta = created(response)
    assert list(meta) == list(METADATA_KEYS)
    assert all(isinstance(value, str) for value in meta.values())
    link = f"{BASE}/api/now/attachment/{meta['sys_id']}/file"
    assert response.headers["Location"] == meta["download_link"] == link
    assert meta["file_name"] == "notes.txt" and meta["content_type"] == "text/plain"
    assert (meta["table_name"], meta["table_sys_id"]) == ("incident", INC_OTHER)
    assert meta["size_bytes"] == str(len(content))
    assert meta["hash"] == hashlib.sha256(content).hexdigest()
    assert meta["compressed"] == "true" and meta["chunk_size_bytes"] == str(CHUNK_SIZE_BYTES)
    assert int(meta["size_compressed"]) == len(gzip.compress(content, mtime=0))
    assert meta["state"] == "pending" and meta["sys_created_by"] == "admin"
    assert meta["sys_tags"] == "" and meta["sys_mod_count"] == "0"
    stored = snow_admin.get(f"/api/now/attachment/{meta['sys_id']}")
    assert stored.status_code == 200
    assert stored.json()["result"] == {**meta, "state": "available",
                                       "sys_updated_on": stored.json()["result"]["sys_updated_on"]}


@pytest.mark.parametrize("size", [1, 700_000, 3 * 1024 * 1024 + 17])
def test_binary_round_trip_is_byte_for_byte(snow_app: Flask, snow_admin: httpx.Client,
                                            size: int) -> None:
    content = os.urandom(size)
    meta = created(upload(snow_admin, content, name="blob.bin",
                          content_type="application/octet-stream", prefix="/api/now/v1"))
    downloaded = snow_admin.get(f"/api/now/v1/attachment/{meta['sys_id']}/file",
                                headers={"Accept": "*/*"})
    assert downloaded.status_code == 200
    assert downloaded.content == content
    assert downloaded.headers["Content-Type"] == "application/octet-stream"
    assert downloaded.headers["Content-Length"] == str(size)
    header = json.loads(downloaded.headers["X-Attachment-Metadata"])
    assert header["sys_id"] == meta["sys_id"] and header["size_bytes"] == str(size)
    # The platform's layout: the gzip stream in base64 pieces of chunk_size_bytes, in order.
    rows = doc_rows(snow_app, meta["sys_id"])
    assert [r["position"] for r in rows] == list(range(len(rows)))
    assert len(rows) == math.ceil(int(meta["size_compressed"]) / CHUNK_SIZE_BYTES)
    assert all(r["length"] == len(r["data"]) for r in rows)
    stream = b"".join(base64.b64decode(r["data"]) for r in rows)
    assert gzip.decompress(stream) == content


def test_text_file_keeps_its_type_and_bytes(snow_admin: httpx.Client) -> None:
    content = "line one\r\nligne deux é\n\x00end".encode()
    meta = created(upload(snow_admin, content, name="crlf.csv",
                          content_type="text/csv; charset=utf-8"))
    downloaded = snow_admin.get(f"/api/now/attachment/{meta['sys_id']}/file")
    assert downloaded.content == content
    assert downloaded.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_an_empty_file_is_an_attachment_of_zero_bytes(snow_app: Flask,
                                                      snow_admin: httpx.Client) -> None:
    meta = created(upload(snow_admin, b"", name="empty.txt"))
    assert meta["size_bytes"] == "0"
    assert meta["hash"] == hashlib.sha256(b"").hexdigest()
    downloaded = snow_admin.get(f"/api/now/attachment/{meta['sys_id']}/file")
    assert (downloaded.status_code, downloaded.content) == (200, b"")
    assert len(doc_rows(snow_app, meta["sys_id"])) == 1


def test_a_hash_parameter_is_not_trusted(snow_admin: httpx.Client) -> None:
    """The Ansible collection sends hash=<its sha256>: the platform stores its own digest."""
    content = b"the real content"
    meta = created(upload(snow_admin, content, hash="0" * 64, content_type="text/plain"))
    assert meta["hash"] == hashlib.sha256(content).hexdigest() != "0" * 64


def test_multipart_upload_takes_the_last_part(snow_admin: httpx.Client) -> None:
    content = os.urandom(100_000)
    response = snow_admin.post("/api/now/attachment/upload",
                               data={"table_name": "incident", "table_sys_id": INC_OTHER},
                               files={"uploadFile": ("photo.png", content, "image/png")})
    meta = created(response)
    assert (meta["file_name"], meta["content_type"]) == ("photo.png", "image/png")
    assert response.headers["Location"] == meta["download_link"]
    assert snow_admin.get(f"/api/now/attachment/{meta['sys_id']}/file").content == content
    # Geneva's documentation names the record field record_sys_id: accepted too.
    older = snow_admin.post("/api/now/v1/attachment/upload",
                            data={"table_name": "incident", "record_sys_id": INC_OTHER},
                            files={"file": ("old.txt", b"old", "text/plain")})
    assert created(older)["table_sys_id"] == INC_OTHER


# -- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("missing", ["table_name", "table_sys_id", "file_name"])
def test_missing_parameters_are_400(snow_admin: httpx.Client, missing: str) -> None:
    params = {"table_name": "incident", "table_sys_id": INC_OTHER, "file_name": "a.txt"}
    del params[missing]
    response = snow_admin.post("/api/now/attachment/file", params=params, content=b"x",
                               headers={"Content-Type": "text/plain"})
    error = envelope(response, 400)
    assert error["message"] == "Failed to create the attachment"
    assert error["detail"] == f"Missing mandatory parameter(s): {missing}"


def test_missing_content_type_is_400(snow_admin: httpx.Client) -> None:
    response = snow_admin.post("/api/now/attachment/file", content=b"x", params={
        "table_name": "incident", "table_sys_id": INC_OTHER, "file_name": "a.txt"})
    assert "Content-Type" in envelope(response, 400)["detail"]


@pytest.mark.parametrize(("table", "sys_id"), [
    ("no_such_table", INC_OTHER), ("incident", "0" * 32), ("incident", "not-a-sys-id"),
    ("problem", INC_OTHER)])
def test_unknown_table_or_record_is_404(snow_admin: httpx.Client, table: str,
                                        sys_id: str) -> None:
    error = envelope(upload(snow_admin, b"x", table=table, sys_id=sys_id), 404)
    assert error == {"message": "No Record found",
                     "detail": "Record doesn't exist or ACL restricts the record retrieval"}
    multipart = snow_admin.post("/api/now/attachment/upload",
                                data={"table_name": table, "table_sys_id": sys_id},
                                files={"f": ("a.txt", b"x", "text/plain")})
    envelope(multipart, 404)


@pytest.mark.parametrize("request_kwargs", [
    {"data": {"table_name": "incident", "table_sys_id": INC_OTHER}},
    {"content": b"--nope\r\nbroken",
     "headers": {"Content-Type": "multipart/form-data; boundary=x"}},
    {"content": b"{}", "headers": {"Content-Type": "application/json"}},
])
def test_multipart_without_a_file_part_is_400(snow_admin: httpx.Client,
                                              request_kwargs: dict[str, Any]) -> None:
    error = envelope(snow_admin.post("/api/now/attachment/upload", **request_kwargs), 400)
    assert error["message"] == ("Failed to create the attachment. File part might be missing "
                                "in the request.")


def test_multipart_without_the_record_is_400(snow_admin: httpx.Client) -> None:
    response = snow_admin.post("/api/now/attachment/upload", data={"table_name": "incident"},
                               files={"f": ("a.txt", b"x", "text/plain")})
    assert envelope(response, 400)["detail"] == "Missing mandatory parameter(s): table_sys_id"


def test_unknown_attachment_is_404(snow_admin: httpx.Client) -> None:
    for method, path in (("GET", "/api/now/attachment/" + "a" * 32),
                         ("GET", "/api/now/attachment/" + "a" * 32 + "/file"),
                         ("DELETE", "/api/now/v1/attachment/" + "a" * 32)):
        envelope(snow_admin.request(method, path), 404)


def test_unauthenticated_is_401(snow_client: httpx.Client) -> None:
    for method, path in (("GET", "/api/now/attachment"), ("POST", "/api/now/attachment/file"),
                         ("POST", "/api/now/attachment/upload")):
        response = snow_client.request(method, path)
        assert envelope(response, 401)["message"] == "User Not Authenticated"
        assert response.headers["WWW-Authenticate"] == 'BASIC realm="Service-now"'


# -- size limit -----------------------------------------------------------------------------

def _set_property(admin: httpx.Client, name: str, value: str) -> None:
    response = admin.post("/api/now/table/sys_properties",
                          json={"name": name, "value": value, "type": "integer"})
    assert response.status_code == 201, response.text


def test_the_maximum_attachment_size_property_bounds_a_file(snow_admin: httpx.Client) -> None:
    _set_property(snow_admin, "com.glide.attachment.max_size", "1")
    limit = 1024 * 1024
    assert created(upload(snow_admin, b"a" * limit, name="fits.txt"))["size_bytes"] == str(limit)
    for response in (upload(snow_admin, b"a" * (limit + 1), name="over.txt"),
                     snow_admin.post("/api/now/attachment/upload",
                                     data={"table_name": "incident", "table_sys_id": INC_OTHER},
                                     files={"f": ("over.txt", b"a" * (limit + 1), "text/plain")})):
        error = envelope(response, 400)
        assert error == {"message": "Exception while reading request",
                         "detail": "Attached files must be smaller than 1MB - please try again"}
    listed = snow_admin.get("/api/now/attachment", params={"sysparm_query": "file_name=over.txt"})
    assert listed.json()["result"] == []


def test_attachments_take_bodies_over_the_table_api_limit(snow_admin: httpx.Client) -> None:
    """The REST limit (10 MiB, §1.1) is the Table API's; a file may reach 1024 MB."""
    big = os.urandom(11 * 1024 * 1024)
    meta = created(upload(snow_admin, big, name="big.bin", content_type="application/zip"))
    assert snow_admin.get(f"/api/now/attachment/{meta['sys_id']}/file").content == big
    record = snow_admin.post("/api/now/table/incident", content=b'{"x":"' + b"a" * len(big)
                             + b'"}', headers={"Content-Type": "application/json"})
    assert envelope(record, 400)["detail"].startswith(
        "Rejected large REST payload with content-length = ")


# -- listing, deletion, cascade -------------------------------------------------------------

def test_listing_filters_pages_and_counts(snow_admin: httpx.Client) -> None:
    names = [f"file{index}.txt" for index in range(5)]
    ids = [created(upload(snow_admin, name.encode(), name=name))["sys_id"] for name in names]
    created(upload(snow_admin, b"elsewhere", sys_id=INC_ABEL, name="other.txt"))
    query = f"table_sys_id={INC_OTHER}^ORDERBYfile_name"
    page = snow_admin.get("/api/now/attachment", params={"sysparm_query": query,
                                                         "sysparm_limit": "2",
                                                         "sysparm_offset": "2"})
    assert page.status_code == 200
    assert page.headers["X-Total-Count"] == "5"
    assert [m["file_name"] for m in page.json()["result"]] == names[2:4]
    assert all(list(m) == list(METADATA_KEYS) for m in page.json()["result"])
    assert 'rel="next"' in page.headers["Link"] and "sysparm_offset=4" in page.headers["Link"]
    everything = snow_admin.get("/api/now/v1/attachment",
                                params={"sysparm_query": f"table_sys_id={INC_OTHER}"})
    assert {m["sys_id"] for m in everything.json()["result"]} == set(ids)
    assert "Link" not in everything.headers


def test_delete_removes_the_attachment_and_its_content(snow_app: Flask,
                                                       snow_admin: httpx.Client) -> None:
    meta = created(upload(snow_admin, os.urandom(2000)))
    response = snow_admin.delete(f"/api/now/attachment/{meta['sys_id']}")
    assert (response.status_code, response.content) == (204, b"")
    envelope(snow_admin.get(f"/api/now/attachment/{meta['sys_id']}"), 404)
    assert doc_rows(snow_app, meta["sys_id"]) == []


def test_deleting_the_record_deletes_its_attachments(snow_app: Flask,
                                                     snow_admin: httpx.Client) -> None:
    record = snow_admin.post("/api/now/table/incident", json={"short_description": "doomed"})
    sys_id = record.json()["result"]["sys_id"]
    ids = [created(upload(snow_admin, os.urandom(900_000), sys_id=sys_id, name=f"{i}.bin"))
           ["sys_id"] for i in range(2)]
    kept = created(upload(snow_admin, b"kept"))["sys_id"]
    assert snow_admin.delete(f"/api/now/table/incident/{sys_id}").status_code == 204
    listed = snow_admin.get("/api/now/attachment", params={"sysparm_query":
                                                           f"table_sys_id={sys_id}"})
    assert listed.json()["result"] == []
    assert all(doc_rows(snow_app, i) == [] for i in ids)
    assert snow_admin.get(f"/api/now/attachment/{kept}").status_code == 200


def test_deleting_a_sys_attachment_row_through_the_table_api_takes_its_content(
        snow_app: Flask, snow_admin: httpx.Client) -> None:
    meta = created(upload(snow_admin, b"content"))
    assert snow_admin.delete(f"/api/now/table/sys_attachment/{meta['sys_id']}"
                             ).status_code == 204
    assert doc_rows(snow_app, meta["sys_id"]) == []


# -- access follows the record --------------------------------------------------------------

def test_who_cannot_read_the_record_cannot_see_its_attachments(snow_admin: httpx.Client,
                                                               abel: httpx.Client) -> None:
    hidden = created(upload(snow_admin, b"secret", sys_id=INC_OTHER, name="hidden.txt"))
    mine = created(upload(snow_admin, b"mine", sys_id=INC_ABEL, name="mine.txt"))
    for path in (f"/api/now/attachment/{hidden['sys_id']}",
                 f"/api/now/attachment/{hidden['sys_id']}/file"):
        envelope(abel.get(path), 404)
    envelope(abel.delete(f"/api/now/attachment/{hidden['sys_id']}"), 404)
    envelope(upload(abel, b"x", sys_id=INC_OTHER), 404)
    listed = abel.get("/api/now/attachment")
    assert [m["sys_id"] for m in listed.json()["result"]] == [mine["sys_id"]]
    assert listed.headers["X-Total-Count"] == "2"  # counts before ACLs, as the Table API
    assert abel.get(f"/api/now/attachment/{mine['sys_id']}/file").content == b"mine"
    # abel may write the incident he is the caller of: he may attach to it and delete.
    own = created(upload(abel, b"by abel", sys_id=INC_ABEL, name="abel.txt"))
    assert own["sys_created_by"] == "abel.tuter"
    assert abel.delete(f"/api/now/attachment/{own['sys_id']}").status_code == 204


def test_who_cannot_write_the_record_cannot_attach_or_delete(snow_admin: httpx.Client,
                                                             abel: httpx.Client) -> None:
    """sys_user rows are readable by everyone and writable by user_admin only (§6)."""
    user = snow_admin.get("/api/now/table/sys_user",
                          params={"sysparm_query": "user_name=beth.anglin"}).json()["result"][0]
    meta = created(upload(snow_admin, b"cv", table="sys_user", sys_id=user["sys_id"]))
    assert abel.get(f"/api/now/attachment/{meta['sys_id']}/file").content == b"cv"
    error = envelope(upload(abel, b"x", table="sys_user", sys_id=user["sys_id"]), 403)
    assert error["message"] == "Operation Failed"
    envelope(abel.delete(f"/api/now/attachment/{meta['sys_id']}"), 403)
    assert snow_admin.get(f"/api/now/attachment/{meta['sys_id']}").status_code == 200


# -- persistence and reset ------------------------------------------------------------------

def test_attachments_survive_a_restart(snow_settings: Settings, snow_app: Flask,
                                       snow_admin: httpx.Client) -> None:
    content = os.urandom(1_500_000)
    meta = created(upload(snow_admin, content, name="kept.bin"))
    again = create_app(snow_settings)
    try:
        with httpx.Client(transport=httpx.WSGITransport(app=again), base_url=BASE,
                          auth=("admin", "admin")) as client:
            assert client.get(f"/api/now/attachment/{meta['sys_id']}/file").content == content
    finally:
        again.extensions["mock_servicenow"].instance.close()
    assert Path(snow_settings.database_path).exists()


def test_reset_removes_uploaded_attachments(snow_app: Flask, snow_admin: httpx.Client) -> None:
    before = snow_admin.get("/api/now/attachment").headers["X-Total-Count"]
    meta = created(upload(snow_admin, b"temporary"))
    assert snow_admin.post("/_emulator/reset").status_code == 200
    envelope(snow_admin.get(f"/api/now/attachment/{meta['sys_id']}"), 404)
    assert snow_admin.get("/api/now/attachment").headers["X-Total-Count"] == before
    assert doc_rows(snow_app, meta["sys_id"]) == []


def test_head_of_a_file_is_its_headers_without_the_bytes(snow_admin: httpx.Client) -> None:
    meta = created(upload(snow_admin, b"0123456789", content_type="text/plain"))
    head = snow_admin.head(f"/api/now/attachment/{meta['sys_id']}/file")
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["Content-Type"] == "text/plain"
    assert head.headers["Content-Length"] == "10"


def test_a_chunked_upload_without_content_length(snow_server: str,
                                                 snow_admin: httpx.Client) -> None:
    """Over a real socket, a body sent chunked (no Content-Length) is read whole, and one that
    runs past the limit gets the Attachment API's answer."""
    _set_property(snow_admin, "com.glide.attachment.max_size", "1")
    params = {"table_name": "incident", "table_sys_id": INC_OTHER, "file_name": "c.bin"}

    def pieces(total: int) -> Any:
        for start in range(0, total, 100_000):
            yield b"z" * min(100_000, total - start)

    with httpx.Client(base_url=snow_server, auth=("admin", "admin"), timeout=30) as client:
        fits = client.post("/api/now/attachment/file", params=params, content=pieces(900_000),
                           headers={"Content-Type": "application/octet-stream"})
        meta = created(fits)
        assert client.get(f"/api/now/attachment/{meta['sys_id']}/file").content == b"z" * 900_000
        over = client.post("/api/now/attachment/file", params=params,
                           content=pieces(1024 * 1024 + 5),
                           headers={"Content-Type": "application/octet-stream"})
        assert envelope(over, 400)["detail"] == (
            "Attached files must be smaller than 1MB - please try again")
