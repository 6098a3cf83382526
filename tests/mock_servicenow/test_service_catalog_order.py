"""Service Catalog API, ordering: order_now, add_to_cart, the cart, checkout and submit; the
records an order leaves (sc_request, sc_req_item, sc_item_option, sc_item_option_mtom); the
documented errors; who may order for whom (c_ServiceCatalogAPI.md, c_CartJSScoped.md,
KB0717979; docs/platform-apis.md "Service Catalog API")."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import httpx
from flask import Flask

from mock_servicenow.app import create_app
from mock_servicenow.settings import Settings
from tests.mock_servicenow.service_catalog_helpers import (
    ABEL_TUTER,
    ADMIN,
    API,
    DESK_SET_UP,
    DEVELOPER_MAC,
    IPAD_3,
    MISSING,
    NEW_EMAIL,
    RETIRE_TEMPLATE,
    STANDARD_LAPTOP,
    employee,
    order,
    set_property,
    table,
)
from tests.mock_servicenow.table_api_helpers import envelope

INVALID_QUANTITY = {"message": "Invalid Quantity value", "detail": ""}
NOT_ORDERABLE = {"message": "Security constraints prevent ordering of Item", "detail": ""}
MANDATORY = {"message": "Mandatory Variables are required", "detail": ""}


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()["result"]


def variables_of(admin: httpx.Client, ritm: str) -> dict[str, str]:
    """A requested item's answers, read the way clients read them: sc_item_option_mtom."""
    links = table(admin, "sc_item_option_mtom", f"request_item={ritm}",
                  "sc_item_option.item_option_new.name,sc_item_option.value")
    return {row["sc_item_option.item_option_new.name"]: row["sc_item_option.value"]
            for row in links}


# -- order_now ----------------------------------------------------------------------------

def test_order_now_creates_the_request_its_item_and_its_variables(
        snow_admin: httpx.Client) -> None:
    placed = ok(order(snow_admin, STANDARD_LAPTOP, {
        "sysparm_quantity": 2,
        "variables": {"acrobat": "true", "Additional_software_requirements": "MS Office 2007"}}))
    assert set(placed) == {"sys_id", "number", "request_number", "request_id", "table"}
    assert placed["number"] == placed["request_number"] == "REQ0010001"
    assert placed["sys_id"] == placed["request_id"] and placed["table"] == "sc_request"
    (request,) = table(snow_admin, "sc_request", f"sys_id={placed['request_id']}")
    assert request["number"] == "REQ0010001"
    assert request["requested_for"] == request["opened_by"] == ADMIN
    assert request["price"] == "2200"
    (ritm,) = table(snow_admin, "sc_req_item", f"request={placed['request_id']}")
    assert ritm["number"] == "RITM0010001" and ritm["cat_item"] == STANDARD_LAPTOP
    assert (ritm["quantity"], ritm["price"], ritm["recurring_price"]) == ("2", "1100", "100")
    assert ritm["recurring_frequency"] == "yearly" and ritm["requested_for"] == ADMIN
    assert ritm["short_description"] == "Lenovo - Carbon x1"
    assert ritm["sys_class_name"] == "sc_req_item" and ritm["active"] == "true"
    # Answers sent, defaults for the rest; the container holds no answer.
    assert variables_of(snow_admin, ritm["sys_id"]) == {
        "acrobat": "true", "photoshop": "false",
        "Additional_software_requirements": "MS Office 2007"}
    # No catalog task is created (no workflow runs; docs/platform-apis.md).
    assert table(snow_admin, "sc_task", f"request_item={ritm['sys_id']}") == []
    # order_now leaves the user's own cart alone.
    assert ok(snow_admin.get(f"{API}/cart"))["subtotal_price"] == "$0.00"


def test_order_now_on_the_versioned_path_numbers_on(snow_admin: httpx.Client) -> None:
    first = ok(order(snow_admin, IPAD_3, {"sysparm_quantity": "1"}, version="v1"))
    second = ok(order(snow_admin, IPAD_3, {"sysparm_quantity": "+3"}))
    assert (first["number"], second["number"]) == ("REQ0010001", "REQ0010002")
    ritms = table(snow_admin, "sc_req_item", "cat_item=" + IPAD_3, "number,quantity")
    assert sorted((r["number"], r["quantity"]) for r in ritms) == [
        ("RITM0010001", "1"), ("RITM0010002", "3")]


