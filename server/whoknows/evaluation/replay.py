"""The offline evaluation of ../shared/eval/PROTOCOL.md: replay a corpus in time order through the same
pipeline the live bot uses, answer each query with only the past, score whoknows beside the baselines."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..adapters.bulk_export import read_export
from ..core.conversation import Conversation
from ..core.database import Database
from ..errors import UserError
from .. import messages
from ..core.cards import expert_evidence
from ..core.engine import Engine, Ranking
from ..core.events import Event, PostCreated, ReactionAdded, TeamUpdated
from ..core.pipeline import Pipeline
from ..core.ranking import Weights
from ..core.index import IndexServer, PostIndex, open_index
from ..errors import UserError
from .baselines import combmnz, popularity, recent
from .metrics import QueryScore, score_query, summarize

METHODS = ("whoknows", "popularity", "combmnz", "recent")
EVIDENCE_PEOPLE = 5
"""The evidence measure reads the cards of this many people per query (protocol, section 8)."""
KINDS = ("question", "topic")
ANSWER_SIZE = 10


@dataclass(frozen=True, slots=True)
class Query:
    id: str
    kind: str
    text: str
    at: int
    asker: str | None
    team: str | None
    channel: str | None
    relevant: frozenset[str]


def read_queries(path: Path) -> list[Query]:
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    out: list[Query] = []
    with path.open("rb") as fh:
        for line_no, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8")
                if not line.strip():
                    continue
                o = json.loads(line)
                if not isinstance(o, dict):
                    raise ValueError("not an object")
                kind = o["kind"]
                if kind not in KINDS:
                    raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
                asker = o.get("asker")
                relevant = o["relevant"]
                if not isinstance(relevant, list) or not all(isinstance(r, str) for r in relevant):
                    raise ValueError("relevant must be a list of usernames")
                if not isinstance(o["at"], int) or not isinstance(o["text"], str):
                    raise ValueError("at must be an integer and text a string")
                out.append(Query(str(o["id"]), kind, o["text"], o["at"], asker if isinstance(asker, str) else None,
                                 o.get("team"), o.get("channel"), frozenset(relevant)))
            except (ValueError, KeyError, TypeError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
                raise UserError(f"{path} line {line_no}: not a query ({exc})") from exc
    out.sort(key=lambda q: (q.at, q.id))
    return out


def event_time(event: Event) -> int:
    return event.create_at if isinstance(event, (PostCreated, ReactionAdded)) else 0


def load_corpus(path: Path) -> tuple[list[Event], list[Event]]:
    """(timeless facts: teams, channels, people, memberships; timed events sorted by time)."""
    facts: list[Event] = []
    timed: list[Event] = []
    for _, events in read_export(path):
        for e in events:
            (timed if isinstance(e, (PostCreated, ReactionAdded)) else facts).append(e)
    timed.sort(key=event_time)  # stable: a reply keeps its place after its root at equal times
    return facts, timed


Answerer = Callable[[Query], list[str]]


def evaluate(corpus: Path, queries_path: Path, *, weights: Weights = Weights(), progress: Callable[[str], None] | None = None,
             index_engine: str = "whoosh", index_server: IndexServer | None = None, store: Database | None = None) -> dict[str, Any]:
    """`_replay` on a new index in RAM (OpenSearch: an index of its own in `index_server`, dropped at the end) and a
    conversation store in memory, or in `store` (PostgreSQL: the production store's engine), which must be empty."""
    index = open_index(index_engine, server=index_server)
    conversation = Conversation(store) if store is not None else Conversation()
    try:
        if conversation.post_count():
            raise UserError(messages.eval_store_not_empty(conversation.db.name))
        return _replay(corpus, queries_path, index, conversation, weights=weights, progress=progress)
    finally:
        conversation.close()
        index.close()


def _replay(corpus: Path, queries_path: Path, index: PostIndex, conversation: Conversation, *, weights: Weights,
            progress: Callable[[str], None] | None) -> dict[str, Any]:
    started = time.monotonic()
    facts, timed = load_corpus(corpus)
    queries = read_queries(queries_path)
    pipeline = Pipeline(conversation, index, batch_size=10**9)
    pipeline.apply(facts)
    engine = Engine(conversation, index, weights)

    def usernames(user_ids: list[str]) -> list[str]:
        people = conversation.people(user_ids)
        return [people[u].username for u in user_ids]

    evidence: dict[str, list[int]] = {k: [0, 0] for k in KINDS}  # kind -> [items, on topic]

    def answer_whoknows(q: Query) -> list[str]:
        exclude = _asker_ids(conversation, q)
        # A question was posted in a channel (the inline suggestion's case); a topic is asked for a card.
        channel = conversation.channel_named(q.team, q.channel) if q.kind == "question" and q.team and q.channel else None
        ranking = engine.ask(q.text, now=q.at, exclude=exclude, asker=exclude[0] if exclude else None, channel=channel, limit=ANSWER_SIZE)
        items, on_topic = evidence_on_topic(ranking, index)
        evidence[q.kind][0] += items
        evidence[q.kind][1] += on_topic
        return [e.person.username for e in ranking.experts]

    def answer_popularity(q: Query) -> list[str]:
        return usernames(popularity(conversation, exclude=_asker_ids(conversation, q), limit=ANSWER_SIZE))

    def answer_combmnz(q: Query) -> list[str]:
        return usernames(combmnz(conversation, index, q.text, exclude=_asker_ids(conversation, q), limit=ANSWER_SIZE))

    def answer_recent(q: Query) -> list[str]:
        return usernames(recent(conversation, q.at, exclude=_asker_ids(conversation, q), limit=ANSWER_SIZE))

    answerers: dict[str, Answerer] = {
        "whoknows": answer_whoknows, "popularity": answer_popularity, "combmnz": answer_combmnz, "recent": answer_recent,
    }
    scores: dict[str, dict[str, list[QueryScore]]] = {k: {m: [] for m in METHODS} for k in KINDS}
    answerable: dict[str, list[bool]] = {k: [] for k in KINDS}
    cursor = 0
    for n, q in enumerate(queries, start=1):
        end = cursor
        while end < len(timed) and event_time(timed[end]) < q.at:
            end += 1
        if end > cursor:
            pipeline.apply(timed[cursor:end])
            cursor = end
        pipeline.flush()
        counts = conversation.activity([conversation.user_by_name(r) or r for r in q.relevant], q.at)
        answerable[q.kind].append(any(a.posts > 0 for a in counts.values()))
        for method, answer in answerers.items():
            scores[q.kind][method].append(score_query(answer(q)[:ANSWER_SIZE], q.relevant))
        if progress and n % 25 == 0:
            progress(f"{n}/{len(queries)} queries, {cursor} events replayed")
    by_kind: dict[str, Any] = {}
    for kind in KINDS:
        if not answerable[kind]:
            continue
        by_kind[kind] = {
            "queries": len(answerable[kind]),
            "answerable": sum(answerable[kind]),
            "methods": {m: summarize(scores[kind][m], answerable[kind]) for m in METHODS},
            "evidence": {"items": evidence[kind][0], "on_topic": round(evidence[kind][1] / evidence[kind][0], 4) if evidence[kind][0] else 0.0},
        }
    corpus_name = _corpus_name(facts, corpus)
    if progress:
        progress(f"replayed {len(timed)} events and answered {len(queries)} queries in {time.monotonic() - started:.1f} s")
    return {"corpus": corpus_name, "queries": len(queries), "by_kind": by_kind}


def evidence_on_topic(ranking: Ranking, index: PostIndex) -> tuple[int, int]:
    """(evidence items on the cards of the top people, how many show one of the query's key terms)."""
    wanted = set(ranking.topic.terms)
    items = on_topic = 0
    for expert in ranking.experts[:EVIDENCE_PEOPLE]:
        for shown in expert_evidence(expert, ranking):
            items += 1
            text = shown.snippet.text + (" " + shown.title.text if shown.title else "")
            on_topic += bool(wanted.intersection(index.terms(text)))
    return items, on_topic


def _asker_ids(conversation: Conversation, q: Query) -> list[str]:
    return [conversation.user_by_name(q.asker) or q.asker] if q.asker else []


def _corpus_name(facts: list[Event], path: Path) -> str:
    teams = [e.name for e in facts if isinstance(e, TeamUpdated)]
    return teams[0] if len(teams) == 1 else path.name.split(".")[0]


def summary_lines(result: dict[str, Any]) -> Iterator[str]:
    yield f"corpus {result['corpus']}: {result['queries']} queries"
    for kind, block in result["by_kind"].items():
        ev = block["evidence"]
        yield f"  {kind}: {block['queries']} queries, {block['answerable']} answerable; evidence {ev['items']} items, {ev['on_topic']:.3f} on topic"
        for method, m in block["methods"].items():
            yield f"    {method:<11} MRR {m['mrr']:.3f} [{m['mrr_ci'][0]:.3f}, {m['mrr_ci'][1]:.3f}]  P@1 {m['p1']:.3f}  Hit@5 {m['hit5']:.3f}  nDCG@5 {m['ndcg5']:.3f}"
