"""Date values inside encoded queries: ``javascript:gs.*()`` helpers, ``ON`` ranges, ``RELATIVE``.

Real instances evaluate the ``javascript:`` part of a query value on the server
(servicenow-behaviour §2, "Dates" and "Range" rows). The emulator runs no JavaScript: it
recognises the GlideSystem helpers clients and list filters actually send and computes them in
Python against the ``now`` given to the compiler. Everything is UTC: the emulator's users all
have the UTC time zone, so "start of today" is 00:00:00 UTC (a real instance uses the session
user's time zone, servicenow-behaviour §1.2 ``sysparm_input_display_value`` row).

Supported helpers (``javascript:gs.<name>(...)``; arguments are integers or quoted strings):

* ``nowDateTime()``; ``getUserID()`` (the ``user_sys_id`` of the compiler);
* ``daysAgo(n)``, ``daysAgoStart(n)``, ``daysAgoEnd(n)``, ``hoursAgo(n)``, ``hoursAgoStart(n)``,
  ``hoursAgoEnd(n)``, ``minutesAgo(n)``, ``minutesAgoStart(n)``, ``minutesAgoEnd(n)``;
* ``beginningOfToday()``, ``endOfToday()``, ``beginningOfYesterday()``, ``endOfYesterday()``,
  ``beginningOfTomorrow()``, ``endOfTomorrow()``;
* ``beginningOfLast7Days()`` / ``endOfLast7Days()`` and ``beginningOfLast30Days()`` /
  ``endOfLast30Days()`` ("last N days" includes today, so the start is day N-1 ago, as the
  list filter's "Last 7 days" shows it; inferred, not captured);
* ``beginningOfThisMonth()``, ``endOfThisMonth()``, ``beginningOfLastMonth()``,
  ``endOfLastMonth()``, ``beginningOfThisYear()``, ``endOfThisYear()``;
* ``dateGenerate('YYYY-MM-DD', 'HH:MM:SS')`` (time may also be ``'start'`` / ``'end'``, the
  form the list filter's "on <date>" writes) and pysnow's one-argument
  ``dateGenerate("YYYY-MM-DD HH:MM:SS")``.

Any other script is :class:`UnsupportedScript`; the compiler then ignores the term, as a real
instance ignores an invalid part of a query (servicenow-behaviour §1.2).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

_SCRIPT = re.compile(r"\s*javascript\s*:\s*gs\s*\.\s*([A-Za-z0-9_]+)\s*\((.*)\)\s*;?\s*", re.S)
_ARGUMENT = re.compile(r"""\s*(?:'([^']*)'|"([^"]*)"|([+-]?\d{1,9}))\s*""")
_LITERAL_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d")
#: Units of ``RELATIVEGT@<unit>@<ago|ahead>@<n>`` and the seconds (or months) they stand for.
_RELATIVE_SECONDS = {"minute": 60, "hour": 3600, "day": 86400, "dayofweek": 86400,
                     "week": 7 * 86400}
_RELATIVE_MONTHS = {"month": 1, "quarter": 3, "year": 12}


class UnsupportedScript(ValueError):
    """A ``javascript:`` value, ``ON`` range or ``RELATIVE`` spec the emulator cannot evaluate."""


def is_script(value: str) -> bool:
    """True when a query value is server-side script (``javascript:...``)."""
    return value[:11].lower() == "javascript:"


def evaluate(value: str, *, now: datetime, user_sys_id: str | None) -> datetime | str | None:
    """The value of a ``javascript:gs.<helper>(...)`` query value.

    Returns a UTC datetime for the date helpers, the user's sys_id for ``getUserID()`` (``None``
    when there is no user: the condition then matches nothing). Raises
    :class:`UnsupportedScript` for anything else, never another exception.
    """
    match = _SCRIPT.fullmatch(value)
    if match is None:
        raise UnsupportedScript(value)
    name, raw_args = match.group(1), _arguments(match.group(2))
    if name == "getUserID" and not raw_args:
        return user_sys_id
    moment = _utc(now)
    try:
        if name == "dateGenerate":
            return _date_generate(raw_args)
        helper = _HELPERS.get(name)
        if helper is None:
            raise UnsupportedScript(value)
        arity, function = helper
        if len(raw_args) != arity:
            raise UnsupportedScript(value)
        return function(moment, *(int(a) for a in raw_args))
    except (ValueError, OverflowError) as exc:
        # int() of a quoted non-number, or a date pushed past year 9999.
        raise UnsupportedScript(value) from exc


def moment_value(value: str, *, now: datetime, user_sys_id: str | None) -> datetime:
    """A date operand: a ``javascript:`` date helper or a literal date-time (UTC)."""
    if is_script(value):
        result = evaluate(value, now=now, user_sys_id=user_sys_id)
        if not isinstance(result, datetime):
            raise UnsupportedScript(value)
        return result
    parsed = parse_literal(value)
    if parsed is None:
        raise UnsupportedScript(value)
    return parsed


def parse_literal(text: str) -> datetime | None:
    """A literal date-time (``YYYY-MM-DD[ HH:MM[:SS]]``, ISO ``T``, optional ``Z``), UTC."""
    text = text.strip().removesuffix("Z")
    for fmt in _LITERAL_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def on_range(value: str, *, now: datetime, user_sys_id: str | None) -> tuple[datetime, datetime]:
    """Start and end of an ``ON``/``NOTON`` value: ``<label>@<start>@<end>``.

    The label (``Today``, ``Last 7 days``, ``2026-01-05``) is for people; the two bounds decide
    (servicenow-behaviour §2, "Dates" row: ``ONToday@javascript:gs.daysAgoStart(0)@...``).
    """
    parts = value.split("@")
    if len(parts) != 3:
        raise UnsupportedScript(value)
    start = moment_value(parts[1], now=now, user_sys_id=user_sys_id)
    end = moment_value(parts[2], now=now, user_sys_id=user_sys_id)
    return start, end


