"""When digests are due: a tiny schedule syntax (`weekly:MON:09:00`, `daily:09:00`, `off`) and its arithmetic.

Times are local to the service's machine ("the server's time zone"); `tz` lets tests fix one. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Literal

DAY_MS = 24 * 3600 * 1000
WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_SYNTAX = re.compile(r"^(?:(off)|daily:(\d{1,2}):(\d{2})|weekly:([a-z]{3}):(\d{1,2}):(\d{2}))$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Schedule:
    kind: Literal["off", "daily", "weekly"]
    weekday: int = 0
    """0 is Monday (weekly only)."""
    hour: int = 9
    minute: int = 0

    @property
    def period_ms(self) -> int:
        """How far back a digest looks: a day for daily digests, else a week (on demand too)."""
        return DAY_MS if self.kind == "daily" else 7 * DAY_MS

    def describe(self) -> str:
        if self.kind == "off":
            return "on demand"
        at = f"{self.hour:02d}:{self.minute:02d}"
        return f"every day at {at}" if self.kind == "daily" else f"every {WEEKDAYS[self.weekday].title()} at {at}"


def parse_schedule(text: str) -> Schedule:
    """`weekly:MON:09:00`, `daily:18:30` or `off`; anything else raises ValueError."""
    m = _SYNTAX.match(text.strip())
    if not m:
        raise ValueError(text)
    if m.group(1):
        return Schedule("off")
    if m.group(2) is not None:
        kind: Literal["daily", "weekly"] = "daily"
        weekday, hour, minute = 0, int(m.group(2)), int(m.group(3))
    else:
        if m.group(4).upper() not in WEEKDAYS:
            raise ValueError(text)
        kind, weekday, hour, minute = "weekly", WEEKDAYS.index(m.group(4).upper()), int(m.group(5)), int(m.group(6))
    if hour > 23 or minute > 59:
        raise ValueError(text)
    return Schedule(kind, weekday, hour, minute)


def latest_run(schedule: Schedule, now_ms: int, tz: tzinfo | None = None) -> int | None:
    """The most recent scheduled moment at or before `now_ms` (None when off).

    With `tz` None the machine's local time is used, daylight saving included (naive local arithmetic).
    """
    if schedule.kind == "off":
        return None
    now = datetime.fromtimestamp(now_ms / 1000, tz)
    run = now.replace(hour=schedule.hour, minute=schedule.minute, second=0, microsecond=0)
    step = timedelta(days=1)
    if schedule.kind == "weekly":
        run -= timedelta(days=(run.weekday() - schedule.weekday) % 7)
        step = timedelta(days=7)
    if run > now:
        run -= step
    return int(run.timestamp() * 1000)


__all__ = ["DAY_MS", "Schedule", "latest_run", "parse_schedule"]
