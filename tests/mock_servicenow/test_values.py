"""Wire <-> storage conversion (servicenow-behaviour §1.4: every value is a string on the wire)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_servicenow.dictionary import Field
from mock_servicenow.dictionary.values import InvalidValue, to_storage, to_wire

INTEGER = Field("priority", "integer")
BOOLEAN = Field("active", "boolean")
DECIMAL = Field("cost", "decimal")
STRING = Field("short_description", "string")


@pytest.mark.parametrize("field, wire, stored", [
    (INTEGER, "5", 5), (INTEGER, " 3 ", 3), (INTEGER, "2.0", 2), (INTEGER, 4, 4),
    (INTEGER, "", None), (BOOLEAN, "true", 1), (BOOLEAN, "FALSE", 0), (BOOLEAN, True, 1),
    (BOOLEAN, "1", 1), (STRING, "", None), (STRING, "x", "x"), (DECIMAL, "1.25", 1.25),
])
def test_to_storage(field: Field, wire: object, stored: object) -> None:
    assert to_storage(field, wire) == stored


@pytest.mark.parametrize("field, wire", [
    (INTEGER, "abc"), (INTEGER, "1.5"), (INTEGER, "inf"), (INTEGER, "nan"), (INTEGER, "-inf"),
    (INTEGER, "1e400"), (BOOLEAN, "maybe"), (DECIMAL, "nan"), (DECIMAL, "inf"), (STRING, {"a": 1}),
])
def test_values_the_type_cannot_hold_are_invalid(field: Field, wire: object) -> None:
    with pytest.raises(InvalidValue):
        to_storage(field, wire)


@pytest.mark.parametrize("field, stored, wire", [
    (INTEGER, 5, "5"), (INTEGER, None, ""), (BOOLEAN, 1, "true"), (BOOLEAN, 0, "false"),
    (STRING, None, ""),
])
def test_to_wire_is_always_a_string(field: Field, stored: object, wire: str) -> None:
    assert to_wire(field, stored) == wire


@given(st.text())
def test_any_text_either_converts_or_is_invalid(text: str) -> None:
    for field in (INTEGER, BOOLEAN, DECIMAL, STRING):
        try:
            stored = to_storage(field, text)
        except InvalidValue:
            continue
        assert isinstance(to_wire(field, stored), str)
