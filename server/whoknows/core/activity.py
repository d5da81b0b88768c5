"""People's activity as exponentially decayed counters, so reading a person's recent activity costs O(1) at any moment."""

from __future__ import annotations

import math

from .database import Database

ACTIVITY_HALF_LIFE_MS = 14 * 24 * 3600 * 1000
"""Who is around now: a post two weeks old counts half (people who answer are the ones present)."""

NON_ANSWER_ACTIVITY = 0.5
"""A question or a post outside a thread shows presence; answering others shows helping: it counts double."""


def decayed(value: float, since: int, now: int) -> float:
    if now <= since:
        return value
    return value * math.exp2(-(now - since) / ACTIVITY_HALF_LIFE_MS)


def count_activity(db: Database, user_id: str, at: int, is_answer: int, sign: int) -> None:
    """Counts one post more (+1) or less (-1) in its author's activity."""
    row = db.execute("SELECT posts, answers, first_at, last_at, decayed, decayed_at FROM activity WHERE user_id=?", (user_id,)).fetchone()
    unit = 1.0 if is_answer else NON_ANSWER_ACTIVITY
    if row is None:
        if sign < 0:
            return
        db.execute("INSERT INTO activity VALUES(?,?,?,?,?,?,?)", (user_id, 1, is_answer, at, at, unit, at))
        return
    posts, answers, first_at, last_at, kept, decayed_at = row
    # Fold the post's weight into the counter as of the counter's own reference time.
    ref = max(decayed_at, at)
    value = decayed(kept, decayed_at, ref) + sign * decayed(unit, at, ref)
    db.execute(
        "UPDATE activity SET posts=?, answers=?, first_at=?, last_at=?, decayed=?, decayed_at=? WHERE user_id=?",
        (posts + sign, answers + sign * is_answer, min(first_at, at), max(last_at, at) if sign > 0 else last_at, max(value, 0.0), ref, user_id),
    )
