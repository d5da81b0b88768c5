"""When to try a Mattermost request again: which answers are worth retrying, and how long to wait first.

Pure: the caller passes the clock and the random source, so the policy is tested without sleeping.
The server's own hints (`Retry-After`, `X-Ratelimit-Reset`) are a floor: no retry comes earlier.
Without a hint the wait is exponential with jitter, so many clients do not come back in step.
"""

from __future__ import annotations

import random
from email.utils import parsedate_to_datetime

BASE_S = 0.5
"""The first wait without a hint; each retry doubles it (before jitter)."""
CAP_S = 30.0
"""The longest wait without a hint."""
MAX_HINT_S = 300.0
"""The longest wait a server hint can ask for (a broken header must not park the bot for a day)."""
MAX_ATTEMPTS = 8
"""Tries per request, the first included: about 90 s of waiting in all without hints."""
NOT_SERVED = frozenset({429, 503})
"""Rate limited, or unavailable: the request was not served, so any request is safe to repeat."""
MAYBE_SERVED = frozenset({502, 504})
"""A gateway failure: the server may have acted, so only requests that can be repeated safely are."""
_EPOCH_AFTER = 1_000_000_000
"""A reset value this large is a Unix time, not a number of seconds from now."""


def retryable(status: int, method: str) -> bool:
    return status in NOT_SERVED or (status in MAYBE_SERVED and method.upper() != "POST")


def _seconds(value: str | None, now: float) -> float | None:
    """A header's wait in seconds from `now`: a number of seconds, a Unix time, or an HTTP date; None if unusable."""
    if not value:
        return None
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        try:
            number = parsedate_to_datetime(text).timestamp()
        except (TypeError, ValueError, IndexError):
            return None
    if number != number or number < 0:  # NaN or negative
        return None
    return number - now if number >= _EPOCH_AFTER else number


def backoff_delay(attempt: int, retry_after: str | None, reset: str | None, now: float, rng: random.Random, *,
                  base: float = BASE_S, cap: float = CAP_S) -> float:
    """Seconds to wait before retry number `attempt` (1 for the first retry).

    With a hint from the server: at least the hint (the later of `Retry-After` and `X-Ratelimit-Reset`),
    plus up to 10 % jitter. Without one: "equal jitter" exponential backoff, between half and all of
    base * 2**(attempt - 1), capped at `cap`.
    """
    hints = [s for s in (_seconds(retry_after, now), _seconds(reset, now)) if s is not None]
    if hints:
        floor = min(max(max(hints), 0.0), MAX_HINT_S)
        return floor + rng.uniform(0.0, max(0.1 * floor, 0.05))
    ceiling = min(cap, base * 2.0 ** min(max(attempt - 1, 0), 32))
    return ceiling / 2 + rng.uniform(0.0, ceiling / 2)


__all__ = ["MAX_ATTEMPTS", "backoff_delay", "retryable"]