def relative_moment(value: str, *, now: datetime) -> datetime:
    """The instant of a ``RELATIVEGT``/``RELATIVELT`` spec: ``@<unit>@<ago|ahead>@<n>``.

    Units ``minute``, ``hour``, ``day``/``dayofweek``, ``week``, ``month``, ``quarter``,
    ``year``; the offset is applied to the exact current instant (servicenow-behaviour §2,
    ``RELATIVEGT@hour@ago@1``).
    """
    parts = value.split("@")
    if len(parts) != 4 or parts[0] != "" or parts[2] not in ("ago", "ahead"):
        raise UnsupportedScript(value)
    unit, direction, amount_text = parts[1], parts[2], parts[3]
    if not amount_text.isascii() or not amount_text.isdigit() or len(amount_text) > 9:
        raise UnsupportedScript(value)
    amount = int(amount_text) * (-1 if direction == "ago" else 1)
    moment = _utc(now)
    try:
        if unit in _RELATIVE_SECONDS:
            return moment + timedelta(seconds=_RELATIVE_SECONDS[unit] * amount)
        if unit in _RELATIVE_MONTHS:
            return _add_months(moment, _RELATIVE_MONTHS[unit] * amount)
    except (OverflowError, ValueError) as exc:
        raise UnsupportedScript(value) from exc
    raise UnsupportedScript(value)


def _arguments(text: str) -> list[str]:
    if not text.strip():
        return []
    found: list[str] = []
    position = 0
    while True:
        match = _ARGUMENT.match(text, position)
        if match is None:
            raise UnsupportedScript(text)
        found.append(next(g for g in match.groups() if g is not None))
        position = match.end()
        if position == len(text):
            return found
        if text[position] != ",":
            raise UnsupportedScript(text)
        position += 1


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC, microsecond=0)
    return moment.astimezone(UTC).replace(microsecond=0)


def _date_generate(args: list[str]) -> datetime:
    if len(args) == 1:
        parsed = parse_literal(args[0])
    elif len(args) == 2:
        time_part = {"start": "00:00:00", "end": "23:59:59"}.get(args[1].strip(), args[1])
        parsed = parse_literal(f"{args[0].strip()} {time_part.strip()}")
    else:
        parsed = None
    if parsed is None:
        raise UnsupportedScript("dateGenerate")
    return parsed


def _start_of_day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0)


def _end_of_day(moment: datetime) -> datetime:
    return moment.replace(hour=23, minute=59, second=59)


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _month_start(moment: datetime, months_back: int = 0) -> datetime:
    return _start_of_day(_add_months(moment.replace(day=1), -months_back))


def _month_end(moment: datetime, months_back: int = 0) -> datetime:
    start = _month_start(moment, months_back)
    last = calendar.monthrange(start.year, start.month)[1]
    return _end_of_day(start.replace(day=last))


def _days(moment: datetime, n: int) -> datetime:
    return moment - timedelta(days=n)


_Helper = tuple[int, Callable[..., datetime]]

_HELPERS: dict[str, _Helper] = {
    "nowDateTime": (0, lambda m: m),
    "daysAgo": (1, lambda m, n: _days(m, n)),
    "daysAgoStart": (1, lambda m, n: _start_of_day(_days(m, n))),
    "daysAgoEnd": (1, lambda m, n: _end_of_day(_days(m, n))),
    "hoursAgo": (1, lambda m, n: m - timedelta(hours=n)),
    "hoursAgoStart": (1, lambda m, n: (m - timedelta(hours=n)).replace(minute=0, second=0)),
    "hoursAgoEnd": (1, lambda m, n: (m - timedelta(hours=n)).replace(minute=59, second=59)),
    "minutesAgo": (1, lambda m, n: m - timedelta(minutes=n)),
    "minutesAgoStart": (1, lambda m, n: (m - timedelta(minutes=n)).replace(second=0)),
    "minutesAgoEnd": (1, lambda m, n: (m - timedelta(minutes=n)).replace(second=59)),
    "beginningOfToday": (0, lambda m: _start_of_day(m)),
    "endOfToday": (0, lambda m: _end_of_day(m)),
    "beginningOfYesterday": (0, lambda m: _start_of_day(_days(m, 1))),
    "endOfYesterday": (0, lambda m: _end_of_day(_days(m, 1))),
    "beginningOfTomorrow": (0, lambda m: _start_of_day(_days(m, -1))),
    "endOfTomorrow": (0, lambda m: _end_of_day(_days(m, -1))),
    "beginningOfLast7Days": (0, lambda m: _start_of_day(_days(m, 6))),
    "endOfLast7Days": (0, lambda m: _end_of_day(m)),
    "beginningOfLast30Days": (0, lambda m: _start_of_day(_days(m, 29))),
    "endOfLast30Days": (0, lambda m: _end_of_day(m)),
    "beginningOfThisMonth": (0, lambda m: _month_start(m)),
    "endOfThisMonth": (0, lambda m: _month_end(m)),
    "beginningOfLastMonth": (0, lambda m: _month_start(m, 1)),
    "endOfLastMonth": (0, lambda m: _month_end(m, 1)),
    "beginningOfThisYear": (0, lambda m: _start_of_day(m.replace(month=1, day=1))),
    "endOfThisYear": (0, lambda m: _end_of_day(m.replace(month=12, day=31))),
}

#: The helper names :func:`evaluate` understands (for documentation and tests).
SUPPORTED_HELPERS: tuple[str, ...] = (*_HELPERS, "dateGenerate", "getUserID")
