"""Streams a generated workspace as Mattermost bulk-export JSONL (version 1) and returns its ground truth.

One seed gives the same bytes every time: every random choice comes from seeded
`random.Random` streams (the cast, the channel conversation, the direct messages), nothing
iterates a set or reads the clock, and posts are written as they are made, so memory does
not grow with the number of posts.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Literal

from . import vocabulary as v
from .sampling import cumulative, pick
from .summary import TopicTruth, WorkspaceSummary
from .threads import BOT, MINUTE, Msg, Slots, Thread, ThreadWriter
from .world import Scale, World

Preset = Literal["demo", "bench"]

DEFAULT_END_MS = 1_751_047_200_000
"""2025-06-27 18:00 UTC, a Friday evening: a fixed end so the default output never changes."""

_MEAN_THREAD = 2.6  # messages per thread, measured; spaces the roots evenly over the timeline
_FLUSH_LINES = 2_000
_GRACE_DM = 10 * 60 * MINUTE  # one working day: a direct conversation never runs past someone's last day


def scale_for(preset: Preset, posts: int | None, people: int | None, days: int | None) -> Scale:
    """The demo is one readable team; the benchmark grows people, teams and services with posts."""
    if preset == "demo":
        n_posts = 2_400 if posts is None else posts
        n_people = 26 if people is None else people
        return Scale(n_posts, n_people, days or 91, 1, 1.6, 0, 0.08)
    if preset != "bench":
        raise ValueError(f"unknown preset {preset!r} (demo or bench)")
    n_posts = 100_000 if posts is None else posts
    n_people = min(4_000, max(30, n_posts // 40)) if people is None else people
    teams = min(6, max(1, round(n_people / 700)))
    return Scale(n_posts, n_people, days or 182, teams, 1.05, max(0, n_people // 30 - 7), 0.06)


def generate(
    out: Path | IO[str],
    *,
    seed: int = 7,
    posts: int | None = None,
    people: int | None = None,
    end_ms: int = DEFAULT_END_MS,
    preset: Preset = "demo",
    days: int | None = None,
    with_bot: bool = True,
) -> WorkspaceSummary:
    """Write a workspace of exactly `posts` channel messages (roots plus replies) and return its summary.

    `posts`, `people` and `days` default to the preset's; nothing after `end_ms` is written.
    `with_bot` adds a `bot` line (Mattermost's import format has one) and the bot's posts.
    """
    scale = scale_for(preset, posts, people, days)
    if scale.posts < 1:
        raise ValueError("posts must be at least 1")
    if scale.people < 10:
        raise ValueError("people must be at least 10 (the hand-written areas need someone each)")
    if isinstance(out, Path):
        with out.open("w", encoding="utf-8", newline="\n") as fh:
            return _Generator(fh, seed, scale, end_ms, preset, with_bot).run()
    return _Generator(out, seed, scale, end_ms, preset, with_bot).run()


class _Generator:
    """One run: writes the header lines, then posts in time order, then direct messages."""

    def __init__(self, out: IO[str], seed: int, scale: Scale, end_ms: int, preset: Preset, with_bot: bool) -> None:
        self.out, self.seed, self.scale, self.preset, self.with_bot = out, seed, scale, preset, with_bot
        self.world = World(random.Random(f"whoknows-demo:{seed}:world"), scale, end_ms, preset == "demo")
        self.rng = random.Random(f"whoknows-demo:{seed}:posts")
        self.threads = ThreadWriter(self.world, self.rng, with_bot)
        self.wall = self.world.timeline.wall
        self.encode: Callable[[Any], str] = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        self.buf: list[str] = []
        self.counts = {"roots": 0, "replies": 0, "reactions": 0, "direct_channels": 0, "direct_posts": 0}
        self.first_at, self.last_at = 1 << 62, 0

    def line(self, obj: dict[str, Any]) -> None:
        self.buf.append(self.encode(obj))
        if len(self.buf) >= _FLUSH_LINES:
            self.flush()

    def flush(self) -> None:
        if self.buf:
            self.out.write("\n".join(self.buf) + "\n")
            self.buf.clear()

    def stamp(self, w: float) -> int:
        ms = self.wall(w)
        self.first_at, self.last_at = min(self.first_at, ms), max(self.last_at, ms)
        return ms

    def run(self) -> WorkspaceSummary:
        self.line({"type": "version", "version": 1})
        self._header()
        self._posts()
        self._direct()
        self.flush()
        return self._summary()

    # -- teams, channels, people ------------------------------------------------------------------

    def _header(self) -> None:
        world = self.world
        for team in world.teams:
            self.line({"type": "team", "team": {"name": team.name, "display_name": team.display, "type": "O",
                                                "description": f"The {team.display} engineering team",
                                                "allow_open_invite": True}})
        for ch in world.channels:
            self.line({"type": "channel", "channel": {"team": world.teams[ch.team].name, "name": ch.name,
                                                      "display_name": ch.display, "type": "P" if ch.private else "O",
                                                      "header": ch.header, "purpose": ch.purpose}})
        for person in world.people:
            teams = []
            for t in person.teams:
                names = [{"name": world.channels[c].name, "roles": "channel_user"}
                         for c in person.channels if world.channels[c].team == t]
                teams.append({"name": world.teams[t].name, "roles": "team_user", "channels": names})
            user: dict[str, Any] = {
                "username": person.username, "email": f"{person.username}@example.invalid", "nickname": "",
                "first_name": person.first, "last_name": person.last, "position": person.position,
                "roles": "system_user", "locale": "en",
            }
            if person.delete_w >= 0:
                user["delete_at"] = self.wall(person.delete_w)
            user["teams"] = teams
            self.line({"type": "user", "user": user})
        if self.with_bot:
            self.line({"type": "bot", "bot": {"username": world.bot, "owner": world.bot_owner, "display_name": "Deploy Bot",
                                              "description": "Posts deploys, backups and CI results"}})

    # -- channel posts ----------------------------------------------------------------------------

    def _posts(self) -> None:
        total, timeline = self.scale.posts, self.world.timeline
        usable = timeline.total - 60 * MINUTE
        gap = usable / max(1.0, total / _MEAN_THREAD)
        done, last_w = 0, -1000.0
        while done < total:
            w = max(last_w + 1000.0, done / total * usable + self.rng.random() * gap)
            thread = self.threads.next(w)
            del thread.replies[total - done - 1:]
            done += self._emit(thread)
            last_w = w

    def _gone(self, user: int, w: float) -> bool:
        """A hard guarantee on top of the writer's margin: nobody acts after their account is closed."""
        if user == BOT:
            return False
        gone = self.world.people[user].delete_w
        return gone >= 0 and w >= gone

    def _who(self, user: int) -> str:
        return self.world.bot if user == BOT else self.world.people[user].username

    def _reactions(self, msg: Msg) -> list[dict[str, Any]]:
        out = [{"user": self._who(u), "emoji_name": emoji, "create_at": self.stamp(w)}
               for u, emoji, w in msg.reactions if not self._gone(u, w)]
        self.counts["reactions"] += len(out)
        return out

    def _evidence(self, msg: Msg) -> None:
        if msg.topic >= 0:
            topic = self.world.topics[msg.topic]
            if msg.user in topic.experts:
                topic.answers[topic.experts.index(msg.user)] += 1

    def _emit(self, thread: Thread) -> int:
        """Writes the thread's line and returns how many messages (root and replies) it holds."""
        world, root = self.world, thread.root
        ch = world.channels[thread.channel]
        post: dict[str, Any] = {"team": world.teams[ch.team].name, "channel": ch.name, "user": self._who(root.user),
                                "message": root.text, "create_at": self.stamp(root.w)}
        self._evidence(root)
        replies = []
        for msg in thread.replies:
            if self._gone(msg.user, msg.w):
                continue
            reply: dict[str, Any] = {"user": self._who(msg.user), "message": msg.text, "create_at": self.stamp(msg.w)}
            if msg.reactions:
                reply["reactions"] = self._reactions(msg)
            replies.append(reply)
            self._evidence(msg)
        if replies:
            post["replies"] = replies
        if root.reactions:
            post["reactions"] = self._reactions(root)
        self.counts["roots"] += 1
        self.counts["replies"] += len(replies)
        self.line({"type": "post", "post": post})
        return 1 + len(replies)

    # -- direct messages --------------------------------------------------------------------------

    def _direct(self) -> None:
        """Private conversations, some about work topics; a ranking must never see them."""
        world = self.world
        rng = random.Random(f"whoknows-demo:{self.seed}:direct")
        pairs: dict[tuple[int, int], None] = {}
        for team in world.teams:
            cum = cumulative([world.people[p].activity for p in team.members])
            for p in team.members:
                for _ in range(1 + (rng.random() < 0.5)):
                    q = team.members[pick(rng, cum)]
                    if q != p:
                        pairs[(min(p, q), max(p, q))] = None
        pair_list = list(pairs)
        for a, b in pair_list:
            self.line({"type": "direct_channel", "direct_channel": {"members": self._members(a, b)}})
        self.counts["direct_channels"] = len(pair_list)
        if not pair_list:
            return
        pair_cum = cumulative([math.sqrt(world.people[a].activity * world.people[b].activity) for a, b in pair_list])
        wanted = max(12, self.scale.posts // 25)
        usable = world.timeline.total - 60 * MINUTE
        done, last_w = 0, -1000.0
        while done < wanted:
            w = max(last_w + 1000.0, done / wanted * usable + rng.random() * usable / wanted * 3)
            a, b = pair_list[pick(rng, pair_cum)]
            burst = min(wanted - done, rng.randint(2, 5))
            done += burst
            last_w = w
            if self._gone(a, w + _GRACE_DM) or self._gone(b, w + _GRACE_DM):
                continue
            speaker = a if rng.random() < 0.5 else b
            area = world.people[speaker].area
            area_topics = world.areas[area].topics if area >= 0 else world.areas[0].topics
            topic = world.topics[rng.choice(area_topics)]
            for _ in range(burst):
                text = rng.choice(v.DIRECT).format_map(Slots({}, rng, topic, "OPS", ("web-app",), lambda: ""))
                self.line({"type": "direct_post", "direct_post": {"channel_members": self._members(a, b),
                                                                  "user": self._who(speaker), "message": text,
                                                                  "create_at": self.stamp(w)}})
                self.counts["direct_posts"] += 1
                speaker = b if speaker == a else a
                w += 30_000.0 + rng.expovariate(1.0 / (3 * MINUTE))
            last_w = max(last_w, w)

    def _members(self, a: int, b: int) -> list[str]:
        return sorted((self.world.people[a].username, self.world.people[b].username))

    # -- ground truth -------------------------------------------------------------------------------

    def _summary(self) -> WorkspaceSummary:
        world = self.world
        truths = []
        for topic in world.topics:
            area = world.areas[topic.area]
            ranked = [(p, n) for p, n in zip(topic.experts, topic.answers) if world.people[p].delete_w < 0 and n > 0]
            ranked.sort(key=lambda pn: -pn[1])  # stable: designated rank breaks ties
            truths.append(TopicTruth(
                phrase=topic.phrase, area=area.key, team=world.teams[area.team].name,
                channel=world.channels[area.channel].name,
                experts=tuple(world.people[p].username for p, _ in ranked), answers=tuple(n for _, n in ranked),
                former_experts=tuple(world.people[p].username for p in topic.experts if world.people[p].delete_w >= 0),
                terms=topic.terms, queries=topic.queries,
            ))
        c = self.counts
        return WorkspaceSummary(
            seed=self.seed, preset=self.preset, teams=len(world.teams), channels=len(world.channels),
            private_channels=sum(1 for ch in world.channels if ch.private), users=len(world.people),
            bots=(world.bot,) if self.with_bot else (),
            deactivated=tuple(p.username for p in world.people if p.delete_w >= 0),
            root_posts=c["roots"], replies=c["replies"], reactions=c["reactions"],
            direct_channels=c["direct_channels"], direct_posts=c["direct_posts"],
            first_at=self.first_at, last_at=self.last_at, topics=tuple(truths),
        )