#: Bodies whose quantity fails the script's test (one instance for all: each is refused).
INVALID_QUANTITY_BODIES: list[Any] = [
    {}, {"sysparm_quantity": None}, {"sysparm_quantity": "abc"}, {"sysparm_quantity": -1},
    {"sysparm_quantity": "-1"}, {"sysparm_quantity": 1.5}, {"sysparm_quantity": "1.0"},
    {"sysparm_quantity": "0"}, {"sysparm_quantity": 0}, {"sysparm_quantity": True},
    {"sysparm_quantity": {"n": 1}}, "just text", 42, [], None,
]


def test_invalid_quantities(snow_admin: httpx.Client) -> None:
    for body in INVALID_QUANTITY_BODIES:
        assert envelope(order(snow_admin, IPAD_3, body), 400) == INVALID_QUANTITY, body
        added = snow_admin.post(f"{API}/items/{IPAD_3}/add_to_cart", json=body)
        assert envelope(added, 400) == INVALID_QUANTITY, body
    assert table(snow_admin, "sc_request", "") == []
    assert table(snow_admin, "sc_cart_item", "") == []


def test_quantities_the_script_accepts(snow_admin: httpx.Client) -> None:
    for sent, ordered in (("", "1"), ("+", "1"), ("7", "7"), ("+2", "2"), (5, "5"),
                          (5.0, "5"), ([4], "4"), ("007", "7")):
        placed = ok(order(snow_admin, IPAD_3, {"sysparm_quantity": sent}))
        (ritm,) = table(snow_admin, "sc_req_item", f"request={placed['request_id']}",
                        "quantity")
        assert ritm["quantity"] == ordered, sent


def test_a_quantity_beyond_the_cart_is_invalid_request(snow_admin: httpx.Client) -> None:
    error = envelope(order(snow_admin, IPAD_3, {"sysparm_quantity": "99999999999"}), 404)
    assert error == {"message": "Invalid Request", "detail": ""}


def test_an_unknown_item_cannot_be_ordered(snow_admin: httpx.Client) -> None:
    for item in (MISSING, "bogus", "060f3afa3731300054b6a3549dbe5d3e^OR"):
        assert envelope(order(snow_admin, item, {"sysparm_quantity": "1"}),
                        400) == NOT_ORDERABLE, item


def test_an_inactive_item_cannot_be_ordered(snow_admin: httpx.Client) -> None:
    assert snow_admin.patch(f"/api/now/table/sc_cat_item/{IPAD_3}",
                            json={"active": "false"}).status_code == 200
    assert envelope(order(snow_admin, IPAD_3, {"sysparm_quantity": 1}), 400) == NOT_ORDERABLE
    assert envelope(snow_admin.post(f"{API}/items/{IPAD_3}/add_to_cart",
                                    json={"sysparm_quantity": 1}), 400) == NOT_ORDERABLE


def test_the_quantity_is_checked_before_the_item(snow_admin: httpx.Client) -> None:
    """The script's order: quantity, then canView, then mandatory variables."""
    assert envelope(order(snow_admin, MISSING, {}), 400) == INVALID_QUANTITY
    assert envelope(order(snow_admin, MISSING, {"sysparm_quantity": 1}), 400) == NOT_ORDERABLE


def test_record_producers_do_not_go_through_the_cart(snow_admin: httpx.Client) -> None:
    error = envelope(order(snow_admin, RETIRE_TEMPLATE, {"sysparm_quantity": "1"}), 404)
    assert error == {"message": "Invalid Request", "detail": ""}


