"""Service Catalog API properties (hypothesis): the quantity rule of the order_now script for
any value, and any cart ordered becomes exactly one request whose requested items are the
cart's items, each with its quantity and its answers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_servicenow.app import create_app
from mock_servicenow.domain.service_catalog import cart
from mock_servicenow.errors import BadRequestError, NotFoundError
from mock_servicenow.settings import Settings
from tests.mock_servicenow.service_catalog_helpers import (
    API,
    DESK_SET_UP,
    IPAD_3,
    NEW_EMAIL,
    STANDARD_LAPTOP,
    table,
)

_ACCEPTED = re.compile(r"\+?([0-9]*)")


@given(st.one_of(st.text(alphabet="+-0123456789 .eaxE", max_size=12),
                 st.integers(min_value=-10**12, max_value=10**12), st.text(max_size=8)))
def test_the_quantity_rule_for_any_value(value: str | int) -> None:
    """``'' + value`` matching ``/^\\+?([0-9]*)$/``: empty digits are 1, 0 is refused, a number
    beyond a Java int fails in the cart (404); everything else is 400 Invalid Quantity value."""
    text = str(value)
    match = _ACCEPTED.fullmatch(text)
    if match is None or (match.group(1) and int(match.group(1)) == 0):
        with pytest.raises(BadRequestError, match="Invalid Quantity value"):
            cart.quantity(value)
        return
    digits = match.group(1)
    if digits and int(digits) > 2**31 - 1:
        with pytest.raises(NotFoundError, match="Invalid Request"):
            cart.quantity(value)
        return
    assert cart.quantity(value) == (int(digits) if digits else 1)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """One instance for every example: each example orders its whole cart."""
    directory: Path = tmp_path_factory.mktemp("catalog-properties")
    app: Flask = create_app(Settings(database_path=str(directory / "instance.db"),
                                     home=directory, admin_password="admin",
                                     password_hash_iterations=1000, secret_key="k",
                                     random_seed=5))
    with httpx.Client(transport=httpx.WSGITransport(app=app),
                      base_url="https://dev00000.service-now.test",
                      auth=("admin", "admin")) as client:
        yield client
    app.extensions["mock_servicenow"].instance.close()


_LINES = st.lists(st.tuples(st.sampled_from([IPAD_3, STANDARD_LAPTOP, NEW_EMAIL, DESK_SET_UP]),
                            st.integers(min_value=1, max_value=20),
                            st.text(alphabet="abc xyz@.", min_size=1, max_size=10)),
                  min_size=1, max_size=4)
_PRICES = {IPAD_3: 600, STANDARD_LAPTOP: 1100, NEW_EMAIL: 0, DESK_SET_UP: 0}


@settings(max_examples=12, deadline=None)
@given(lines=_LINES)
def test_a_cart_becomes_one_request_with_its_items(shop: httpx.Client,
                                                   lines: list[tuple[str, int, str]]) -> None:
    for item, count, text in lines:
        added = shop.post(f"{API}/items/{item}/add_to_cart", json={
            "sysparm_quantity": count,
            "variables": {"new_email": text, "ergonomic_office": text,
                          "Additional_software_requirements": text}})
        assert added.status_code == 200, added.text
    placed = shop.post(f"{API}/cart/submit_order")
    assert placed.status_code == 200, placed.text
    request_id = placed.json()["result"]["request_id"]
    (request,) = table(shop, "sc_request", f"sys_id={request_id}", "price")
    assert Decimal(request["price"]) == sum(_PRICES[item] * count for item, count, _ in lines)
    ritms = table(shop, "sc_req_item", f"request={request_id}", "sys_id,cat_item,quantity")
    assert sorted((r["cat_item"], int(r["quantity"])) for r in ritms) == sorted(
        (item, count) for item, count, _ in lines)
    texts = sorted(text for item, _, text in lines if item != IPAD_3)
    answers = table(shop, "sc_item_option_mtom",
                    "request_item.request=" + request_id
                    + "^sc_item_option.item_option_new.nameINnew_email,ergonomic_office,"
                      "Additional_software_requirements",
                    "sc_item_option.value")
    assert sorted(a["sc_item_option.value"] for a in answers) == texts
    assert shop.get(f"{API}/cart").json()["result"]["subtotal_price"] == "$0.00"
