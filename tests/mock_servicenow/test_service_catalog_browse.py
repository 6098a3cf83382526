"""Service Catalog API, browsing: catalogs, categories, items, an item with its variables
(c_ServiceCatalogAPI.md; docs/platform-apis.md "Service Catalog API")."""

from __future__ import annotations

from typing import Any

import httpx
from flask import Flask

from tests.mock_servicenow.service_catalog_helpers import (
    API,
    DESK_SET_UP,
    DEVELOPER_MAC,
    HARDWARE,
    IPAD_3,
    MISSING,
    NEW_EMAIL,
    OFFICE,
    OFFICE_SERVICES,
    RETIRE_TEMPLATE,
    SERVICE_CATALOG,
    STANDARD_LAPTOP,
    TABLETS,
    TECHNICAL_CATALOG,
    employee,
)
from tests.mock_servicenow.table_api_helpers import envelope


def result(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json;charset=UTF-8"
    return response.json()["result"]


def test_catalogs_are_listed_by_sys_id_with_their_flags(snow_admin: httpx.Client) -> None:
    catalogs = result(snow_admin.get(f"{API}/catalogs"))
    assert [c["sys_id"] for c in catalogs] == [TECHNICAL_CATALOG, SERVICE_CATALOG]
    technical = catalogs[0]
    assert technical == {"title": "Technical Catalog", "sys_id": TECHNICAL_CATALOG,
                         "has_categories": True, "has_items": True,
                         "description": "Products and services for the IT department",
                         "desktop_image": ""}


def test_catalogs_text_limit_and_offset(snow_admin: httpx.Client) -> None:
    found = result(snow_admin.get(f"{API}/catalogs", params={"sysparm_text": "technical"}))
    assert [c["title"] for c in found] == ["Technical Catalog"]
    assert result(snow_admin.get(f"{API}/catalogs", params={"sysparm_text": "nothing"})) == []
    page = result(snow_admin.get(f"{API}/catalogs",
                                 params={"sysparm_limit": "1", "sysparm_offset": "1"}))
    assert [c["title"] for c in page] == ["Service Catalog"]
    # Bad numbers are ignored (servicenow-behaviour §1.2).
    assert len(result(snow_admin.get(f"{API}/catalogs",
                                     params={"sysparm_limit": "x", "sysparm_offset": "-4"}))) == 2


def test_one_catalog_with_its_top_level_categories(snow_admin: httpx.Client) -> None:
    catalog = result(snow_admin.get(f"{API}/catalogs/{SERVICE_CATALOG}"))
    assert catalog["title"] == "Service Catalog" and catalog["has_items"] is True
    titles = [c["title"] for c in catalog["categories"]]
    assert "Hardware" in titles and "Office" in titles
    assert "Tablets" not in titles  # a subcategory
    office = next(c for c in catalog["categories"] if c["title"] == "Office")
    assert set(office) == {"header_image", "sys_id", "description", "title"}


def test_an_unknown_catalog_is_the_documented_400(snow_admin: httpx.Client) -> None:
    for sys_id in (MISSING, "not-a-sys-id", "e0d08b13c3330100c8b837659bba8fb4^OR", HARDWARE):
        for path in (f"{API}/catalogs/{sys_id}", f"{API}/catalogs/{sys_id}/categories"):
            error = envelope(snow_admin.get(path), 400)
            assert error == {"message": "Catalog not found or not accessible", "detail": ""}


def test_a_catalogs_categories_with_counts_and_subcategories(snow_admin: httpx.Client) -> None:
    categories = result(snow_admin.get(f"{API}/catalogs/{SERVICE_CATALOG}/categories"))
    by_title = {c["title"]: c for c in categories}
    hardware = by_title["Hardware"]
    assert hardware["subcategories"] == [{"sys_id": TABLETS, "title": "Tablets"}]
    assert hardware["count"] == 9  # the demo's Hardware items, iPad 3 being under Tablets
    assert by_title["Tablets"]["count"] == 1
    assert set(hardware) == {"title", "description", "full_description", "icon", "header_icon",
                             "homepage_image", "count", "subcategories", "sys_id"}
    assert hardware["full_description"] is None
    top = result(snow_admin.get(f"{API}/catalogs/{SERVICE_CATALOG}/categories",
                                params={"sysparm_top_level_only": "true"}))
    assert "Tablets" not in {c["title"] for c in top} and "Hardware" in {c["title"] for c in top}
    two = result(snow_admin.get(f"{API}/catalogs/{SERVICE_CATALOG}/categories",
                                params={"sysparm_limit": "2", "sysparm_offset": "1"}))
    assert [c["title"] for c in two] == [c["title"] for c in categories[1:3]]


def test_a_category_with_its_children(snow_admin: httpx.Client) -> None:
    office = result(snow_admin.get(f"{API}/categories/{OFFICE}"))
    assert office["title"] == "Office"
    assert office["homepage_image"] == "498b0271475211002ee987e8dee490ea.iix"
    assert office["child_categories"] == [{
        "sys_id": OFFICE_SERVICES, "title": "Services", "count": 1, "parent": OFFICE,
        "subcategories": [], "isParentCategory": False}]
    hardware = result(snow_admin.get(f"/api/sn_sc/v1/servicecatalog/categories/{HARDWARE}"))
    assert hardware["child_categories"][0]["title"] == "Tablets"
    error = envelope(snow_admin.get(f"{API}/categories/{SERVICE_CATALOG}"), 400)
    assert error["message"] == "Category not found or not accessible"


def test_items_of_a_catalog_in_the_documented_order(snow_admin: httpx.Client) -> None:
    items = result(snow_admin.get(f"{API}/items",
                                  params={"sysparm_catalog": SERVICE_CATALOG,
                                          "sysparm_limit": "2"}))
    # The API page's example: the same two record producers, in this order.
    assert [i["sys_id"] for i in items] == [RETIRE_TEMPLATE, "01205b180a0a0b3000b6efd641d24b75"]
    first = items[0]
    assert first["type"] == "record_producer" and first["sys_class_name"] == "sc_cat_item_producer"
    assert first["short_description"] is None and first["show_price"] is False
    assert first["category"] == {"sys_id": "00728916937002002dcef157b67ffb6d",
                                 "title": "Template Management"}
    assert first["catalogs"] == [{"sys_id": SERVICE_CATALOG, "title": "Service Catalog"}]
    assert first["order"] == 30 and "price" not in first


def test_item_search_by_text_category_catalog_and_type(snow_admin: httpx.Client) -> None:
    def names(**params: str) -> list[str]:
        return [i["name"] for i in result(snow_admin.get(f"{API}/items", params=params))]

    assert sorted(names(sysparm_text="ipad")) == ["Apple iPad 3", "iPad mini", "iPad pro"]
    assert names(sysparm_text="dell xps") == ["Development Laptop (PC)"]
    assert names(sysparm_text="IPAD  Mini") == ["iPad mini"]
    assert names(sysparm_category=TABLETS) == ["Apple iPad 3"]
    assert sorted(names(sysparm_catalog=TECHNICAL_CATALOG)) == ["Request Knowledge Base"]
    assert sorted(names(sysparm_type="Record Producer")) == [
        "Grant role delegation rights within a group", "Request Knowledge Base",
        "Retire a Standard Change Template"]
    assert names(sysparm_type="Order Guide") == []
    assert len(names(sysparm_type="Something else")) == len(names())
    assert names(sysparm_category="bogus") == [] and names(sysparm_text="zzzz") == []
    everything = names()
    assert names(sysparm_limit="3", sysparm_offset="2") == everything[2:5]


def test_an_item_with_prices_categories_and_variables(snow_admin: httpx.Client) -> None:
    laptop = result(snow_admin.get(f"{API}/items/{STANDARD_LAPTOP}"))
    assert laptop["name"] == "Standard Laptop" and laptop["type"] == "catalog_item"
    assert (laptop["price"], laptop["localized_price"], laptop["price_currency"]) == (
        "$1,100.00", "$1,100.00", "USD")
    assert (laptop["recurring_price"], laptop["recurring_frequency"]) == ("$100.00", "Annually")
    assert laptop["categories"] == [{"sys_id": HARDWARE, "active": True, "title": "Hardware",
                                     "category": {"sys_id": HARDWARE, "active": True,
                                                  "title": "Hardware"}}]
    assert laptop["client_script"] == {"onChange": [], "onSubmit": [], "onLoad": []}
    assert laptop["ui_policy"] == [] and laptop["data_lookup"] == []
    container, requirements = laptop["variables"]
    # The API page's submit_guide example for this very item.
    assert container["friendly_type"] == "container_start" and container["name"] == "optional_label"
    assert container["id"] == "10b72d4b4f7b4200086eeed18110c700"
    assert [c["name"] for c in container["children"]] == ["acrobat", "photoshop"]
    acrobat = container["children"][0]
    assert acrobat == {"label": "Adobe Acrobat", "type": 7, "mandatory": False,
                       "displayvalue": "false", "friendly_type": "check_box",
                       "display_type": "CheckBox", "render_label": True, "read_only": False,
                       "pricing_implications": False, "name": "acrobat", "attributes": "",
                       "id": "90b72d4b4f7b4200086eeed18110c701", "value": False,
                       "help_text": "", "max_length": 0}
    assert requirements["name"] == "Additional_software_requirements"
    assert (requirements["type"], requirements["friendly_type"], requirements["display_type"]) \
        == (2, "multi_line_text", "Multi Line Text")


def test_an_item_category_path_and_a_mandatory_variable(snow_admin: httpx.Client) -> None:
    ipad = result(snow_admin.get(f"{API}/items/{IPAD_3}"))
    assert ipad["categories"] == [{"sys_id": HARDWARE, "active": True, "title": "Hardware",
                                   "category": {"sys_id": TABLETS, "active": True,
                                                "title": "Tablets"}}]
    assert ipad["variables"] == [] and ipad["price"] == "$600.00"
    assert ipad["recurring_frequency"] is None
    email = result(snow_admin.get(f"{API}/items/{NEW_EMAIL}"))
    assert email["show_price"] is False and "price" not in email
    (address,) = email["variables"]
    assert (address["name"], address["mandatory"], address["friendly_type"]) == (
        "new_email", True, "single_line_text")
    desk = result(snow_admin.get(f"{API}/items/{DESK_SET_UP}"))
    assert desk["category"] == {"sys_id": "", "title": None} and desk["categories"] == []


def test_choice_variables_list_their_choices(snow_admin: httpx.Client) -> None:
    items = result(snow_admin.get(f"{API}/items", params={"sysparm_text": "Dell XPS"}))
    pc = result(snow_admin.get(f"{API}/items/{items[0]['sys_id']}"))
    drive, system = pc["variables"]
    assert drive["name"] == "hard_drive" and drive["friendly_type"] == "multiple_choice"
    assert drive["choices"] == [{"label": "250", "value": "250"},
                                {"label": "500", "value": "500"}]
    assert [c["label"] for c in system["choices"]] == ["Windows 8", "Ubuntu"]


def test_variables_follow_the_records(snow_admin: httpx.Client) -> None:
    """A select box with a default and Include none, a choice made inactive, a variable with
    no name: what the item answers follows the records written through the Table API."""
    created = snow_admin.post("/api/now/table/item_option_new", json={
        "cat_item": DEVELOPER_MAC, "question_text": "Keyboard layout", "type": "5",
        "order": "600", "include_none": "true", "default_value": "fr", "mandatory": "true",
        "help_text": "Pick one"})
    assert created.status_code == 201, created.text
    question = created.json()["result"]["sys_id"]
    for text, value, inactive in (("US", "us", "false"), ("French", "fr", "false"),
                                  ("Dvorak", "dv", "true")):
        answer = snow_admin.post("/api/now/table/question_choice", json={
            "question": question, "text": text, "value": value, "inactive": inactive})
        assert answer.status_code == 201, answer.text
    mac = result(snow_admin.get(f"{API}/items/{DEVELOPER_MAC}"))
    layout = mac["variables"][-1]
    assert layout["name"] == "Keyboard_layout"  # filled in from the question
    assert layout["friendly_type"] == "select_box" and layout["display_type"] == "Select Box"
    assert layout["choices"] == [{"label": "-- None --", "value": ""},
                                 {"label": "US", "value": "us"},
                                 {"label": "French", "value": "fr"}]
    assert (layout["value"], layout["displayvalue"]) == ("fr", "French")
    assert layout["mandatory"] is True and layout["help_text"] == "Pick one"
    # Inactive variables are not shown.
    patch = snow_admin.patch(f"/api/now/table/item_option_new/{question}",
                             json={"active": "false"})
    assert patch.status_code == 200
    assert "Keyboard_layout" not in {
        v["name"] for v in result(snow_admin.get(f"{API}/items/{DEVELOPER_MAC}"))["variables"]}


def test_an_unknown_item_is_the_documented_400(snow_admin: httpx.Client) -> None:
    for sys_id in (MISSING, "bogus", SERVICE_CATALOG, "060f3afa3731300054b6a3549dbe5d3e%5EOR"):
        error = envelope(snow_admin.get(f"{API}/items/{sys_id}"), 400)
        assert error == {"message": "Item not found or not accessible", "detail": ""}


def test_inactive_items_and_catalogs_are_not_visible(snow_admin: httpx.Client) -> None:
    answer = snow_admin.patch(f"/api/now/table/sc_cat_item/{IPAD_3}", json={"active": "false"})
    assert answer.status_code == 200
    envelope(snow_admin.get(f"{API}/items/{IPAD_3}"), 400)
    assert IPAD_3 not in {i["sys_id"] for i in result(snow_admin.get(f"{API}/items"))}
    answer = snow_admin.patch(f"/api/now/table/sc_catalog/{TECHNICAL_CATALOG}",
                              json={"active": "false"})
    assert answer.status_code == 200
    assert [c["sys_id"] for c in result(snow_admin.get(f"{API}/catalogs"))] == [SERVICE_CATALOG]
    envelope(snow_admin.get(f"{API}/catalogs/{TECHNICAL_CATALOG}"), 400)
    # Request Knowledge Base is also in the Service Catalog: still visible.
    assert "Request Knowledge Base" in {i["name"] for i in result(snow_admin.get(f"{API}/items"))}


def test_any_signed_in_user_browses_and_anonymous_callers_get_401(
        snow_app: Flask, snow_admin: httpx.Client, snow_client: httpx.Client) -> None:
    with employee(snow_app, snow_admin) as user:
        assert len(result(user.get(f"{API}/catalogs"))) == 2
        laptop = result(user.get(f"{API}/items/{STANDARD_LAPTOP}"))
        assert len(laptop["variables"]) == 2
    answer = snow_client.get(f"{API}/catalogs")
    assert envelope(answer, 401)["message"] == "User Not Authenticated"
    assert answer.headers["WWW-Authenticate"] == 'BASIC realm="Service-now"'


def test_the_versioned_paths_answer_the_same(snow_admin: httpx.Client) -> None:
    for path in ("/catalogs", f"/items/{STANDARD_LAPTOP}", f"/categories/{HARDWARE}",
                 f"/catalogs/{SERVICE_CATALOG}/categories"):
        unversioned = snow_admin.get(f"{API}{path}").json()
        versioned = snow_admin.get(f"/api/sn_sc/v1/servicecatalog{path}").json()
        assert unversioned == versioned
    error = envelope(snow_admin.get("/api/sn_sc/v2/servicecatalog/catalogs"), 400)
    assert error["message"] == "Requested URI does not represent any resource"
    envelope(snow_admin.get(f"{API}/nothing"), 400)
    assert envelope(snow_admin.post(f"{API}/catalogs"), 405)["message"] == "Method not Supported"