def test_mandatory_variables_are_required(snow_admin: httpx.Client) -> None:
    for variables in ({}, {"new_email": ""}, {"new_email": None}, {"new_email": 0},
                      {"new_email": False}, {"Preferred Email address": "joe@example.com"},
                      "new_email=joe@example.com"):
        body = {"sysparm_quantity": "1", "variables": variables}
        assert envelope(order(snow_admin, NEW_EMAIL, body), 400) == MANDATORY, variables
        added = snow_admin.post(f"{API}/items/{NEW_EMAIL}/add_to_cart", json=body)
        assert envelope(added, 400) == MANDATORY, variables


def test_any_truthy_answer_fills_a_mandatory_variable(snow_admin: httpx.Client) -> None:
    for answer in ("joe@example.com", "false", "0", 7, True, ["x"]):
        ok(order(snow_admin, NEW_EMAIL, {"sysparm_quantity": "1",
                                         "variables": {"new_email": answer}}))
    assert len(table(snow_admin, "sc_req_item", f"cat_item={NEW_EMAIL}")) == 6


def test_a_mandatory_check_box_needs_the_string_true(snow_admin: httpx.Client) -> None:
    found = table(snow_admin, "item_option_new", f"cat_item={DESK_SET_UP}", "sys_id")
    answer = snow_admin.post("/api/now/table/item_option_new", json={
        "cat_item": DESK_SET_UP, "name": "agree", "question_text": "I agree", "type": "7",
        "mandatory": "true", "order": "900"})
    assert answer.status_code == 201 and len(found) == 1
    for bad in (True, "yes", "TRUE", 1):
        body = {"sysparm_quantity": 1, "variables": {"agree": bad}}
        assert envelope(order(snow_admin, DESK_SET_UP, body), 400) == MANDATORY
    placed = ok(order(snow_admin, DESK_SET_UP, {"sysparm_quantity": 1,
                                                "variables": {"agree": "true"}}))
    (ritm,) = table(snow_admin, "sc_req_item", f"request={placed['request_id']}", "sys_id")
    assert variables_of(snow_admin, ritm["sys_id"]) == {"agree": "true", "ergonomic_office": ""}


def test_no_validation_skips_the_mandatory_check(snow_admin: httpx.Client) -> None:
    placed = ok(order(snow_admin, NEW_EMAIL, {"sysparm_quantity": "1",
                                              "sysparm_no_validation": "true"}))
    (ritm,) = table(snow_admin, "sc_req_item", f"request={placed['request_id']}", "sys_id")
    assert variables_of(snow_admin, ritm["sys_id"]) == {"new_email": ""}
    # Only the string "true" switches validation off (the script compares with 'true').
    body = {"sysparm_quantity": "1", "sysparm_no_validation": True}
    assert envelope(order(snow_admin, NEW_EMAIL, body), 400) == MANDATORY


def test_answers_are_stored_as_text(snow_admin: httpx.Client) -> None:
    placed = ok(order(snow_admin, DESK_SET_UP, {"sysparm_quantity": 1, "variables": {
        "ergonomic_office": {"chair": "lumbar"}, "unknown_variable": "ignored"}}))
    (ritm,) = table(snow_admin, "sc_req_item", f"request={placed['request_id']}", "sys_id")
    assert variables_of(snow_admin, ritm["sys_id"]) == {"ergonomic_office": '{"chair":"lumbar"}'}


def test_a_broken_or_foreign_body_is_refused(snow_admin: httpx.Client) -> None:
    for path in (f"{API}/items/{IPAD_3}/order_now", f"{API}/items/{IPAD_3}/add_to_cart",
                 f"{API}/cart/submit_order", f"{API}/cart/checkout"):
        broken = snow_admin.post(path, content=b'{"sysparm_quantity": 1',
                                 headers={"Content-Type": "application/json"})
        assert envelope(broken, 400) == {"message": "Exception while reading request",
                                         "detail": "The payload is not valid JSON."}
        xml = snow_admin.post(path, content=b"<request/>",
                              headers={"Content-Type": "application/xml"})
        assert envelope(xml, 415)["message"].startswith("Invalid content-type")
    # An array stands for its first element.
    ok(snow_admin.post(f"{API}/items/{IPAD_3}/order_now", json=[{"sysparm_quantity": "1"}]))


