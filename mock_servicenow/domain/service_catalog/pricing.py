"""Prices, recurring frequencies and delivery times as the Service Catalog API writes them.

Sources: the examples of the Service Catalog API page
(https://github.com/ServiceNow/ServiceNowDocs/blob/australia/markdown/api-reference/rest-apis/c_ServiceCatalogAPI.md)
and of CartJS
(https://github.com/ServiceNow/ServiceNowDocs/blob/australia/markdown/api-reference/server-api-reference/c_CartJSScoped.md):
amounts in US dollars with thousands separators and cents (``$1,499.00``), the currency code
``USD``; recurring frequencies by value (``yearly``) with their label (``Annually``); delivery
times in days (``2 Days``). A selected question choice adds its price and recurring price to
the item's (Service Catalog variable pricing; the CartJS example prices an iPhone with options
at ``$849.99`` against a ``$799.99`` base, its ``localized_price``).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

CURRENCY = "USD"
ZERO = Decimal("0")

#: ``sc_cat_item.recurring_frequency`` labels (dictionary overlay 74-service-catalog.json).
FREQUENCY_LABELS = {"daily": "Daily", "weekly": "Weekly", "monthly": "Monthly",
                    "yearly": "Annually"}
_DURATION = re.compile(r"^\s*(?:(\d+)\s+)?(\d{1,2}):(\d{2}):(\d{2})\s*$")


def amount(value: object) -> Decimal:
    """A stored price (``1499``, ``799.99``, ``USD;799.99``) as a Decimal; 0 when empty or not
    a number."""
    text = str(value or "").rsplit(";", 1)[-1].replace("$", "").replace(",", "").strip()
    try:
        number = Decimal(text) if text else ZERO
    except InvalidOperation:
        return ZERO
    return number if number.is_finite() else ZERO


def money(value: Decimal) -> str:
    """``$1,499.00`` (negative amounts ``-$5.00``)."""
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def whole(value: Decimal) -> int:
    """The whole-dollar number the cart's ``subtotal`` fields carry (cents dropped)."""
    return int(value)


def frequency_label(value: str | None) -> str | None:
    """``yearly`` -> ``Annually``; ``None`` when the item has no recurring charge."""
    if not value:
        return None
    return FREQUENCY_LABELS.get(value, value.capitalize())


def delivery_time(value: str | None) -> str:
    """A ``glide_duration`` (``5 00:00:00``) as the cart shows it: ``5 Days``; hours and
    minutes are named when present (``1 Day 4 Hours``); empty for no duration."""
    match = _DURATION.match(value or "")
    if match is None:
        return ""
    days, hours, minutes = int(match.group(1) or 0), int(match.group(2)), int(match.group(3))
    parts = [f"{n} {unit}{'' if n == 1 else 's'}"
             for n, unit in ((days, "Day"), (hours, "Hour"), (minutes, "Minute")) if n]
    return " ".join(parts)
