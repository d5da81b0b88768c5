"""The cast and the stage of a generated workspace: teams, areas, topics, people, channels, time.

Everything here is decided up front from one seeded RNG and stays small (it grows with
people and topics, never with posts), so the posts themselves can be streamed.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from .aspects import ASPECTS
from .sampling import cumulative, pick, zipf
from .timeline import Timeline
from .topics_product import BASE_AREAS
from .vocabulary import (
    CODAS, COMPONENTS, FIRST_NAMES, GENERALIST_ROLES, GENERIC_BOT_LINES, LAST_NAMES, ONSETS, QUERY_FRAMES,
    TEAM_NAMES, VOWELS, AreaSpec, AspectSpec, Fact, TopicSpec,
)

EXPERT_WEIGHTS = (1.0, 0.5, 0.25, 0.12)


@dataclass(slots=True)
class Person:
    idx: int
    username: str
    first: str
    last: str
    position: str
    team: int
    area: int  # -1 for generalists (managers, designers, ...)
    activity: float
    delete_w: float = -1.0  # working time of deactivation; -1 while active
    teams: list[int] = field(default_factory=list)
    channels: list[int] = field(default_factory=list)
    expert_of: int = 0


@dataclass(slots=True)
class Channel:
    idx: int
    team: int
    name: str
    display: str
    private: bool
    purpose: str
    header: str
    area: int = -1
    members: list[int] = field(default_factory=list)
    member_set: set[int] = field(default_factory=set)
    cum: list[float] = field(default_factory=list)
    ask_cum: list[float] = field(default_factory=list)
    """Who opens a question here: mostly the channel's own area, and rarely its experts."""


@dataclass(slots=True)
class Topic:
    idx: int
    phrase: str
    area: int
    terms: tuple[str, ...]
    tasks: tuple[str, ...]
    symptoms: tuple[str, ...]
    causes: tuple[str, ...]
    fixes: tuple[str, ...]
    snippets: tuple[str, ...]
    tags: tuple[str, ...]
    queries: tuple[str, ...]
    ticket: str
    term_cum: list[float] = field(default_factory=list)
    experts: list[int] = field(default_factory=list)
    expert_cum: list[float] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Area:
    idx: int
    key: str
    team: int
    display: str
    purpose: str
    header: str
    roles: tuple[str, ...]
    ticket: str
    oncall: bool
    services: tuple[str, ...]
    bot_lines: tuple[str, ...]
    channel: int = -1
    core: int = -1
    topics: list[int] = field(default_factory=list)
    topic_cum: list[float] = field(default_factory=list)
    members: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Team:
    idx: int
    name: str
    display: str
    town: int = -1
    random: int = -1
    help: int = -1
    incident: int = -1
    leads: int = -1
    areas: list[int] = field(default_factory=list)
    members: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Scale:
    """The knobs a preset turns: how much, how many, how unequal."""

    posts: int
    people: int
    days: int
    teams: int
    pareto_alpha: float
    synthetic_areas: int
    generalist_share: float