def test_also_request_for_is_refused(snow_admin: httpx.Client) -> None:
    error = envelope(order(snow_admin, IPAD_3, {"sysparm_quantity": "1",
                                                "sysparm_also_request_for": ABEL_TUTER}), 400)
    assert error["message"] == ("This item cannot be submitted for multiple people as it is "
                                "not configured with Requested For")
    ok(order(snow_admin, IPAD_3, {"sysparm_quantity": "1", "sysparm_also_request_for": ""}))


# -- requested for ------------------------------------------------------------------------

def _ordered_for(client: httpx.Client, admin: httpx.Client, whom: str) -> tuple[str, str]:
    placed = ok(order(client, IPAD_3, {"sysparm_quantity": "1", "sysparm_requested_for": whom}))
    (request,) = table(admin, "sc_request", f"sys_id={placed['request_id']}",
                       "requested_for,opened_by")
    (ritm,) = table(admin, "sc_req_item", f"request={placed['request_id']}", "requested_for")
    assert ritm["requested_for"] == request["requested_for"]
    return request["requested_for"], request["opened_by"]


def test_admin_orders_for_someone_else(snow_admin: httpx.Client) -> None:
    assert _ordered_for(snow_admin, snow_admin, ABEL_TUTER) == (ABEL_TUTER, ADMIN)
    # An unknown user is not someone to order for: the order is the caller's.
    assert _ordered_for(snow_admin, snow_admin, MISSING) == (ADMIN, ADMIN)


def test_who_may_order_for_others_follows_the_properties(snow_app: Flask,
                                                         snow_admin: httpx.Client) -> None:
    with employee(snow_app, snow_admin, "joe.employee") as joe:
        joe_id = "681ccaf9c0a8016400b98a06818d57c7"
        # A new instance denies it (glide.sc.req_for.roles.default = deny): Joe's own order.
        assert _ordered_for(joe, snow_admin, ABEL_TUTER) == (joe_id, joe_id)
        set_property(snow_admin, "glide.sc.req_for.roles.default", "allow")
        assert _ordered_for(joe, snow_admin, ABEL_TUTER) == (ABEL_TUTER, joe_id)
        set_property(snow_admin, "glide.sc.req_for.roles", "itil")
        assert _ordered_for(joe, snow_admin, ABEL_TUTER) == (joe_id, joe_id)
    with employee(snow_app, snow_admin, "beth.anglin") as beth:
        assert _ordered_for(beth, snow_admin, ABEL_TUTER)[0] == ABEL_TUTER


# -- the cart -----------------------------------------------------------------------------

