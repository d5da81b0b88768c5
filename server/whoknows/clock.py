"""The one clock: milliseconds since the epoch. Read here only; everything else is handed a `Clock`, so
tests (and the evaluation's replay) move time by handing another one."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeAlias

Clock: TypeAlias = Callable[[], int]
"""Now, in Unix milliseconds."""


def wall_clock() -> int:
    return int(time.time() * 1000)


def fixed_clock(at_ms: int) -> Clock:
    """A clock that always says `at_ms` (the CLI's `--at`, tests)."""
    return lambda: at_ms


__all__ = ["Clock", "fixed_clock", "wall_clock"]
