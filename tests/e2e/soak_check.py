"""What the soak checks: every answer (no deleted post, no post its caller cannot read), the index against the
server's posts, and every error id in the bot's log against the faults that were injected.

A deletion counts against a card once the bot has had time to hear it: the server confirmed it more than GRACE_S
before the question (the websocket event's way to the bot), and no fault covered it (a fault hides a deletion until
it is over and the bot has caught up). From hearing on, the bot withholds the post whatever its batch is doing, so
a card inside that grace is counted apart ("near") and is expected to be rare.
"""

from __future__ import annotations

import math
import re
import sqlite3
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from whoknows.service.repair import indexed_ids
from whoknows.storage.store import INDEX_DIR, STATE_FILE

from .soak_process import Line

GRACE_S = 0.5
"""How long after the server confirmed a deletion the bot may not have heard of it yet (see the module's note)."""
EXPLAINED_AFTER_S = 5.0
"""An error logged this long after a fault's recovery is still its consequence (a retry that gave up late)."""
PERMALINK = re.compile(r"/pl/([a-z0-9]{26})")


@dataclass
class Window:
    """A fault, from when it was injected to when the bot was seen caught up again (None: not yet)."""

    kind: str
    start: float
    end: float | None = None

    def covers(self, at: float, after: float = 0.0) -> bool:
        return self.start - 0.5 <= at <= (math.inf if self.end is None else self.end + after)


@dataclass
class Ledger:
    """Every post the soak made (its channel, author and text now) and when the server confirmed each deletion."""

    channel_of: dict[str, str] = field(default_factory=dict)
    author_of: dict[str, str] = field(default_factory=dict)
    text_of: dict[str, str] = field(default_factory=dict)
    deleted_at: dict[str, float] = field(default_factory=dict)
    root_of: dict[str, str] = field(default_factory=dict)
    uncertain: set[str] = field(default_factory=set)
    """Posts whose deletion met a server restart: perhaps deleted, at an unknown time."""
    cascaded: set[str] = field(default_factory=set)
    """Replies taken to be deleted with their root, not yet confirmed by the server: a reply saved while its root was
    being deleted outlives it (Mattermost marks the thread deleted in one UPDATE, the racing reply comes after)."""

    def made(self, post_id: str, channel_id: str, author: str, text: str, root_id: str = "") -> None:
        self.channel_of[post_id], self.author_of[post_id], self.text_of[post_id] = channel_id, author, text
        self.root_of[post_id] = root_id

    def deleted(self, post_id: str, at: float) -> None:
        """The server confirmed it: the post, and its replies if it was a root (Mattermost deletes the thread)."""
        self.deleted_at.setdefault(post_id, at)
        for reply in (r for r, root in self.root_of.items() if root == post_id and r not in self.deleted_at):
            self.deleted_at[reply] = at
            self.cascaded.add(reply)

    def confirmed(self, post_id: str, deleted: bool) -> None:
        """The server said whether a reply taken to be deleted with its root really is."""
        self.cascaded.discard(post_id)
        if not deleted:
            del self.deleted_at[post_id]

    def live(self, channel_id: str, author: str | None = None) -> list[str]:
        return [p for p, c in self.channel_of.items()
                if c == channel_id and p not in self.deleted_at and p not in self.uncertain and author in (None, self.author_of[p])]


@dataclass
class Verdicts:
    answers: int = 0
    failed: int = 0
    violations: list[str] = field(default_factory=list)
    near: list[str] = field(default_factory=list)


def heard_by(deleted_at: float, windows: Iterable[Window]) -> float:
    """When the bot can be expected to know of a deletion: at once, or once the fault that covered it is over."""
    bound = deleted_at
    for w in windows:
        if w.start <= deleted_at + GRACE_S and (w.end is None or w.end >= deleted_at):
            bound = max(bound, math.inf if w.end is None else w.end)
    return bound


def check_card(text: str, caller: str, readable: Collection[str], asked_at: float, ledger: Ledger,
               windows: Iterable[Window], verdicts: Verdicts) -> None:
    """One answer: no trace, no post from a channel the caller cannot read, no deleted post the bot had heard of."""
    verdicts.answers += 1
    if "Traceback" in text:
        verdicts.violations.append(f"a trace reached {caller}: {text[:200]!r}")
    for post_id in PERMALINK.findall(text):
        channel = ledger.channel_of.get(post_id)
        if channel is None:
            verdicts.violations.append(f"{caller}'s card shows {post_id}, a post the soak never made")
        elif channel not in readable:
            verdicts.violations.append(f"{caller}'s card shows {post_id} from channel {channel}, which they cannot read")
        if post_id in ledger.deleted_at:
            late = asked_at - heard_by(ledger.deleted_at[post_id], windows)
            what = (f"{caller}'s card shows {post_id}, deleted {asked_at - ledger.deleted_at[post_id]:.2f} s before the question"
                    f"{fault_near(ledger.deleted_at[post_id], windows)}")
            (verdicts.violations if late > GRACE_S else verdicts.near).append(what)