def test_add_to_cart_get_cart_and_submit_order(snow_app: Flask,
                                               snow_admin: httpx.Client) -> None:
    with employee(snow_app, snow_admin) as abel:
        first = ok(abel.post(f"{API}/items/{DEVELOPER_MAC}/add_to_cart", json={
            "sysparm_quantity": "2", "variables": {"Eclipse_IDE": "true"}}))
        assert first["subtotal"] == "$2,998.00" and len(first["items"]) == 1
        line = first["items"][0]
        assert line == {"catalog_item_id": DEVELOPER_MAC, "quantity": "2",
                        "localized_price": "$1,499.00", "price": "$1,499.00",
                        "recurring_frequency": "Annually",
                        "localized_recurring_price": "$100.00", "recurring_price": "$100.00",
                        "item_name": "Developer Laptop (Mac)",
                        "cart_item_id": line["cart_item_id"]}
        second = ok(abel.post(f"{API}/items/{IPAD_3}/add_to_cart",
                              json={"sysparm_quantity": 1}))
        assert second["cart_id"] == first["cart_id"] and second["subtotal"] == "$3,598.00"
        cart = ok(abel.get(f"{API}/cart"))
        assert cart["cart_id"] == first["cart_id"]
        assert (cart["subtotal_price"], cart["subtotal_recurring_price"]) == (
            "$3,598.00", "$200.00")
        assert (cart["total_title"], cart["subtotal_title"], cart["show_subtotal_price"]) == (
            "Total", "Subtotal", "true")
        yearly, none = cart["yearly"], cart["none"]
        assert (yearly["subtotal_price"], yearly["subtotal_recurring_frequency"]) == (
            "$2,998.00", "Annually")
        assert none["frequency_label"] is None and none["subtotal_price"] == "$600.00"
        mac = yearly["items"][0]
        assert mac["variables"] == {"Optional Software": "", "Adobe Acrobat": "false",
                                    "Eclipse IDE": "true", "Adobe Photoshop": "false",
                                    "Additional software requirements": ""}
        assert (mac["subtotal"], mac["recurring_subtotal"], mac["delivery_time"]) == (
            2998, 200, "5 Days")
        assert mac["created_by"] == "abel.tuter" and mac["show_recurring_price"] is True
        ipad = none["items"][0]
        assert (ipad["delivery_time"], ipad["recurring_frequency"]) == ("2 Days", None)
        placed = ok(abel.post(f"{API}/cart/submit_order", json={
            "special_instructions": "Before 8 AM", "delivery_address": "San Diego"}))
        assert set(placed) == {"request_number", "request_id"}
        assert ok(abel.get(f"{API}/cart"))["subtotal_price"] == "$0.00"
        assert envelope(abel.post(f"{API}/cart/submit_order"), 400) == {
            "message": "Cannot check out with an empty cart!", "detail": ""}
    (request,) = table(snow_admin, "sc_request", f"sys_id={placed['request_id']}")
    assert request["number"] == placed["request_number"] and request["price"] == "3598"
    assert (request["special_instructions"], request["delivery_address"]) == (
        "Before 8 AM", "San Diego")
    assert request["opened_by"] == request["requested_for"] == ABEL_TUTER
    assert request["sys_created_by"] == "abel.tuter"
    ritms = {r["cat_item"]: r for r in
             table(snow_admin, "sc_req_item", f"request={placed['request_id']}")}
    assert {item: r["quantity"] for item, r in ritms.items()} == {DEVELOPER_MAC: "2",
                                                                  IPAD_3: "1"}
    assert sorted(r["number"] for r in ritms.values()) == ["RITM0010001", "RITM0010002"]
    assert variables_of(snow_admin, ritms[DEVELOPER_MAC]["sys_id"])["Eclipse_IDE"] == "true"
    assert variables_of(snow_admin, ritms[IPAD_3]["sys_id"]) == {}
    assert ritms[IPAD_3]["sc_catalog"] == "e0d08b13c3330100c8b837659bba8fb4"
    # The cart items are gone; the answers stay, owned by the requested items.
    assert table(snow_admin, "sc_cart_item", f"cart={first['cart_id']}") == []


def test_update_and_delete_cart_items(snow_app: Flask, snow_admin: httpx.Client) -> None:
    with employee(snow_app, snow_admin) as abel:
        added = ok(abel.post(f"{API}/items/{NEW_EMAIL}/add_to_cart", json={
            "sysparm_quantity": "1", "variables": {"new_email": "abel@example.com"}}))
        line = added["items"][0]["cart_item_id"]
        updated = abel.put(f"{API}/cart/{line}", json={
            "sysparm_quantity": "3", "variables": {"new_email": "tuter@example.com"}})
        assert updated.status_code == 201, updated.text
        item = updated.json()["result"]["none"]["items"][0]
        assert item["quantity"] == "3"
        assert item["variables"] == {"Preferred Email address": "tuter@example.com"}
        assert envelope(abel.put(f"{API}/cart/{line}", json={"sysparm_quantity": "x"}),
                        400) == INVALID_QUANTITY
        assert envelope(abel.put(f"{API}/cart/{line}", json={"sysparm_quantity": "1"}),
                        400) == MANDATORY
        assert envelope(abel.put(f"{API}/cart/{MISSING}", json={"sysparm_quantity": "1"}),
                        400) == NOT_ORDERABLE
        # Someone else's cart item is not the user's to change or delete.
        with employee(snow_app, snow_admin, "joe.employee") as joe:
            assert envelope(joe.put(f"{API}/cart/{line}", json={"sysparm_quantity": "1"}),
                            400) == NOT_ORDERABLE
            assert envelope(joe.delete(f"{API}/cart/{line}"), 400)["message"] == (
                "Cart item not found or not accessible")
        deleted = abel.delete(f"{API}/cart/{line}")
        assert deleted.status_code == 204 and deleted.content == b""
        assert envelope(abel.delete(f"{API}/cart/{line}"), 400)["message"] == (
            "Cart item not found or not accessible")
        assert ok(abel.get(f"{API}/cart"))["subtotal_price"] == "$0.00"
    assert table(snow_admin, "sc_item_option", f"cart_item={line}") == []


