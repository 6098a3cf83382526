"""Converting field values between the wire (always strings) and SQLite storage.

ServiceNow sends every scalar as a JSON string, ``""`` for empty (servicenow-behaviour §1.4,
§10 item 1). Storage keeps integers and booleans as SQLite integers so that comparisons and
ordering work in SQL, and empty as ``NULL``.
"""

from __future__ import annotations

from mock_servicenow.dictionary.model import Field

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def script_default(default: str | None) -> str | None:
    """The script of a ``javascript:`` default (``gs.getUserID()``), ``None`` for a constant
    (or no) default. The platform runs such defaults on insert; storing their text would put
    ``javascript:...`` in the record."""
    if default is None or not default.startswith("javascript:"):
        return None
    return default[len("javascript:"):].strip().rstrip(";").strip()


class InvalidValue(ValueError):
    """A wire value that the field's type cannot store (``"abc"`` for an integer)."""


def to_storage(field: Field, value: object) -> object:
    """The SQLite value for a wire value (str, or a JSON scalar sent by a lenient client).

    Empty strings and ``None`` become ``NULL``. Booleans accept ``true``/``false`` (any case)
    and ``1``/``0``. Integers accept integral strings; anything else raises
    :class:`InvalidValue` (the Table API ignores such values the way the platform does).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int | float):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        raise InvalidValue(f"{field.name}: not a scalar")
    if text == "":
        return None
    if field.type == "boolean":
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return 1
        if lowered in _FALSE:
            return 0
        raise InvalidValue(f"{field.name}: not a boolean: {text!r}")
    if field.column_type == "INTEGER":
        try:
            return int(text.strip())
        except ValueError:
            try:
                number = float(text.strip())
                if number != int(number):
                    raise ValueError(text)
            except (ValueError, OverflowError):  # "abc", "1.5", "inf", "nan"
                raise InvalidValue(f"{field.name}: not an integer: {text!r}") from None
            return int(number)
    if field.column_type == "REAL":
        try:
            number = float(text.strip())
        except ValueError:
            raise InvalidValue(f"{field.name}: not a number: {text!r}") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise InvalidValue(f"{field.name}: not a finite number: {text!r}")
        return number
    return text


def to_wire(field: Field, stored: object) -> str:
    """The raw wire string of a stored value: ``"true"``, ``"5"``, ``""`` for NULL."""
    if stored is None:
        return ""
    if field.type == "boolean":
        return "true" if stored in (1, True, "1", "true") else "false"
    if isinstance(stored, float) and field.column_type == "REAL":
        return repr(stored)
    return str(stored)
