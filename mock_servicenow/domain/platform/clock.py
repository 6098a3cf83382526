"""The instance clock: real time, or frozen and advanced from the control plane.

Token expiry, rate-limit windows and ``sys_updated_on`` all read :meth:`Clock.now`, so a test
freezes time with ``POST /_emulator/clock`` instead of sleeping. The state is a small JSON
document kept in the instance database, so every worker process of ``serve --workers N``
sees the same time.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

#: ServiceNow's raw date-time format, always UTC (servicenow-behaviour §1.4).
GLIDE_FORMAT = "%Y-%m-%d %H:%M:%S"

#: The instants the instance clock may show. Not the platform's limits: the emulator's own,
#: so that every date it derives from "now" (token expiry 100 days on, rate-limit windows,
#: ``X-RateLimit-Reset`` in unix seconds, four-digit ``glide.war`` years) stays a valid,
#: four-digit, non-negative-epoch date-time. A clock request leaving this range is a 400.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 12, 31, 23, 59, 59, tzinfo=UTC)


class ClockOutOfRange(ValueError):
    """A freeze or advance that would take the clock outside ``EARLIEST``..``LATEST``."""


class Clock(Protocol):
    """Anything that tells the instance's current time (UTC, aware)."""

    def now(self) -> datetime:
        """The current instant."""
        ...


def system_now() -> datetime:
    """The machine's time, UTC, without microseconds (ServiceNow stores whole seconds)."""
    return datetime.now(UTC).replace(microsecond=0)


def format_glide(moment: datetime) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in UTC, the raw Table API form (servicenow-behaviour §1.4)."""
    return moment.astimezone(UTC).strftime(GLIDE_FORMAT)


def parse_glide(text: str) -> datetime:
    """Parse ``YYYY-MM-DD HH:MM:SS`` (or ``YYYY-MM-DD``) as UTC; ``ValueError`` otherwise."""
    text = text.strip()
    if len(text) == 10:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    if "T" in text:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.strptime(text, GLIDE_FORMAT).replace(tzinfo=UTC)


def _check_range(moment: datetime) -> None:
    if not EARLIEST <= moment <= LATEST:
        raise ClockOutOfRange(f"the instance clock stays between {format_glide(EARLIEST)} and "
                              f"{format_glide(LATEST)}")


@dataclass
class ControllableClock:
    """System time shifted by ``offset``, or a fixed ``frozen_at`` instant.

    ``advance`` moves either form forward; ``freeze`` pins the current (or a given) instant.
    """

    frozen_at: datetime | None = None
    offset: timedelta = timedelta(0)
    source: Callable[[], datetime] = field(default=system_now, repr=False, compare=False)

    def now(self) -> datetime:
        """The instance's current instant."""
        if self.frozen_at is not None:
            return self.frozen_at
        return self.source() + self.offset

    def freeze(self, at: datetime | None = None) -> None:
        """Stop time at ``at`` (default: now); :class:`ClockOutOfRange` outside the range."""
        moment = (at or self.now()).replace(microsecond=0)
        _check_range(moment)
        self.frozen_at = moment

    def unfreeze(self) -> None:
        """Let time run again from the frozen instant (keeps it continuous)."""
        if self.frozen_at is not None:
            self.offset = self.frozen_at - self.source()
            self.frozen_at = None

    def advance(self, seconds: float) -> None:
        """Move time forward (negative values move it back); :class:`ClockOutOfRange` when
        that leaves the range (nothing changes then)."""
        try:
            step = timedelta(seconds=seconds)
            moment = self.now() + step
        except (OverflowError, ValueError):
            raise ClockOutOfRange(f"advancing by {seconds} s leaves the clock's range") from None
        _check_range(moment)
        if self.frozen_at is not None:
            self.frozen_at += step
        else:
            self.offset += step

    def reset(self) -> None:
        """Back to plain system time."""
        self.frozen_at = None
        self.offset = timedelta(0)

    def to_state(self) -> str:
        """JSON for the ``_emulator_state`` row."""
        return json.dumps(
            {
                "frozen_at": format_glide(self.frozen_at) if self.frozen_at else None,
                "offset_seconds": self.offset.total_seconds(),
            }
        )

    @classmethod
    def from_state(cls, state: str | None,
                   source: Callable[[], datetime] = system_now) -> ControllableClock:
        """Rebuild a clock saved by :meth:`to_state` (``None``: plain system time)."""
        if not state:
            return cls(source=source)
        data: dict[str, Any] = json.loads(state)
        frozen = parse_glide(data["frozen_at"]) if data.get("frozen_at") else None
        return cls(frozen_at=frozen, offset=timedelta(seconds=data.get("offset_seconds", 0)),
                   source=source)

    def describe(self) -> dict[str, object]:
        """What ``/_emulator/clock`` answers."""
        return {
            "now": format_glide(self.now()),
            "frozen": self.frozen_at is not None,
            "offset_seconds": self.offset.total_seconds(),
        }
