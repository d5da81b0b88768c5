"""`python -m bench --scale 100k` (from tests/, or with tests/ on PYTHONPATH): `/whoknows` through a real Mattermost.

Starts the e2e harness's Mattermost on its own PostgreSQL database, imports the seeded bench workspace with
Mattermost's bulk import, lets the bot read the history (its backfill), then times `--commands` requests
through the server's command endpoint and the same requests in-process, and prints a markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from e2e.bootstrap import Api, bootstrap
from e2e.botfixture import grant_command_rights, settings_env
from e2e.mattermost import HarnessError
from whoknows.app.settings import load_from, manifest_path
from whoknows.bench.workspace import cached_workspace, label, parse_scale
from whoknows.service.runtime import Runtime

from .loaded import Imported, bulk_import, import_zip, prepare, running_server, workspace_people
from .table import markdown
from .timed import Timed, in_process, plan, through_mattermost

BACKFILL_TIMEOUT_S = 3600.0


@contextmanager
def _stopwatch(setup: dict[str, float], name: str) -> Iterator[None]:
    began = time.monotonic()
    yield
    setup[name] = round(time.monotonic() - began, 1)


async def _measure(imported: Imported, data: Path, topics: list[str], count: int, setup: dict[str, float]) -> dict[str, Any]:
    workspace = imported.workspace
    grant_command_rights(workspace)
    requests = plan(topics, imported.callers, count)
    warm_up = plan(topics, imported.callers, len(topics))
    runtime = Runtime(load_from(manifest_path(), settings_env(workspace)), data)
    began = time.monotonic()
    await runtime.start()
    try:
        await asyncio.wait_for(runtime.backfilled.wait(), BACKFILL_TIMEOUT_S)
        await runtime.drained(BACKFILL_TIMEOUT_S)
        setup["bot backfill"] = round(time.monotonic() - began, 1)
        posts_read = int(runtime.store.conversation.db.execute("SELECT count(*) FROM posts").fetchone()[0])
        through = await through_mattermost(workspace.url, imported.channel_id, requests, warm_up)
    finally:
        await runtime.stop()
    inside = await in_process(data, workspace.url, imported.channel_id, requests, warm_up)
    return {"posts_read": posts_read, "through": through, "inside": inside}


def _figures(timed: Timed) -> dict[str, Any]:
    return {**timed.latencies.figures(), "not_cards": timed.other}


def run(posts: int, out: Path, seed: int, count: int, callers: int) -> dict[str, Any]:
    setup: dict[str, float] = {}
    began = time.monotonic()
    with _stopwatch(setup, "workspace"):
        ws = cached_workspace(out, posts, seed)
        archive = import_zip(ws.path)
    summary = ws.summary
    run_dir, data = out / f"mattermost-{label(posts)}-seed{seed}", out / f"mattermost-{label(posts)}-seed{seed}-bot"
    shutil.rmtree(run_dir, ignore_errors=True)
    shutil.rmtree(data, ignore_errors=True)
    with running_server(run_dir) as server:
        setup["server start"] = round(time.monotonic() - began - setup["workspace"], 1)
        workspace = bootstrap(server.url)
        with _stopwatch(setup, "bulk import"), Api(server.url, workspace.admin.token) as admin:
            bulk_import(admin, archive)
        teams, people = workspace_people(ws.path, leave_out=(*summary.deactivated, *summary.bots))
        sampler = random.Random(seed)
        imported = prepare(server, workspace, sampler.sample(people, min(callers, len(people))), teams)
        topics = list(summary.phrases)
        sampler.shuffle(topics)
        measured = asyncio.run(_measure(imported, data, topics, count, setup))
    setup["total"] = round(time.monotonic() - began, 1)
    through, inside = measured["through"], measured["inside"]
    return {
        "posts": summary.posts, "posts_read": measured["posts_read"], "seed": seed, "callers": [c.username for c in imported.callers],
        "topics": len(topics), "through_mattermost": _figures(through), "in_process": _figures(inside),
        "cards": {"through_mattermost": through.cards, "in_process": inside.cards}, "setup_seconds": setup,
        "import": "Mattermost bulk import (REST upload + import_process job)",
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("--scale", default="100k", help="posts: 20k, 100k, ... (default 100k)")
    ap.add_argument("--out", type=Path, default=Path("var/bench"), help="cache and result folder (shared with `make bench`)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--commands", type=int, default=200, help="timed /whoknows commands (default 200)")
    ap.add_argument("--callers", type=int, default=8, help="people who run them, in turn (default 8)")
    ap.add_argument("--quiet", action="store_true", help="only warnings from the bot (not its backfill's progress)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        posts = parse_scale(args.scale)
    except ValueError as error:
        ap.error(str(error))
    try:
        result = run(posts, args.out.resolve(), args.seed, args.commands, args.callers)
    except HarnessError as error:
        sys.exit(f"bench-mattermost: {error}")
    path = args.out / f"result-mattermost-{label(posts)}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(markdown(result))
    print(f"\n(written to {path})")


if __name__ == "__main__":
    main()
