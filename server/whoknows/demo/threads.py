"""Writes one thread at a time: who opens it, who answers, what they say, who reacts.

Threads are built on the working-time axis of `world.Timeline`; the generator maps them to
wall-clock times when it writes them. A message that answers a topic is tagged with the
topic, so the ground truth can count the answers each expert really gave.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from . import vocabulary as v
from .sampling import cumulative, pick
from .world import Area, Channel, Topic, World

BOT = -1
"""The `user` of a message written by the bot account."""

MINUTE = 60_000.0
GRACE = 3 * 10 * 60 * MINUTE
"""Three working days: someone about to leave is not drawn into a thread that could outlast them."""


@dataclass(slots=True)
class Msg:
    user: int
    text: str
    w: float
    topic: int = -1
    reactions: list[tuple[int, str, float]] = field(default_factory=list)


@dataclass(slots=True)
class Thread:
    channel: int
    root: Msg
    replies: list[Msg]


class Slots(dict[str, str]):
    """Template values made on first use, so a template only pays for the slots it names."""

    __slots__ = ("rng", "topic", "ticket", "services", "peer")

    def __init__(self, base: dict[str, str], rng: random.Random, topic: Topic | None, ticket: str,
                 services: tuple[str, ...], peer: Callable[[], str]) -> None:
        super().__init__(base)
        self.rng, self.topic, self.ticket, self.services, self.peer = rng, topic, ticket, services, peer

    def __missing__(self, key: str) -> str:
        value = _SLOTS[key](self)
        self[key] = value
        return value

    def t(self) -> Topic:
        if self.topic is None:
            raise KeyError("this template needs a topic")
        return self.topic


def _term2(s: Slots) -> str:
    topic, first = s.t(), s["term"]
    for _ in range(4):
        term = topic.terms[pick(s.rng, topic.term_cum)]
        if term != first:
            return term
    return topic.terms[(topic.terms.index(first) + 1) % len(topic.terms)]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _choice(options: Sequence[str]) -> Callable[[Slots], str]:
    return lambda s: s.rng.choice(options)


_SLOTS: dict[str, Callable[[Slots], str]] = {
    "task": lambda s: s.rng.choice(s.t().tasks),
    "symptom": lambda s: s.rng.choice(s.t().symptoms),
    "cause": lambda s: s.rng.choice(s.t().causes),
    "fix": lambda s: s.rng.choice(s.t().fixes),
    "snippet": lambda s: s.rng.choice(s.t().snippets),
    "tag": lambda s: s.rng.choice(s.t().tags),
    "term": lambda s: s.t().terms[pick(s.rng, s.t().term_cum)],
    "term2": _term2,
    "Symptom": lambda s: _cap(s["symptom"]),
    "Fix": lambda s: _cap(s["fix"]),
    "since": _choice(v.SINCE), "past": _choice(v.PAST), "env": _choice(v.ENVS), "day": _choice(v.DAYS),
    "time": _choice(v.TIMES), "place": _choice(v.PLACES), "food": _choice(v.FOODS), "trip": _choice(v.TRIPS),
    "floor": _choice(v.FLOORS), "stage": _choice(v.STAGES),
    "num": lambda s: str(s.rng.randint(1000, 9999)),
    "minutes": lambda s: str(s.rng.randint(3, 95)),
    "n": lambda s: str(s.rng.randint(2, 12)),
    "version": lambda s: f"v{s.rng.randint(1, 4)}.{s.rng.randint(0, 30)}.{s.rng.randint(0, 9)}",
    "ticket": lambda s: f"{s.ticket}-{s.rng.randint(100, 2999)}",
    "service": lambda s: s.rng.choice(s.services),
    "peer": lambda s: s.peer(),
}
_NO_MENTION = tuple(t for t in v.BYSTANDERS if "{expert}" not in t)
_HEDGES_NO_MENTION = tuple(t for t in v.HEDGES if "{expert}" not in t)
_THANKS_NO_MENTION = tuple(t for t in v.THANKS if "{expert}" not in t)
_ANNOUNCEMENTS = tuple((a, v.ANNOUNCEMENT_REPLIES) for a in v.ANNOUNCEMENTS)


class ThreadWriter:
    """Makes threads of every kind; `next(w)` picks the kind and returns a thread rooted at `w`."""

    def __init__(self, world: World, rng: random.Random, with_bot: bool) -> None:
        self.world, self.rng = world, rng
        self.people = world.people
        # question, tip, banter, announcement, chatter, incident, bot (the order of `builders`)
        weights = [0.50, 0.09, 0.14, 0.05, 0.10, 0.05, 0.07] if world.demo else [0.58, 0.08, 0.11, 0.03, 0.08, 0.05, 0.07]
        if not with_bot:
            weights[-1] = 0.0
        self.kind_cum = cumulative(weights)
        self.team_cum = cumulative([len(t.members) + 0.01 for t in world.teams])
        self.builders: tuple[Callable[[float], Thread | None], ...] = (
            self._question, self._tip, self._banter, self._announcement, self._chatter, self._incident, self._bot)

    def next(self, w: float) -> Thread:
        for _ in range(20):
            thread = self.builders[pick(self.rng, self.kind_cum)](w)
            if thread is not None:
                return thread
        thread = self._banter(w)
        assert thread is not None
        return thread

    # -- choosing people -------------------------------------------------------------------------

    def active(self, person: int, w: float) -> bool:
        gone = self.people[person].delete_w
        return gone < 0 or w + GRACE < gone

    def member(self, ch: Channel, w: float, exclude: Sequence[int] = (), asking: bool = False) -> int | None:
        cum = ch.ask_cum if asking else ch.cum
        for _ in range(8):
            p = ch.members[pick(self.rng, cum)]
            if p not in exclude and self.active(p, w):
                return p
        return next((p for p in ch.members if p not in exclude and self.active(p, w)), None)

    def expert(self, topic: Topic, ch: Channel, w: float, exclude: Sequence[int] = ()) -> int | None:
        for _ in range(6):
            p = topic.experts[pick(self.rng, topic.expert_cum)]
            if p in ch.member_set and p not in exclude and self.active(p, w):
                return p
        return next((p for p in topic.experts if p in ch.member_set and p not in exclude and self.active(p, w)), None)

    def name(self, person: int) -> str:
        return self.people[person].username

    # -- writing ----------------------------------------------------------------------------------

    def slots(self, ch: Channel, w: float, topic: Topic | None, base: dict[str, str], area: Area | None = None) -> Slots:
        area = area or (self.world.areas[topic.area] if topic is not None else None)
        ticket = area.ticket if area is not None else "OPS"
        services = area.services if area is not None else ("web-app",)

        def peer() -> str:
            p = self.member(ch, w)
            return self.name(p if p is not None else ch.members[0])

        return Slots(base, self.rng, topic, ticket, services, peer)

    def after(self, w: float, mean: float, floor: float = 20_000.0) -> float:
        """A later working time, never past the end of the timeline."""
        nxt = w + floor + self.rng.expovariate(1.0 / mean)
        if self.rng.random() < 0.04:
            nxt += self.rng.random() * 8 * 60 * MINUTE  # answered the next morning
        return min(nxt, max(w + 1000.0, self.world.timeline.total - 30 * MINUTE))

    def react(self, msg: Msg, user: int | None, emoji: str, mean: float = 12 * MINUTE) -> None:
        if user is None or user == msg.user or any(r[0] == user and r[1] == emoji for r in msg.reactions):
            return
        msg.reactions.append((user, emoji, self.after(msg.w, mean, 5_000.0)))

    def crowd(self, msg: Msg, ch: Channel, emojis: Sequence[str], rate: float) -> None:
        """A handful of channel members react; `rate` is the mean number of reactions."""
        for _ in range(min(6, int(self.rng.expovariate(1.0 / rate)))):
            p = self.member(ch, msg.w)
            self.react(msg, p, self.rng.choice(emojis))

    def topic(self) -> Topic:
        area = self.world.areas[pick(self.rng, self.world.area_cum)]
        return self.world.topics[area.topics[pick(self.rng, area.topic_cum)]]

    def _question_channel(self, topic: Topic) -> Channel:
        world, r = self.world, self.rng.random()
        area = world.areas[topic.area]
        team = world.teams[area.team]
        if r < 0.72:
            return world.channels[area.channel]
        if r < 0.82:
            return world.channels[team.help if team.help >= 0 else team.town]
        if r < 0.92 and area.core >= 0:
            return world.channels[area.core]
        if r < 0.97 and area.oncall and team.incident >= 0:
            return world.channels[team.incident]
        return world.channels[area.channel]

    def _fact(self, topic: Topic, k: int) -> dict[str, str]:
        """Task, symptom, cause and fix of one `vocabulary.Fact`, so a thread tells one coherent story."""
        k %= len(topic.fixes)
        return {"task": topic.tasks[k], "symptom": topic.symptoms[k], "cause": topic.causes[k], "fix": topic.fixes[k]}

    # -- thread kinds ---------------------------------------------------------------------------

    def _question(self, w0: float) -> Thread | None:
        rng, topic = self.rng, self.topic()
        ch = self._question_channel(topic)
        asker = self.member(ch, w0, topic.experts, asking=True)
        if asker is None:
            return None
        k = rng.randrange(len(topic.symptoms))
        base = {"asker": self.name(asker), **self._fact(topic, k)}
        how_to = rng.random() < 0.45  # "how do I ..." rather than "X is broken"
        opener = v.TASK_QUESTIONS if how_to else v.SYMPTOM_QUESTIONS
        root = Msg(asker, rng.choice(opener).format_map(self.slots(ch, w0, topic, base)), w0)
        replies: list[Msg] = []
        w = w0

        def say(user: int, templates: Sequence[str], mean: float, answer: bool = False) -> Msg:
            nonlocal w
            w = self.after(w, mean, 45_000.0)
            msg = Msg(user, rng.choice(templates).format_map(self.slots(ch, w, topic, base)), w, topic.idx if answer else -1)
            replies.append(msg)
            return msg

        expert = self.expert(topic, ch, self.after(w0, 14 * MINUTE), [asker])
        if expert is None or rng.random() < 0.05:
            helper = self.member(ch, w0, [asker])
            if helper is not None and rng.random() < 0.7:
                say(helper, _HEDGES_NO_MENTION, 20 * MINUTE)
            self.crowd(root, ch, ("+1", "eyes"), 0.6)
            return Thread(ch.idx, root, replies)
        base["expert"] = self.name(expert)
        if rng.random() < 0.2:
            other = self.member(ch, w0, [asker, expert])
            if other is not None:
                say(other, v.BYSTANDERS if rng.random() < 0.6 else _NO_MENTION, 10 * MINUTE)
        helpful = say(expert, v.TASK_ANSWERS if how_to else v.SYMPTOM_ANSWERS, 14 * MINUTE, answer=True)
        thanked = False
        outcome = rng.random()
        if outcome < 0.55:
            say(asker, v.THANKS, 20 * MINUTE)
            thanked = True
            if rng.random() < 0.25:
                say(expert, v.EXPERT_CLOSERS, 10 * MINUTE)
        elif outcome < 0.8:
            say(asker, v.STILL_BROKEN, 25 * MINUTE)
            second = self.expert(topic, ch, w, [asker]) if rng.random() < 0.5 else expert
            second = expert if second is None else second
            base.update(self._fact(topic, k + 1 + rng.randrange(max(1, len(topic.fixes) - 1))), expert=self.name(second))
            helpful = say(second, v.SECOND_ANSWERS, 15 * MINUTE, answer=True)
            if rng.random() < 0.7:
                say(asker, v.THANKS if rng.random() < 0.8 else _THANKS_NO_MENTION, 20 * MINUTE)
                thanked = True
        else:
            question, answer = rng.choice(v.CLARIFY)
            slots = self.slots(ch, w, topic, base)
            say(asker, (question.format_map(slots),), 15 * MINUTE)
            say(expert, (answer.format_map(slots),), 12 * MINUTE, answer=True)
        if rng.random() < 0.2:
            other = self.member(ch, w, [asker])
            if other is not None:
                say(other, v.CLOSERS, 60 * MINUTE)
        if thanked and rng.random() < 0.75:
            self.react(helpful, asker, "white_check_mark", 4 * MINUTE)
        self.crowd(helpful, ch, ("+1", "+1", "+1", "bulb", "heart", "raised_hands"), 1.2)
        self.crowd(root, ch, ("+1", "eyes"), 0.4)
        if rng.random() < 0.15:
            self.react(root, expert, "eyes", 3 * MINUTE)
        return Thread(ch.idx, root, replies)

    def _tip(self, w0: float) -> Thread | None:
        rng, topic = self.rng, self.topic()
        area = self.world.areas[topic.area]
        ch = self.world.channels[area.core if area.core >= 0 and rng.random() < 0.2 else area.channel]
        author = self.expert(topic, ch, w0)
        if author is None:
            return None
        base = {"author": self.name(author), **self._fact(topic, rng.randrange(len(topic.fixes)))}
        root = Msg(author, rng.choice(v.TIPS).format_map(self.slots(ch, w0, topic, base)), w0, topic.idx)
        replies: list[Msg] = []
        w = w0
        for _ in range(min(3, int(rng.expovariate(0.9)))):
            other = self.member(ch, w, [author, *(m.user for m in replies)])
            if other is None:
                break
            w = self.after(w, 30 * MINUTE)
            if rng.random() < 0.3:
                question, answer = rng.choice(v.CLARIFY)
                slots = self.slots(ch, w, topic, base)
                replies.append(Msg(other, question.format_map(slots), w))
                w = self.after(w, 15 * MINUTE)
                replies.append(Msg(author, answer.format_map(slots), w, topic.idx))
            else:
                replies.append(Msg(other, rng.choice(v.TIP_REPLIES).format_map(self.slots(ch, w, topic, base)), w))
        self.crowd(root, ch, ("bulb", "+1", "heart", "raised_hands"), 2.0)
        return Thread(ch.idx, root, replies)

    def _incident(self, w0: float) -> Thread | None:
        rng, world = self.rng, self.world
        team = world.teams[pick(rng, self.team_cum)]
        oncall = [a for a in team.areas if world.areas[a].oncall]
        if team.incident < 0 or not oncall:
            return None
        area = world.areas[rng.choice(oncall)]
        topic = world.topics[area.topics[pick(rng, area.topic_cum)]]
        ch = world.channels[team.incident]
        author = self.expert(topic, ch, w0) if rng.random() < 0.85 else None  # owners write their postmortems
        author = author if author is not None else self.member(ch, w0, asking=True)
        if author is None:
            return None
        base = self._fact(topic, rng.randrange(len(topic.fixes)))
        root = Msg(author, rng.choice(v.INCIDENTS).format_map(self.slots(ch, w0, topic, base)), w0)
        replies: list[Msg] = []
        w = w0
        for _ in range(rng.randint(1, 4)):
            w = self.after(w, 40 * MINUTE)
            expert = self.expert(topic, ch, w) if rng.random() < 0.65 else None
            if expert is not None:
                base.update(self._fact(topic, rng.randrange(len(topic.fixes))))
                text = rng.choice(v.INCIDENT_EXPERT).format_map(self.slots(ch, w, topic, base))
                replies.append(Msg(expert, text, w, topic.idx))
                self.crowd(replies[-1], ch, ("+1", "white_check_mark"), 0.8)
            else:
                other = self.member(ch, w)
                if other is not None:
                    replies.append(Msg(other, rng.choice(v.INCIDENT_OTHERS), w))
        return Thread(ch.idx, root, replies)

    def _simple(self, ch: Channel, w0: float, pairs: Sequence[tuple[str, Sequence[str]]], mean_replies: float,
                emojis: Sequence[str], rate: float, area: Area | None = None) -> Thread | None:
        """Chat without a topic (banter, announcements, team logistics); each opener has replies that fit it."""
        rng = self.rng
        author = self.member(ch, w0)
        if author is None:
            return None
        base = {"author": self.name(author)}
        opener, answers = rng.choice(pairs)
        root = Msg(author, opener.format_map(self.slots(ch, w0, None, base, area)), w0)
        replies: list[Msg] = []
        w = w0
        n = min(len(answers), int(rng.expovariate(1.0 / mean_replies)))
        for answer in rng.sample(answers, n):  # different people, different words
            w = self.after(w, 8 * MINUTE)
            other = self.member(ch, w, [author, *(m.user for m in replies)])
            if other is not None:
                replies.append(Msg(other, answer.format_map(self.slots(ch, w, None, base, area)), w))
        self.crowd(root, ch, emojis, rate)
        return Thread(ch.idx, root, replies)

    def _banter(self, w0: float) -> Thread | None:
        team = self.world.teams[pick(self.rng, self.team_cum)]
        return self._simple(self.world.channels[team.random], w0, v.BANTER, 2.2,
                            ("joy", "laughing", "heart", "+1"), 1.5)

    def _announcement(self, w0: float) -> Thread | None:
        team = self.world.teams[pick(self.rng, self.team_cum)]
        return self._simple(self.world.channels[team.town], w0, _ANNOUNCEMENTS, 1.2,
                            ("tada", "heart", "+1", "raised_hands"), 3.0)

    def _chatter(self, w0: float) -> Thread | None:
        world, rng = self.world, self.rng
        area = world.areas[pick(rng, world.area_cum)]
        team = world.teams[area.team]
        channel = team.leads if team.leads >= 0 and rng.random() < 0.25 else area.channel
        return self._simple(world.channels[channel], w0, v.CHATTER, 0.8, ("+1", "eyes"), 0.6, area)

    def _bot(self, w0: float) -> Thread | None:
        world, rng = self.world, self.rng
        area = world.areas[pick(rng, world.area_cum)]
        ch = world.channels[area.channel]
        root = Msg(BOT, rng.choice(area.bot_lines).format_map(self.slots(ch, w0, None, {}, area)), w0)
        replies: list[Msg] = []
        if rng.random() < 0.12:
            other = self.member(ch, w0)
            if other is not None:
                replies.append(Msg(other, rng.choice(v.BOT_REPLIES), self.after(w0, 10 * MINUTE)))
        if rng.random() < 0.3:
            self.react(root, self.member(ch, w0), "eyes", 5 * MINUTE)
        return Thread(ch.idx, root, replies)