def test_emptying_a_cart(snow_app: Flask, snow_admin: httpx.Client) -> None:
    with employee(snow_app, snow_admin) as abel, \
            employee(snow_app, snow_admin, "joe.employee") as joe:
        cart_id = ok(abel.post(f"{API}/items/{IPAD_3}/add_to_cart",
                               json={"sysparm_quantity": "1"}))["cart_id"]
        assert envelope(joe.delete(f"{API}/cart/{cart_id}/empty"), 400)["message"] == (
            "Cart not found or not accessible")
        assert abel.delete(f"{API}/cart/{cart_id}/empty").status_code == 204
        assert table(snow_admin, "sc_cart", f"sys_id={cart_id}") == []
        assert envelope(abel.delete(f"{API}/cart/{cart_id}/empty"), 400)["message"] == (
            "Cart not found or not accessible")
        # A new cart comes with the next item; admin empties anyone's.
        again = ok(abel.post(f"{API}/items/{IPAD_3}/add_to_cart",
                             json={"sysparm_quantity": "1"}))["cart_id"]
        assert again != cart_id
        assert snow_admin.delete(f"{API}/cart/{again}/empty").status_code == 204
        assert table(snow_admin, "sc_cart_item", f"cart={again}") == []


def test_checkout_one_step_and_two_step(snow_app: Flask, snow_admin: httpx.Client) -> None:
    assert envelope(snow_admin.post(f"{API}/cart/checkout"), 400)["message"] == (
        "Cannot check out with an empty cart!")
    ok(snow_admin.post(f"{API}/items/{IPAD_3}/add_to_cart", json={"sysparm_quantity": 2}))
    placed = ok(snow_admin.post(f"{API}/cart/checkout"))
    assert set(placed) == {"request_number", "request_id"}
    set_property(snow_admin, "glide.sc.checkout.twostep", "true")
    with employee(snow_app, snow_admin) as abel:
        # order_now only fills the item's own cart and answers it.
        pending = ok(order(abel, IPAD_3, {"sysparm_quantity": "1"}))
        assert set(pending) == {"cart_id"}
        assert table(snow_admin, "sc_request", "opened_by=" + ABEL_TUTER) == []
        ok(abel.post(f"{API}/items/{STANDARD_LAPTOP}/add_to_cart", json={"sysparm_quantity": 1}))
        summary = ok(abel.post(f"{API}/cart/checkout"))
        assert summary["requested_for"] == ABEL_TUTER
        assert summary["requested_for_user"] == "Abel Tuter"
        assert (summary["delivery_address"], summary["special_instructions"]) == ("", "")
        assert summary["yearly"]["items"][0]["item_id"] == STANDARD_LAPTOP
        assert table(snow_admin, "sc_request", "opened_by=" + ABEL_TUTER) == []
        placed = ok(abel.post(f"{API}/cart/submit_order"))
        (request,) = table(snow_admin, "sc_request", "opened_by=" + ABEL_TUTER)
        assert request["number"] == placed["request_number"]


