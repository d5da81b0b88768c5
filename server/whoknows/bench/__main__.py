"""`python -m whoknows.bench --scale 100k --out var/bench`: generate (cached), import through the real
path, time the slash command, the inline suggestion and live ingestion, compare with the raw engine and
with tantivy and SQLite FTS5, then write result-<scale>.json and print a markdown table."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import os
import shutil
import time
import dataclasses
from functools import partial
from pathlib import Path
from typing import Any

from ..app.commands import UseCases
from ..app.digests import Digests
from ..app.learning import Learning
from ..app.ports import Presence
from ..clock import fixed_clock, wall_clock
from ..core.index import DEFAULT_ENGINE, ENGINES, IndexServer, engine_folder, entry
from ..service.importer import import_export
from ..service.offline import offline_services, offline_settings
from ..storage.store import STATE_FILE, open_store, server_from_env
from .failover import failover
from .live import live_traffic
from .production import production_permissions
from .references import build_references, time_queries
from .report import markdown, verdicts
from .scenarios import Asked, callers, inline_suggestion, raw_search, retrievals, slash_command
from .timing import Latencies, peak_rss_mb
from .workspace import cached_workspace, label, parse_scale

SITE_URL = "http://localhost:8065"
BENCH_ENV = {"WHOKNOWS_MATTERMOST_URL": SITE_URL, "WHOKNOWS_HIGH_TRAFFIC_POSTS_PER_DAY": "1000000000"}
"""plugin.json's defaults, except that no channel is too busy: every question takes the whole suggestion path."""


FAILOVER_STORE = "WHOKNOWS_BENCH_STORE_URL"
"""With a shared index (OpenSearch): the PostgreSQL database the fail-over scenario copies the store into."""


def _no_server() -> IndexServer:
    raise SystemExit("the opensearch engine needs WHOKNOWS_OPEN_SEARCH_URL")


def _folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _ratio(a: float, b: float) -> float:
    return round(a / b, 2) if b else 0.0


async def _time_requests(app: UseCases, topics: list[Asked], questions: list[Asked], rounds: int,
                         now: int) -> tuple[Latencies, Latencies, int]:
    """Each request through the service's own entry, on one event loop, as the service runs them."""
    command, suggestion, suggested = Latencies(), Latencies(), 0
    for a in topics:  # warm-up: templates, the OS page cache (the permission cache fills and expires as in production)
        await slash_command(app, a)
    for _ in range(rounds):
        for a in topics:
            started = time.perf_counter()
            await slash_command(app, a)
            command.samples.append(time.perf_counter() - started)
        for a in questions:
            suggested += suggestion.time(partial(inline_suggestion, app.services, a, now=now)) is not None
    return command, suggestion, suggested


