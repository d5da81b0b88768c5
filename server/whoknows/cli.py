"""The `whoknows` command line: an entry point over the service and the app's use cases (the same functions
chat requests call). Person-facing mistakes exit 2 with one line."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from . import messages
from .clock import wall_clock
from .core.index import ENGINES
from .core.index.analysis import WrongWhoosh
from .core.migrations import SchemaTooNew
from .errors import StartupError, StopToRestart, UserError

if TYPE_CHECKING:
    from .service.runtime import Runtime

log = logging.getLogger("whoknows")


class _Group(click.Group):
    """Turns our errors into one clear line and exit code 2 (1 when starting again is all it takes), never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (UserError, StartupError, SchemaTooNew, WrongWhoosh) as exc:
            click.echo(f"whoknows: {exc}", err=True)
            ctx.exit(2)
        except StopToRestart as exc:
            click.echo(f"whoknows: {exc}", err=True)
            ctx.exit(1)


@click.group(cls=_Group)
@click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    default=lambda: os.environ.get("WHOKNOWS_DATA", "var/whoknows"),
    show_default="$WHOKNOWS_DATA or var/whoknows",
    help="Folder of the index and the service state.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log what happens.")
@click.pass_context
def main(ctx: click.Context, data: Path, verbose: bool) -> None:
    """whoknows: who knows about X? Answered from the conversation your team already has."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx.obj = data


@main.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def import_(data: Path, file: Path) -> None:
    """Import a Mattermost bulk export (.jsonl, or the .zip of `mmctl export`) into the local index."""
    from .service.importer import import_export
    from .storage.store import open_store

    with open_store(data) as store:
        report = import_export(store.pipeline, file, progress=sys.stderr.isatty())
        stats = store.index.stats()
    click.echo(messages.import_done(report.lines, report.applied.posts_added, report.applied.reactions, stats.documents, report.seconds))


@main.command()
@click.argument("topic", nargs=-1, required=True)
@click.option("--as", "as_user", metavar="USERNAME", help="Answer as this person sees it (their private channels too).")
@click.option("--limit", default=5, show_default=True, help="How many people to show.")
@click.option("--at", "at_ms", type=int, help="Answer as of this time (Unix ms); default: now.")
@click.pass_obj
def ask(data: Path, topic: tuple[str, ...], as_user: str | None, limit: int, at_ms: int | None) -> None:
    """Print the card for a topic or a question, from the local index (no server needed)."""
    from .app.replies import ranked_card
    from .storage.store import open_store

    with open_store(data, create=False) as store:
        conv = store.conversation
        caller = None
        if as_user:
            caller = conv.user_by_name(as_user.lstrip("@"))
            if caller is None:
                raise UserError(messages.unknown_user(as_user))
        now = at_ms if at_ms is not None else wall_clock()
        _, card = ranked_card(store, " ".join(topic), caller, conv.readable_channels(caller), now=now, limit=limit, site_url=store.site_url)
    click.echo(card.text)
    for attachment in card.attachments:
        click.echo(attachment.get("text", ""))


@main.group()
def dataset() -> None:
    """Convert public data sets into a corpus and queries for `whoknows eval`."""


@dataset.command("stackexchange")
@click.argument("dump_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--corpus", "corpus_out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--queries", "queries_out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def dataset_stackexchange(dump_dir: Path, corpus_out: Path, queries_out: Path) -> None:
    """Convert a Stack Exchange dump folder (Posts.xml, Comments.xml, Users.xml)."""
    from .datasets.stackexchange import convert

    summary = convert(dump_dir, corpus_out, queries_out)
    click.echo(
        f"{summary.questions} questions, {summary.answers} answers, {summary.comments} comments; "
        f"{summary.question_queries} question queries, {summary.topic_queries} topic queries",
        err=True,
    )


@main.command("eval")
@click.option("--corpus", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--queries", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--engine", type=click.Choice(ENGINES), default="whoosh", show_default=True, help="The text index engine.")
def eval_(corpus: Path, queries: Path, engine: str) -> None:
    """Replay a corpus in time order and score whoknows against the baselines (JSON on stdout). The conversation store
    is in memory, or the empty PostgreSQL store of $WHOKNOWS_STORE_URL."""
    from .evaluation.replay import evaluate, summary_lines
    from .storage.store import connect, server_from_env, store_url_from_env

    server = server_from_env(os.environ)
    if engine == "opensearch" and server is None:
        raise click.UsageError("--engine opensearch needs WHOKNOWS_OPEN_SEARCH_URL (the server's URL)")
    url = store_url_from_env(os.environ)
    result = evaluate(corpus, queries, progress=lambda line: click.echo(line, err=True), index_engine=engine, index_server=server,
                      store=connect(url) if url else None)
    for line in summary_lines(result):
        click.echo(line, err=True)
    click.echo(json.dumps(result))


@main.command("eval-report")
@click.argument("results", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def eval_report(results: tuple[Path, ...]) -> None:
    """Print evaluation results (the JSON of `whoknows eval`) side by side as a Markdown table."""
    from .evaluation.report import table_rows

    try:
        loaded = [json.loads(path.read_text(encoding="utf-8")) for path in results]
    except (ValueError, OSError) as exc:
        raise click.ClickException(f"not an evaluation result: {exc}") from exc
    for row in table_rows(loaded):
        click.echo(row)


@main.command()
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Where to write the JSONL.")
@click.option("--seed", default=7, show_default=True)
@click.option("--end", "end_ms", type=int, help="Time of the last post (Unix ms); default: now, so the demo is recent.")
def demo(out: Path, seed: int, end_ms: int | None) -> None:
    """Write a generated demo workspace (a plausible team conversation) as bulk-export JSONL."""
    from .demo import generate

    out.parent.mkdir(parents=True, exist_ok=True)
    summary = generate(out, seed=seed, end_ms=end_ms if end_ms is not None else wall_clock())
    click.echo(messages.demo_written(out, summary.root_posts + summary.replies, summary.users), err=True)


def _serve(data: Path, manifest: Path | None, env: dict[str, str]) -> None:
    from .app.settings import load, manifest_path, read_manifest

    schema = read_manifest(manifest or (Path(env["WHOKNOWS_MANIFEST"]) if env.get("WHOKNOWS_MANIFEST") else manifest_path()))
    settings = load(schema, env)
    logging.getLogger("whoknows").setLevel(logging.INFO)
    from .service.runtime import Runtime

    try:
        asyncio.run(_until_stopped(Runtime(settings, data, manifest=schema, env=env)))
    except KeyboardInterrupt:  # Ctrl-C before the handlers were set
        pass


async def _until_stopped(runtime: Runtime) -> None:
    """SIGTERM (systemd, kill) and SIGINT (Ctrl-C; ignored by default in a script's background job, so set here) stop
    cleanly: the index is flushed and closed and the clean stop marked, and the process exits 0."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, runtime.stop_soon, sig.name)
    await runtime.run_forever()


_MANIFEST_HELP = "The plugin.json with the settings schema (default: $WHOKNOWS_MANIFEST, else the repository's)."


@main.command()
@click.option("--manifest", type=click.Path(dir_okay=False, path_type=Path), default=None, help=_MANIFEST_HELP)
@click.pass_obj
def run(data: Path, manifest: Path | None) -> None:
    """Run the service: live index, /whoknows and inline suggestions (settings: plugin.json + WHOKNOWS_* variables).
    Bot mode by default; plugin mode when WHOKNOWS_MODE=plugin (what the Mattermost plugin's Service command sets)."""
    _serve(data, manifest, dict(os.environ))


@main.command("serve-plugin")
@click.option("--manifest", type=click.Path(dir_okay=False, path_type=Path), default=None, help=_MANIFEST_HELP)
@click.pass_obj
def serve_plugin(data: Path, manifest: Path | None) -> None:
    """Run the service behind the Mattermost plugin (plugin mode: WHOKNOWS_PLUGIN_URL and WHOKNOWS_PLUGIN_SECRET, set by
    the plugin when it starts the service; see server/plugin/LINK.md)."""
    _serve(data, manifest, {**os.environ, "WHOKNOWS_MODE": "plugin"})


@main.command()
@click.option("--manifest", type=click.Path(dir_okay=False, path_type=Path), default=None, help="The plugin.json with the settings schema.")
@click.pass_obj
def rebuild(data: Path, manifest: Path | None) -> None:
    """Wipe the local index and posts and read every channel's history from Mattermost again (opt-outs are kept)."""
    import asyncio

    from .app.settings import load_from, manifest_path
    from .service.rebuild import rebuild as rebuild_from_mattermost

    settings = load_from(manifest or manifest_path(), os.environ)
    posts = asyncio.run(rebuild_from_mattermost(settings, data))
    click.echo(messages.rebuilt(data, posts), err=True)


@main.command()
@click.argument("username")
@click.pass_obj
def forget(data: Path, username: str) -> None:
    """Erase a person's data: their posts, reactions and activity leave the index, and they never appear
    again (their later posts are not indexed). Run it while the bot is stopped."""
    from .core.events import UserErased
    from .storage.store import open_store

    with open_store(data, create=False) as store:
        user_id = store.conversation.user_by_name(username.lstrip("@"))
        if user_id is None:
            raise UserError(messages.unknown_user(username))
        try:
            applied = store.pipeline.apply([UserErased(user_id, wall_clock())])
            store.pipeline.flush()
        except Exception as error:
            if type(error).__name__ == "LockError":
                raise UserError(messages.index_busy(data)) from error
            raise
    click.echo(messages.forgotten(username.lstrip("@"), applied.posts_deleted), err=True)


@main.command()
@click.option("--trigger", default="whoknows", show_default=True, help="The slash command's word.")
def autocomplete(trigger: str) -> None:
    """Print the slash command's sub-commands as JSON (the Mattermost plugin registers its autocomplete from it)."""
    from .app.commands import autocomplete as table

    click.echo(json.dumps(table(trigger), indent=2))
