"""A ticket with attachments end to end through real, unmodified clients (issue 14): ServiceNow's
``pysnc`` (``GlideRecord.add_attachment``, ``get_attachments``, ``Attachment.read`` /
``write_to`` / ``delete``) and ``pysnow`` (``Resource.attachments``: ``upload``, ``get``,
``delete``), over https with the local CA bundle (pysnc refuses plain http)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
import requests

from tests.integration.test_real_clients import https_server

__all__ = ["https_server"]  # the fixture, shared with the Table API clients' tests

pysnc = pytest.importorskip("pysnc")
pysnow = pytest.importorskip("pysnow")

TEXT = "Ticket notes: naïve café — 日本語\n".encode() * 200
BINARY = os.urandom(2 * 1024 * 1024 + 333)


def test_pysnc_attaches_lists_reads_and_deletes(https_server: tuple[str, str],
                                                tmp_path: Path) -> None:
    base, bundle = https_server
    client = pysnc.ServiceNowClient(base, ("admin", "admin"), verify=bundle)
    try:
        ticket = client.GlideRecord("incident")
        ticket.initialize()
        ticket.short_description = "pysnc ticket with attachments"
        sys_id = ticket.insert()
        assert sys_id
        location = ticket.add_attachment("notes.txt", TEXT, "text/plain")
        assert location.startswith(f"{base}/api/now/attachment/") and location.endswith("/file")
        ticket.add_attachment("dump.bin", BINARY, "application/octet-stream")

        attachments = ticket.get_attachments()
        assert len(attachments) == 2
        seen = {}
        for attachment in attachments:
            seen[attachment.file_name] = attachment.read()
            assert attachment.hash == hashlib.sha256(seen[attachment.file_name]).hexdigest()
        assert seen == {"notes.txt": TEXT, "dump.bin": BINARY}

        again = client.Attachment("incident")
        assert again.get(location.rsplit("/", 2)[-2])
        written = again.write_to(tmp_path)
        assert written.name == "notes.txt" and written.read_bytes() == TEXT
        assert again.readlines()[0] == TEXT.decode().split("\n")[0]
        again.delete()
        remaining = ticket.get_attachments()
        assert [a.file_name for a in remaining] == ["dump.bin"]
        # Deleting the ticket deletes its attachments.
        assert ticket.delete()
        gone = client.Attachment("incident")
        gone.add_query("table_sys_id", sys_id)
        gone.query()
        assert len(gone) == 0
    finally:
        client.session.close()


# pysnow 0.7.17's Attachment.upload reads the file with open(path).read() and never closes it:
# its ResourceWarning is the client's, not the emulator's.
@pytest.mark.filterwarnings("ignore::ResourceWarning",
                            "ignore::pytest.PytestUnraisableExceptionWarning")
def test_pysnow_uploads_lists_and_deletes(https_server: tuple[str, str],
                                          tmp_path: Path) -> None:
    base, bundle = https_server
    session = requests.Session()
    session.auth = ("admin", "admin")
    session.verify = bundle
    with session:
        client = pysnow.Client(host=base.removeprefix("https://"), session=session)
        incidents = client.resource(api_path="/table/incident")
        ticket = incidents.create(payload={"short_description": "pysnow ticket"}).one()
        text_file = tmp_path / "report.txt"
        text_file.write_bytes(TEXT)
        binary_file = tmp_path / "capture.bin"
        binary_file.write_bytes(BINARY)

        uploaded = incidents.attachments.upload(ticket["sys_id"], str(text_file)).one()
        assert uploaded["file_name"] == "report.txt" and uploaded["size_bytes"] == str(len(TEXT))
        assert uploaded["content_type"].startswith("text/plain")
        renamed = incidents.attachments.upload(ticket["sys_id"], str(binary_file),
                                               name="renamed.bin").one()

        listed = list(incidents.attachments.get(ticket["sys_id"]))
        assert {a["file_name"] for a in listed} == {"report.txt", "renamed.bin"}
        for attachment in listed:
            content = session.get(attachment["download_link"], timeout=30).content
            assert content == (TEXT if attachment["file_name"] == "report.txt" else BINARY)

        incidents.attachments.delete(renamed["sys_id"])
        assert [a["file_name"] for a in incidents.attachments.get(ticket["sys_id"])] == [
            "report.txt"]
        incidents.delete(query={"sys_id": ticket["sys_id"]})
        assert list(incidents.attachments.get(ticket["sys_id"])) == []