def run(posts: int, out: Path, seed: int, rounds: int, max_queries: int, live_seconds: float, references: bool, reuse: bool,
        engine: str = DEFAULT_ENGINE) -> dict[str, Any]:
    ws = cached_workspace(out, posts, seed)
    summary = ws.summary
    data = out / f"data-{label(posts)}-seed{seed}" if engine == "whoosh" else out / f"data-{label(posts)}-seed{seed}-{engine}"
    result: dict[str, Any] = {"posts": summary.posts, "seed": seed, "cpus": os.cpu_count(), "rounds": rounds, "engine": engine,
                              "generate_seconds": round(ws.generate_seconds, 1)}
    imported = data / "import.json"
    if reuse and imported.is_file():
        result["import"] = json.loads(imported.read_text(encoding="utf-8"))
    else:
        shutil.rmtree(data, ignore_errors=True)
        with open_store(data, engine=engine) as store:
            report = import_export(store.pipeline, ws.path)
        added = report.applied.posts_added
        result["import"] = {"posts": added, "lines": report.lines, "seconds": round(report.seconds, 1),
                            "posts_per_s": round(added / report.seconds)}
    with open_store(data, create=False, engine=engine) as store:
        stats = store.index.stats()
        result["import"].update(index_bytes=_folder_bytes(data / engine_folder(engine)), segments=stats.segments,
                                sqlite_bytes=sum(p.stat().st_size for p in data.glob(STATE_FILE + "*")))
        imported.write_text(json.dumps(result["import"]), encoding="utf-8")
        result["rss_after_import_mb"] = peak_rss_mb()
        now = summary.last_at + 60_000
        who = callers(store, 50, seed)
        topics = [Asked(p, who[i % len(who)], "") for i, p in enumerate(summary.phrases)]
        questions = [Asked(q, who[(i * 7) % len(who)], store.conversation.channel_named(t.team, t.channel) or "") for i, (t, q) in
                     enumerate((t, q) for t in summary.topics for q in t.queries)]
        sampler = random.Random(seed)
        topics = sampler.sample(topics, min(max_queries, len(topics)))
        questions = sampler.sample(questions, min(max_queries, len(questions)))
        settings = offline_settings(BENCH_ENV)
        presence = Presence(callback_url="http://127.0.0.1:8077")
        permissions = production_permissions(store, presence, settings.readable_cache_seconds, wall_clock)
        svc = dataclasses.replace(offline_services(store, fixed_clock(now), settings=settings, permissions=permissions),
                                  presence=presence)
        learning = Learning(svc)
        app = UseCases(svc, learning, Digests(svc, learning))
        command, suggestion, suggested = asyncio.run(_time_requests(app, topics, questions, rounds, now))
        result["command"], result["suggestion"] = command.figures(), suggestion.figures()
        result["suggested"] = f"{suggested // rounds}/{len(questions)}"

        raw_topics, raw_questions = retrievals(store, topics, command=True), retrievals(store, questions, command=False)
        raw_c, raw_s = Latencies(), Latencies()
        for _ in range(rounds):
            for r in raw_topics:
                raw_c.time(partial(raw_search, store, r))
            for r in raw_questions:
                raw_s.time(partial(raw_search, store, r))
        result["raw_command"], result["raw_suggestion"] = raw_c.figures(), raw_s.figures()
        result["limit"] = store.engine.weights.retrieve
        result["command_overhead_ratio"] = _ratio(command.figures()["p95_ms"], raw_c.figures()["p95_ms"])
        result["suggestion_overhead_ratio"] = _ratio(suggestion.figures()["p95_ms"], raw_s.figures()["p95_ms"])

        texts = [a.text for a in questions]
        channels = sorted(store.conversation.readable_channels(None))
        targets = [r[0] for r in store.conversation.db.execute("SELECT post_id FROM posts ORDER BY create_at DESC LIMIT 5000")]
        moving = dataclasses.replace(svc, clock=lambda: now + (wall_clock() - started))
        started = wall_clock()
        live = asyncio.run(live_traffic(UseCases(moving, learning, Digests(moving, learning)), topics, texts, channels, who, targets,
                                        start_at=now, seconds=live_seconds, seed=seed, nonce=wall_clock() // 1000))
        svc.state.close()
        result["live"] = {"posts_per_s": 100, "reactions_per_s": 100, "seconds": live_seconds, "lag": live.lag.figures(),
                          "missing": live.missing, "posts": live.posts, "reactions": live.reactions,
                          "idle": live.idle.figures(), "loaded": live.loaded.figures(),
                          "loaded_ratio": _ratio(live.loaded.figures()["p95_ms"], live.idle.figures()["p95_ms"])}
    if entry(engine).shared:  # replicas share this index: how fast a follower takes over from a dead leader
        store_url = os.environ.get(FAILOVER_STORE, "").strip()
        if store_url:
            result["failover"] = failover(data / STATE_FILE, store_url, out / "failover", engine, server_from_env(os.environ) or _no_server())
        else:
            result["failover_skipped"] = f"set {FAILOVER_STORE} to a PostgreSQL database the bench may make a schema in"
    result["rss_before_references_mb"] = peak_rss_mb()
    if references:
        build, engines = build_references(ws.path, out / f"refs-{label(posts)}-seed{seed}")
        refs: dict[str, Any] = {"analyse_seconds": round(build.analyse_seconds, 1), "posts": build.posts, "engines": {}}
        for name, reference in engines.items():
            refs["engines"][name] = {
                "build_seconds": round(build.seconds[name], 1),
                "size_bytes": build.size_bytes[name],
                "topics": time_queries(reference, raw_topics, result["limit"], rounds).figures(),
                "questions": time_queries(reference, raw_questions, result["limit"], rounds).figures(),
            }
            reference.close()
        result["references"] = refs
        tantivy = refs["engines"].get("tantivy")
        if tantivy and tantivy["build_seconds"]:
            result["import_share_of_reference"] = _ratio(result["import"]["posts_per_s"], build.posts / tantivy["build_seconds"])
    # The targets judge whoknows' own process: the reference indexes are not part of it.
    result["peak_rss_mb"] = result["rss_before_references_mb"]
    result["peak_rss_with_references_mb"] = peak_rss_mb()
    result["targets"] = verdicts(result)
    return result


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m whoknows.bench", description=__doc__)
    ap.add_argument("--scale", default="100k", help="posts: 100k, 1M, ... (default 100k)")
    ap.add_argument("--out", type=Path, default=Path("var/bench"), help="cache and result folder")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=2, help="timed passes over the queries")
    ap.add_argument("--max-queries", type=int, default=200, help="topics and questions sampled from the summary (each)")
    ap.add_argument("--live-seconds", type=float, default=30.0, help="how long posts are fed at 100/s")
    ap.add_argument("--no-references", action="store_true", help="skip tantivy and SQLite FTS5")
    ap.add_argument("--reuse-index", action="store_true", help="keep an earlier import of the same scale and seed")
    ap.add_argument("--engine", choices=ENGINES, default="whoosh", help="the text index engine (default whoosh)")
    args = ap.parse_args(argv)
    try:
        posts = parse_scale(args.scale)
    except ValueError as error:
        ap.error(str(error))
    result = run(posts, args.out, args.seed, args.rounds, args.max_queries, args.live_seconds, not args.no_references, args.reuse_index,
                 args.engine)
    path = args.out / f"result-{label(posts)}{'' if args.engine == 'whoosh' else '-' + args.engine}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(markdown(result))
    print(f"\n(written to {path})")


if __name__ == "__main__":
    main()
