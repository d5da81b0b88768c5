"""Working time versus wall-clock time: the generated team talks on weekdays, in office hours."""

from __future__ import annotations

import bisect
import itertools

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
WORK_START_HOUR = 8
HOUR_WEIGHTS = (0.5, 0.9, 1.2, 1.1, 0.6, 0.9, 1.1, 1.0, 0.8, 0.5)  # 08:00-18:00 UTC: slow start, lunch dip
SPAN_MS = len(HOUR_WEIGHTS) * HOUR_MS


class Timeline:
    """Maps working time (ms of weekday office hours since the start) to wall-clock Unix ms.

    Generating on the working-time axis keeps every event inside office hours with a
    realistic daily rhythm, and keeps the mapping monotonic so ordering survives it.
    """

    def __init__(self, end_ms: int, days: int) -> None:
        last = end_ms // DAY_MS
        if last * DAY_MS + WORK_START_HOUR * HOUR_MS + SPAN_MS > end_ms:
            last -= 1  # that day's office hours are not over at `end_ms`
        self.starts = [d * DAY_MS + WORK_START_HOUR * HOUR_MS for d in range(last - days + 1, last + 1) if (d + 3) % 7 < 5]
        if not self.starts:
            raise ValueError("the timeline needs at least one weekday")
        self.total = float(len(self.starts) * SPAN_MS)
        total_weight = sum(HOUR_WEIGHTS)
        self._cum = [0.0, *itertools.accumulate(w / total_weight for w in HOUR_WEIGHTS)]
        self._cum[-1] = 1.0

    def wall(self, w: float) -> int:
        day = min(int(w // SPAN_MS), len(self.starts) - 1)
        u = min((w - day * SPAN_MS) / SPAN_MS, 0.999_999_9)
        hour = min(bisect.bisect_right(self._cum, u) - 1, len(HOUR_WEIGHTS) - 1)
        frac = (u - self._cum[hour]) / (self._cum[hour + 1] - self._cum[hour])
        return self.starts[day] + int((hour + frac) * HOUR_MS)