class World:
    """Builds the cast deterministically from `rng`; see the module docstring."""

    def __init__(self, rng: random.Random, scale: Scale, end_ms: int, demo: bool) -> None:
        self.rng, self.scale, self.demo = rng, scale, demo
        self.timeline = Timeline(end_ms, scale.days)
        self.teams = [Team(i, name, name.capitalize()) for i, name in enumerate(TEAM_NAMES[: scale.teams])]
        self.areas: list[Area] = []
        self.topics: list[Topic] = []
        self.people: list[Person] = []
        self.channels: list[Channel] = []
        for spec in BASE_AREAS:
            self._add_base_area(spec)
        # Invented service names must not collide with a channel or with a hand-written topic's words.
        self._taken = {"town", "square", "random", "ask", "anything", "incident", "review", "leads"}
        self._taken.update(w for t in self.topics for term in (*t.terms, *t.tags, t.phrase) for w in term.split())
        self._taken.update(a.key for a in self.areas)
        for _ in range(scale.synthetic_areas):
            self._add_synthetic_area()
        self._add_people()
        self._choose_experts()
        self._deactivate()
        self._add_channels()
        self._join_channels()
        weights = zipf(len(self.areas), 0.3 if demo else 0.7)
        if not demo:
            rng.shuffle(weights)
        self.area_cum = cumulative(weights)
        self.bot = "deploybot"
        owner_area = self.areas[0]
        self.bot_owner = self.people[self.topics[owner_area.topics[0]].experts[0]].username

    # -- areas and topics --------------------------------------------------------------------------

    def _new_area(self, key: str, team: int, display: str, purpose: str, header: str, roles: tuple[str, ...],
                  ticket: str, oncall: bool, services: tuple[str, ...], bot_lines: tuple[str, ...]) -> Area:
        area = Area(len(self.areas), key, team, display, purpose, header, roles, ticket, oncall, services, bot_lines)
        self.areas.append(area)
        self.teams[team].areas.append(area.idx)
        return area

    def _new_topic(self, area: Area, spec: TopicSpec) -> None:
        facts = spec.facts
        topic = Topic(len(self.topics), spec.phrase, area.idx, spec.terms, tuple(f.task for f in facts),
                      tuple(f.symptom for f in facts), tuple(f.cause for f in facts), tuple(f.fix for f in facts),
                      spec.snippets, spec.tags, spec.queries, area.ticket)
        topic.term_cum = cumulative(zipf(len(spec.terms), 1.0))
        self.topics.append(topic)
        area.topics.append(topic.idx)

    def _add_base_area(self, spec: AreaSpec) -> None:
        area = self._new_area(spec.key, 0, spec.display, spec.purpose, spec.header, spec.roles, spec.ticket,
                              spec.oncall, spec.services, spec.bot_lines)
        for topic in spec.topics:
            self._new_topic(area, topic)
        area.topic_cum = cumulative(zipf(len(area.topics), 0.9))

    def _service_name(self, taken: set[str]) -> str:
        rng = self.rng
        while True:
            name = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(2)) + rng.choice(CODAS)
            if 4 <= len(name) <= 9 and name not in taken:
                taken.add(name)
                return name

    def _add_synthetic_area(self) -> None:
        rng = self.rng
        svc = self._service_name(self._taken)
        n = len(self.areas) - len(BASE_AREAS)
        # Team 0 already holds the hand-written areas, so it gets only every fourth invented one.
        team = 0 if len(self.teams) == 1 or n % 4 == 0 else 1 + n % (len(self.teams) - 1)
        comps = tuple(f"{svc}-{c}" for c in rng.sample(COMPONENTS, 3))
        area = self._new_area(svc, team, svc.capitalize(), f"Everything about the {svc} service", f"{svc} runbooks are pinned.",
                              (f"{svc.capitalize()} engineer", "Backend engineer", "Senior engineer"), svc[:3].upper(),
                              rng.random() < 0.35, comps, GENERIC_BOT_LINES)
        for aspect in rng.sample(ASPECTS, 5):
            self._new_topic(area, self._aspect_topic(svc, comps, aspect))
        area.topic_cum = cumulative(zipf(len(area.topics), 0.9))

    def _aspect_topic(self, svc: str, comps: tuple[str, ...], aspect: AspectSpec) -> TopicSpec:
        rng = self.rng

        def fill(text: str, comp: str) -> str:
            return text.format(svc=svc, comp=comp)

        facts = []
        for f in aspect.facts:
            comp = rng.choice(comps)  # one component per story, so its question and answer agree
            facts.append(Fact(fill(f.task, comp), fill(f.symptom, comp), fill(f.cause, comp), fill(f.fix, comp)))
        queries = tuple(frame.format(task=rng.choice(facts).task, Symptom=_cap(rng.choice(facts).symptom))
                        for frame in rng.sample(QUERY_FRAMES, len(QUERY_FRAMES)))
        return TopicSpec(
            phrase=f"{svc} {aspect.phrase}", terms=(svc, comps[0], *aspect.terms, *comps[1:]), facts=tuple(facts),
            snippets=tuple(fill(t, comps[0]) for t in aspect.snippets), tags=(svc, aspect.tag), queries=queries,
        )

    # -- people ------------------------------------------------------------------------------------

    def _add_people(self) -> None:
        rng, scale = self.rng, self.scale
        names = self._names(scale.people)
        n_general = max(1, round(scale.people * scale.generalist_share))
        per_area = min(3, max(1, (scale.people - n_general) // len(self.areas)))
        homes = [a.idx for a in self.areas for _ in range(per_area)]
        sizes = cumulative([rng.lognormvariate(0.0, 0.5) for _ in self.areas])
        while len(homes) < scale.people - n_general:
            homes.append(pick(rng, sizes))
        homes += [-1] * (scale.people - len(homes))
        rng.shuffle(homes)
        for i, home in enumerate(homes):
            first, last, username = names[i]
            if home >= 0:
                area = self.areas[home]
                team, position = area.team, rng.choice(area.roles)
            else:
                team, position = rng.randrange(len(self.teams)), rng.choice(GENERALIST_ROLES)
            activity = min(rng.paretovariate(scale.pareto_alpha), 12.0 if self.demo else 60.0)
            person = Person(i, username, first, last, position, team, home, activity)
            person.teams.append(team)
            if not self.demo and len(self.teams) > 1 and rng.random() < 0.05:
                person.teams.append((team + 1 + rng.randrange(len(self.teams) - 1)) % len(self.teams))
            self.people.append(person)
            for t in person.teams:
                self.teams[t].members.append(i)
            if home >= 0:
                self.areas[home].members.append(i)

    def _names(self, n: int) -> list[tuple[str, str, str]]:
        """Distinct first names while they last (easier to follow in the demo), then any unused pair."""
        rng = self.rng
        firsts = list(FIRST_NAMES)
        rng.shuffle(firsts)
        taken: set[str] = set()
        out = []
        for i in range(n):
            first, last = (firsts[i], rng.choice(LAST_NAMES)) if i < len(firsts) else (rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES))
            username = f"{first}.{last}"
            for _ in range(20):
                if username not in taken:
                    break
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                username = f"{first}.{last}"
            else:
                username = f"{first}.{last}{i}"
            taken.add(username)
            out.append((first.capitalize(), last.capitalize(), username))
        return out

    def _choose_experts(self) -> None:
        rng = self.rng
        for topic in self.topics:
            area = self.areas[topic.area]
            wanted = 3 if self.demo and topic.idx == self.areas[2].topics[0] else rng.randint(2, 3 if self.demo else 4)
            pool = list(area.members) or list(self.teams[area.team].members)
            chosen: list[int] = []
            while pool and len(chosen) < wanted:
                weights = cumulative([math.sqrt(self.people[p].activity) * 0.35 ** self.people[p].expert_of for p in pool])
                person = pool.pop(pick(rng, weights))
                chosen.append(person)
                self.people[person].expert_of += 1
            topic.experts = chosen
            topic.expert_cum = cumulative(list(EXPERT_WEIGHTS[: len(chosen)]))
            topic.answers = [0] * len(chosen)

    def _deactivate(self) -> None:
        """A few people have left: their history stays, they post nothing after leaving."""
        rng, total = self.rng, self.timeline.total
        if self.demo:  # the person who knew the iOS build best left halfway through
            ios = self.topics[self.areas[2].topics[0]]
            if len(ios.experts) > 1:
                self.people[ios.experts[0]].delete_w = 0.55 * total
            return
        for _ in range(max(1, round(0.02 * len(self.people)))):
            person = self.people[rng.randrange(len(self.people))]
            mine = [t for t in self.topics if person.idx in t.experts]
            if person.delete_w < 0 and all(self._active_experts(t) > 1 for t in mine):
                person.delete_w = rng.uniform(0.35, 0.9) * total

    def _active_experts(self, topic: Topic) -> int:
        return sum(1 for p in topic.experts if self.people[p].delete_w < 0)

    # -- channels ----------------------------------------------------------------------------------

    def _channel(self, team: int, name: str, display: str, private: bool, purpose: str, header: str = "") -> int:
        self.channels.append(Channel(len(self.channels), team, name, display, private, purpose, header))
        return len(self.channels) - 1

    def _add_channels(self) -> None:
        rng = self.rng
        for team in self.teams:
            team.town = self._channel(team.idx, "town-square", "Town Square", False, "Announcements and everything else")
            team.random = self._channel(team.idx, "random", "Random", False, "Lunch, pets, weekend plans")
            if not self.demo:
                team.help = self._channel(team.idx, "ask-anything", "Ask Anything", False, "No question too small")
            for a in team.areas:
                area = self.areas[a]
                area.channel = self._channel(team.idx, area.key, area.display, False, area.purpose, area.header)
                self.channels[area.channel].area = a
                if not self.demo and len(area.members) >= 4 and rng.random() < 0.25:
                    area.core = self._channel(team.idx, f"{area.key}-core", f"{area.display} core", True,
                                              f"Internal discussion of the {area.display} group")
                    self.channels[area.core].area = a
            if any(self.areas[a].oncall for a in team.areas):
                team.incident = self._channel(team.idx, "incident-review", "Incident Review", True,
                                              "Postmortems and follow-ups, on-call only")
            if self.demo:
                team.leads = self._channel(team.idx, "leads", "Leads", True, "Team leads: planning and hiring")

    def _join(self, person: Person, channel: int) -> None:
        ch = self.channels[channel]
        if person.idx not in ch.member_set:
            ch.member_set.add(person.idx)
            ch.members.append(person.idx)
            person.channels.append(channel)

    def _join_channels(self) -> None:
        rng = self.rng
        expert_tops = {t.experts[i] for t in self.topics for i in range(min(2, len(t.experts)))}
        experts = {p for t in self.topics for p in t.experts}
        area_weights = {team.idx: cumulative([len(self.areas[a].members) + 1.0 for a in team.areas]) for team in self.teams}
        for person in self.people:
            home_team = self.teams[person.team]
            for t in person.teams:
                team = self.teams[t]
                self._join(person, team.town)
                if rng.random() < 0.88:
                    self._join(person, team.random)
                if team.help >= 0 and (person.idx in experts or rng.random() < 0.6):
                    self._join(person, team.help)
                extra = rng.randint(0, 2) if self.demo else min(4, int(rng.expovariate(0.8)))
                if t != person.team:
                    extra = 1
                elif person.area < 0:
                    extra += 2
                for _ in range(extra if team.areas else 0):
                    self._join(person, self.areas[team.areas[pick(rng, area_weights[t])]].channel)
            if person.area >= 0:
                area = self.areas[person.area]
                self._join(person, area.channel)
                if area.core >= 0 and (person.idx in experts or rng.random() < 0.7):
                    self._join(person, area.core)
            oncall = person.area >= 0 and self.areas[person.area].oncall
            if home_team.incident >= 0 and (
                (oncall and person.idx in expert_tops) or (person.area < 0 and rng.random() < 0.5) or rng.random() < 0.03
            ):
                self._join(person, home_team.incident)
        leads = {self.topics[a.topics[0]].experts[0] for a in self.areas}
        for person in self.people:
            home_team = self.teams[person.team]
            if home_team.leads >= 0 and (person.idx in leads or person.area < 0):
                self._join(person, home_team.leads)
        for ch in self.channels:
            team = self.teams[ch.team]
            while len(ch.members) < 3 and len(ch.members) < len(team.members):
                self._join(self.people[team.members[rng.randrange(len(team.members))]], ch.idx)
            ch.cum = cumulative([self.people[p].activity for p in ch.members])
            ch.ask_cum = cumulative([self._asking(self.people[p], ch) for p in ch.members])

    def _asking(self, person: Person, ch: Channel) -> float:
        """People ask mostly where they work, and experts ask less: their words stay in their field."""
        visiting = ch.area >= 0 and person.area != ch.area
        if not person.expert_of and not visiting:
            return person.activity
        return math.sqrt(person.activity) * (0.3 if person.expert_of else 1.0) * (0.15 if visiting else 1.0)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]