def fault_near(at: float, windows: Iterable[Window]) -> str:
    """The last fault injected before `at`, for whoever reads a violation."""
    before = [w for w in windows if w.start <= at]
    if not before:
        return ""
    w = before[-1]
    end = "still on" if w.end is None else f"over {w.end - at:+.2f} s from it"
    return f" (last fault: {w.kind}, {at - w.start:.2f} s before the deletion, {end})"


def store_has(data: Path, post_ids: Collection[str]) -> bool:
    """Whether the bot's store holds all these posts now (read-only: the bot keeps writing)."""
    try:
        with sqlite3.connect(f"file:{data / STATE_FILE}?mode=ro", uri=True, timeout=5.0) as db:
            marks = ",".join("?" * len(post_ids))
            found = db.execute(f"SELECT count(*) FROM posts WHERE post_id IN ({marks})", list(post_ids)).fetchone()[0]
    except sqlite3.Error:
        return False
    return bool(found == len(post_ids))


def store_error(data: Path) -> str:
    """Why the bot's store cannot be read from outside right now ("" when it can): tells a stuck bot from a stuck look."""
    try:
        with sqlite3.connect(f"file:{data / STATE_FILE}?mode=ro", uri=True, timeout=5.0) as db:
            db.execute("SELECT count(*) FROM posts").fetchone()
    except sqlite3.Error as error:
        return f"reading the store fails: {error}"
    return ""


async def server_posts(url: str, token: str, channel_ids: Collection[str]) -> dict[str, str]:
    """post id -> message of every person's post in these channels, as the bot reads them on the server now."""
    out: dict[str, str] = {}
    async with httpx.AsyncClient(base_url=f"{url}/api/v4", headers={"Authorization": f"Bearer {token}"}, timeout=30.0) as api:
        for channel in channel_ids:
            page = 0
            while True:
                answer = await api.get(f"/channels/{channel}/posts", params={"page": page, "per_page": 200})
                answer.raise_for_status()
                body = answer.json()
                out.update({p["id"]: p["message"] for p in body["posts"].values() if person_post(p)})
                if len(body["order"]) < 200:
                    break
                page += 1
    return out


def person_post(p: Mapping[str, object]) -> bool:
    props = p.get("props") or {}
    assert isinstance(props, dict)
    return not p["type"] and props.get("from_bot") != "true" and props.get("from_webhook") != "true"


def local_posts(data: Path) -> dict[str, str]:
    with sqlite3.connect(f"file:{data / STATE_FILE}?mode=ro", uri=True, timeout=5.0) as db:
        return dict(db.execute("SELECT post_id, message FROM posts"))


def index_differences(expected: Mapping[str, str], data: Path, bot_id: str) -> list[str]:
    """Nothing lost, nothing duplicated or left over, no stale edit: the store and the index against the server."""
    local = {k: v for k, v in local_posts(data).items()}
    indexed = indexed_ids(data / INDEX_DIR)
    out = []
    for name, ids in (("store", set(local)), ("index", indexed)):
        if missing := set(expected) - ids:
            out.append(f"the {name} lacks {len(missing)} post(s) the server shows, e.g. {sorted(missing)[:3]}")
        if extra := ids - set(expected):
            out.append(f"the {name} holds {len(extra)} post(s) the server does not show, e.g. {sorted(extra)[:3]}")
    if stale := sorted(k for k in set(local) & set(expected) if local[k] != expected[k]):
        out.append(f"{len(stale)} edit(s) not in the store, e.g. {stale[:3]}")
    return out


def unexplained_errors(errors: Iterable[tuple[Line, str]], windows: Collection[Window]) -> list[str]:
    """Each error id in the log must fall in (or just after) an injected fault; the others are violations."""
    return [f"error {error_id} with no fault to explain it: {line.text[:300]}"
            for line, error_id in errors if not any(w.covers(line.at, EXPLAINED_AFTER_S) for w in windows)]
