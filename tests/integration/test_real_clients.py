"""Real, unmodified ServiceNow clients against the emulator over https (issue 13): ServiceNow's
own ``pysnc`` (GlideRecord over the Table API) and the classic ``pysnow``, on a CMDB class, a
catalog table and a custom ``u_`` field created through the API.

pysnc refuses plain http (``Must provide https:// url``), so the instance is served with TLS
and the clients verify it with the local CA bundle, as the README tells users to.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask

from mock_servicenow.server import listen
from mock_servicenow.tls import ensure_tls

pysnc = pytest.importorskip("pysnc")
pysnow = pytest.importorskip("pysnow")


@pytest.fixture
def https_server(snow_app: Flask, tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    """``snow_app`` over https on a free port: (base URL, CA bundle path). requests lets
    ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` override a session's ``verify`` (pysnc merges
    the environment's settings into each request), so they are unset, as the README says."""
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    tls = ensure_tls(tmp_path / "tls", "127.0.0.1")
    listening = listen(snow_app, "127.0.0.1", 0, tls=tls)
    listening.start_in_thread()
    try:
        yield listening.base_url, str(tls.ca_bundle)
    finally:
        listening.shutdown()


def _add_custom_field(base: str, bundle: str) -> None:
    response = requests.post(f"{base}/api/now/table/sys_dictionary", auth=("admin", "admin"),
                             verify=bundle, timeout=30, json={
                                 "name": "cmdb_ci_linux_server", "element": "u_rack",
                                 "internal_type": "string", "column_label": "Rack"})
    assert response.status_code == 201, response.text


def test_pysnc_on_a_cmdb_class_a_catalog_table_and_a_custom_field(
        https_server: tuple[str, str]) -> None:
    base, bundle = https_server
    _add_custom_field(base, bundle)
    client = pysnc.ServiceNowClient(base, ("admin", "admin"), verify=bundle)
    try:
        _pysnc_journey(client)
    finally:
        client.session.close()


def _pysnc_journey(client: pysnc.ServiceNowClient) -> None:
    server = client.GlideRecord("cmdb_ci_linux_server")
    server.initialize()
    server.name = "pysnc-lnx-01"
    server.os = "Linux Red Hat"
    server.u_rack = "R12"
    sys_id = server.insert()
    assert sys_id
    found = client.GlideRecord("cmdb_ci_linux_server")
    found.add_query("u_rack", "R12")
    found.query()
    assert found.get_row_count() == 1
    assert found.next()
    assert found.name == "pysnc-lnx-01" and found.get_value("u_rack") == "R12"
    # The parent class lists it with its class.
    parent = client.GlideRecord("cmdb_ci")
    assert parent.get(sys_id)
    assert parent.get_value("sys_class_name") == "cmdb_ci_linux_server"
    # A catalog table with its demo records, read with display values.
    items = client.GlideRecord("sc_cat_item")
    items.add_query("name", "Apple iPad 3")
    items.query()
    assert items.next()
    assert items.get_display_value("sc_catalogs") != ""
    found.u_rack = "R13"
    assert found.update()
    again = client.GlideRecord("cmdb_ci_linux_server")
    assert again.get(sys_id) and again.get_value("u_rack") == "R13"
    assert again.delete()


def test_pysnow_on_a_cmdb_class_a_catalog_table_and_a_custom_field(
        https_server: tuple[str, str]) -> None:
    base, bundle = https_server
    _add_custom_field(base, bundle)
    session = requests.Session()
    session.auth = ("admin", "admin")
    session.verify = bundle
    with session:
        _pysnow_journey(pysnow.Client(host=base.removeprefix("https://"), session=session))


def _pysnow_journey(client: pysnow.Client) -> None:
    servers = client.resource(api_path="/table/cmdb_ci_linux_server")
    created = servers.create(payload={"name": "pysnow-lnx-01", "u_rack": "R7"}).one()
    assert created["u_rack"] == "R7" and created["sys_class_name"] == "cmdb_ci_linux_server"
    query = pysnow.QueryBuilder().field("u_rack").equals("R7")
    assert servers.get(query=query).one()["name"] == "pysnow-lnx-01"
    updated = servers.update(query={"sys_id": created["sys_id"]}, payload={"u_rack": "R8"})
    assert updated.one()["u_rack"] == "R8"
    catalog = client.resource(api_path="/table/sc_catalog")
    titles = {record["title"] for record in catalog.get(query={}).all()}
    assert {"Service Catalog", "Technical Catalog"} <= titles
    servers.delete(query={"sys_id": created["sys_id"]})
    assert list(servers.get(query={"sys_id": created["sys_id"]}).all()) == []
