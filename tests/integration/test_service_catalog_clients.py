"""A catalog order end to end over a real socket (issue 14, "Done means"): plain ``requests``
browses, fills a cart and orders as a user without roles; the request, its requested items and
their variables are then read back through the Table API with ``requests`` and with ServiceNow's
own ``pysnc``; ``pysnow`` orders through the Service Catalog API too (its ``base_path``).

Served over https (pysnc refuses plain http), as in ``test_real_clients.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.integration.test_real_clients import https_server  # noqa: F401 - the fixture
from tests.mock_servicenow.service_catalog_helpers import (
    ABEL_TUTER,
    NEW_EMAIL,
    SERVICE_CATALOG,
    STANDARD_LAPTOP,
)

pysnc = pytest.importorskip("pysnc")
pysnow = pytest.importorskip("pysnow")


def _result(response: requests.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    return response.json()["result"]


def _shop(base: str, user: requests.Session) -> str:
    """Browse, fill the cart, order one item now, submit the cart; the cart's request number."""
    catalogs = _result(user.get(f"{base}/api/sn_sc/servicecatalog/catalogs"))
    assert SERVICE_CATALOG in {c["sys_id"] for c in catalogs}
    found = _result(user.get(f"{base}/api/sn_sc/servicecatalog/items",
                             params={"sysparm_text": "Standard Laptop",
                                     "sysparm_catalog": SERVICE_CATALOG}))
    assert [i["sys_id"] for i in found] == [STANDARD_LAPTOP]
    laptop = _result(user.get(f"{base}/api/sn_sc/v1/servicecatalog/items/{STANDARD_LAPTOP}"))
    names = [child["name"] for child in laptop["variables"][0]["children"]]
    assert names == ["acrobat", "photoshop"]
    added = _result(user.post(f"{base}/api/sn_sc/servicecatalog/items/{STANDARD_LAPTOP}"
                              "/add_to_cart",
                              json={"sysparm_quantity": "2", "variables": {"acrobat": "true"}}))
    assert added["subtotal"] == "$2,200.00"
    refused = user.post(f"{base}/api/sn_sc/servicecatalog/items/{NEW_EMAIL}/order_now",
                        json={"sysparm_quantity": "1"})
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == "Mandatory Variables are required"
    now = _result(user.post(f"{base}/api/sn_sc/servicecatalog/items/{NEW_EMAIL}/order_now",
                            json={"sysparm_quantity": "1",
                                  "variables": {"new_email": "abel.tuter@example.com"}}))
    assert now["table"] == "sc_request" and now["number"].startswith("REQ")
    cart = _result(user.get(f"{base}/api/sn_sc/servicecatalog/cart"))
    assert cart["yearly"]["items"][0]["variables"]["Adobe Acrobat"] == "true"
    placed = _result(user.post(f"{base}/api/sn_sc/servicecatalog/cart/submit_order"))
    assert placed["request_number"] != now["number"]
    return str(placed["request_number"])


def test_a_catalog_order_with_requests_read_back_with_the_table_api_and_pysnc(
        https_server: tuple[str, str]) -> None:  # noqa: F811
    base, bundle = https_server
    with requests.Session() as admin, requests.Session() as user:
        admin.auth, admin.verify = ("admin", "admin"), bundle
        answer = admin.patch(f"{base}/api/now/table/sys_user/{ABEL_TUTER}",
                             json={"user_password": "Shop-4-Laptops"})
        assert answer.status_code == 200, answer.text
        user.auth, user.verify = ("abel.tuter", "Shop-4-Laptops"), bundle
        number = _shop(base, user)
        # The Table API shows the request and what was ordered, with the answers.
        (request,) = _result(admin.get(f"{base}/api/now/table/sc_request", params={
            "sysparm_query": f"number={number}", "sysparm_display_value": "true"}))
        assert request["requested_for"]["display_value"] == "Abel Tuter"
        assert request["price"] == "2200"
        ritms = _result(admin.get(f"{base}/api/now/table/sc_req_item", params={
            "sysparm_query": f"request.number={number}",
            "sysparm_fields": "sys_id,number,cat_item,quantity",
            "sysparm_exclude_reference_link": "true"}))
        assert [(r["cat_item"], r["quantity"]) for r in ritms] == [(STANDARD_LAPTOP, "2")]
        answers = _result(admin.get(f"{base}/api/now/table/sc_item_option_mtom", params={
            "sysparm_query": f"request_item={ritms[0]['sys_id']}",
            "sysparm_fields": "sc_item_option.item_option_new.name,sc_item_option.value"}))
        assert {a["sc_item_option.item_option_new.name"]: a["sc_item_option.value"]
                for a in answers} == {"acrobat": "true", "photoshop": "false",
                                      "Additional_software_requirements": ""}
    client = pysnc.ServiceNowClient(base, ("admin", "admin"), verify=bundle)
    try:
        items = client.GlideRecord("sc_req_item")
        items.add_query("request.number", number)
        items.query()
        assert items.get_row_count() == 1 and items.next()
        assert items.get_display_value("cat_item") == "Standard Laptop"
        assert items.get_value("number") == ritms[0]["number"]
        assert items.get_display_value("requested_for") == "Abel Tuter"
        links = client.GlideRecord("sc_item_option_mtom")
        links.add_query("request_item", items.get_value("sys_id"))
        links.query()
        options = [link.get_value("sc_item_option") for link in links]
        assert len(options) == 3
        option = client.GlideRecord("sc_item_option")
        option.add_query("sys_id", "IN", ",".join(options))
        option.add_query("value", "true")
        option.query()
        assert option.get_row_count() == 1 and option.next()
        assert option.get_display_value("item_option_new") == "acrobat"
        request_record = client.GlideRecord("sc_request")
        assert request_record.get("number", number)
        assert request_record.get_value("opened_by") == ABEL_TUTER
    finally:
        client.session.close()


def test_pysnow_orders_through_the_service_catalog_api(https_server: tuple[str, str]) -> None:  # noqa: F811
    base, bundle = https_server
    session = requests.Session()
    session.auth = ("admin", "admin")
    session.verify = bundle
    with session:
        client = pysnow.Client(host=base.removeprefix("https://"), session=session)
        items = client.resource(api_path="/servicecatalog/items", base_path="/api/sn_sc")
        names = {item["name"] for item in items.get(query={}).all()}
        assert {"Standard Laptop", "New Email Account"} <= names
        placed = items.request("POST", path_append=f"/{STANDARD_LAPTOP}/order_now",
                               json={"sysparm_quantity": "1"}).one()
        assert placed["table"] == "sc_request"
        requests_table = client.resource(api_path="/table/sc_request")
        record = requests_table.get(query={"number": placed["number"]}).one()
        assert record["sys_id"] == placed["request_id"]
        with pytest.raises(requests.HTTPError):
            items.request("POST", path_append=f"/{NEW_EMAIL}/order_now",
                          json={"sysparm_quantity": "1"}).one()