def test_variable_pricing_adds_the_chosen_choices_price(snow_admin: httpx.Client) -> None:
    created = snow_admin.post("/api/now/table/item_option_new", json={
        "cat_item": IPAD_3, "name": "storage", "question_text": "Storage", "type": "5"})
    question = created.json()["result"]["sys_id"]
    for text, value, price in (("16GB", "16", "0"), ("64GB", "64", "150.50")):
        answer = snow_admin.post("/api/now/table/question_choice", json={
            "question": question, "text": text, "value": value, "price": price,
            "recurring_price": "2" if value == "64" else "0"})
        assert answer.status_code == 201
    added = ok(snow_admin.post(f"{API}/items/{IPAD_3}/add_to_cart", json={
        "sysparm_quantity": "2", "variables": {"storage": "64"}}))
    (line,) = added["items"]
    assert (line["localized_price"], line["price"], added["subtotal"]) == (
        "$600.00", "$750.50", "$1,501.00")
    cart = ok(snow_admin.get(f"{API}/cart"))
    assert cart["subtotal_recurring_price"] == "$4.00"
    assert cart["none"]["items"][0]["variables"] == {"Storage": "64GB"}


def test_the_cart_and_orders_survive_a_restart(snow_settings: Settings) -> None:
    first = create_app(snow_settings)
    with httpx.Client(transport=httpx.WSGITransport(app=first),
                      base_url="https://dev00000.service-now.test",
                      auth=("admin", "admin")) as admin:
        placed = ok(order(admin, IPAD_3, {"sysparm_quantity": "1"}))
        cart_id = ok(admin.post(f"{API}/items/{NEW_EMAIL}/add_to_cart", json={
            "sysparm_quantity": "1", "variables": {"new_email": "kept@example.com"}}))["cart_id"]
    first.extensions["mock_servicenow"].instance.close()
    # A seeded id generator starts over with each app: the restarted instance draws new ids
    # from another seed, as an unseeded one would.
    second = create_app(dataclasses.replace(snow_settings, random_seed=7))
    try:
        with httpx.Client(transport=httpx.WSGITransport(app=second),
                          base_url="https://dev00000.service-now.test",
                          auth=("admin", "admin")) as admin:
            cart = ok(admin.get(f"{API}/cart"))
            assert cart["cart_id"] == cart_id
            assert cart["none"]["items"][0]["variables"] == {
                "Preferred Email address": "kept@example.com"}
            (request,) = table(admin, "sc_request", f"sys_id={placed['request_id']}")
            assert request["number"] == placed["number"]
            assert ok(order(admin, IPAD_3, {"sysparm_quantity": "1"}))["number"] == "REQ0010002"
    finally:
        second.extensions["mock_servicenow"].instance.close()
    assert Path(snow_settings.database_path).exists()


def test_catalog_tasks_are_ordinary_task_records(snow_admin: httpx.Client) -> None:
    """No workflow creates catalog tasks (docs/platform-apis.md); a client creates them
    through the Table API against the requested item, numbered SCTASK."""
    placed = ok(order(snow_admin, IPAD_3, {"sysparm_quantity": "1"}))
    (ritm,) = table(snow_admin, "sc_req_item", f"request={placed['request_id']}")
    assert (ritm["stage"], ritm["approval"]) == ("waiting_for_approval", "not requested")
    (request,) = table(snow_admin, "sc_request", f"sys_id={placed['request_id']}")
    assert request["request_state"] == "requested"
    task = snow_admin.post("/api/now/table/sc_task", json={
        "request_item": ritm["sys_id"], "request": placed["request_id"],
        "short_description": "Deliver the iPad"})
    assert task.status_code == 201, task.text
    created = task.json()["result"]
    assert created["number"] == "SCTASK0010001" and created["sys_class_name"] == "sc_task"
    assert [t["number"] for t in table(snow_admin, "sc_task",
                                       "request_item=" + ritm["sys_id"])] == ["SCTASK0010001"]
    assert [t["sys_class_name"] for t in table(snow_admin, "task",
                                               "number=SCTASK0010001")] == ["sc_task"]


def test_the_wish_list_and_other_unemulated_endpoints_are_unknown(
        snow_admin: httpx.Client) -> None:
    for method, path in (("GET", "/wishlist"), ("POST", f"/items/{IPAD_3}/submit_producer"),
                         ("GET", f"/cart/delivery_address/{ABEL_TUTER}"),
                         ("POST", f"/items/{IPAD_3}/checkout_guide")):
        error = envelope(snow_admin.request(method, f"{API}{path}"), 400)
        assert error["message"] == "Requested URI does not represent any resource"
