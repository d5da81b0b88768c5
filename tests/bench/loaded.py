"""A Mattermost server from the e2e harness, filled with the bench workspace by the server's own bulk import.

The import runs inside the server as its `import_process` job, the way mmctl's `import upload` and `import
process` do it. Then the admin adds the bot to the imported teams as team admin and gives the callers
personal access tokens.
"""

from __future__ import annotations

import json
import os
import time
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from e2e.bootstrap import Api, ApiError, User, Workspace
from e2e.mattermost import Build, HarnessError, MattermostServer, Postgres

DATABASE = "whoknows_bench_mattermost"
"""The bench's own PostgreSQL database (WHOKNOWS_PG_DATABASE overrides it): the e2e tests' stays untouched."""
IMPORT_TIMEOUT_S = 3600.0


@contextmanager
def running_server(run_dir: Path) -> Iterator[MattermostServer]:
    """A fresh database and a started server, stopped at the end (no clean shutdown needed)."""
    pg = Postgres.from_env() if os.environ.get("WHOKNOWS_PG_DATABASE") else Postgres(database=DATABASE)
    pg.reset()
    server = MattermostServer(Build.locate(), run_dir.resolve(), pg)
    server.start()
    try:
        yield server
    finally:
        server.stop(timeout=5.0)


def import_zip(jsonl: Path) -> Path:
    """The bulk file zipped beside it (what an import upload carries), made once per workspace file."""
    archive = jsonl.with_suffix(".zip")
    if not archive.is_file() or archive.stat().st_mtime < jsonl.stat().st_mtime:
        partial = archive.with_suffix(".zip.partial")
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as out:
            out.write(jsonl, arcname=jsonl.name)
        os.replace(partial, archive)
    return archive


def bulk_import(admin: Api, archive: Path) -> None:
    """Mattermost's own bulk import, as mmctl's `import upload` + `import process` do it over REST: an upload
    session of type "import", the zip's bytes, then an `import_process` job, awaited.

    (This build's `mattermost import bulk --apply` only validates: it passes dryRun=true whatever the flag.)
    """
    size = archive.stat().st_size
    upload = admin.post("/uploads", {"type": "import", "filename": archive.name, "file_size": size})
    response = httpx.post(f"{admin.url}/api/v4/uploads/{upload['id']}", content=archive.read_bytes(),
                          headers={"Authorization": f"Bearer {admin.token}"}, timeout=300.0)
    if response.is_error:
        raise ApiError("POST", f"/uploads/{upload['id']}", response)
    job = admin.post("/jobs", {"type": "import_process", "data": {"import_file": f"{upload['id']}_{archive.name}"}})
    deadline = time.monotonic() + IMPORT_TIMEOUT_S
    while True:
        job = admin.get(f"/jobs/{job['id']}")
        if job["status"] == "success":
            return
        if job["status"] in ("error", "canceled", "cancel_requested"):
            raise HarnessError(f"the import job ended {job['status']}: {job.get('data')}")
        if time.monotonic() > deadline:
            raise HarnessError(f"the import job is still {job['status']} after {IMPORT_TIMEOUT_S:.0f} s")
        time.sleep(1.0)  # the job runs in the server; its watcher picks it up within 15 s


def workspace_people(jsonl: Path, leave_out: Sequence[str]) -> tuple[list[str], list[str]]:
    """The imported teams' names and the people (usernames) of the first team in the file, without `leave_out`
    (they run the command in its town-square: someone outside that team would be refused)."""
    teams, people = [], []
    with jsonl.open(encoding="utf-8") as lines:
        for line in lines:
            obj = json.loads(line)
            if obj["type"] == "team":
                teams.append(obj["team"]["name"])
            elif obj["type"] == "user" and obj["user"]["username"] not in leave_out:
                if teams and teams[0] in {t.get("name") for t in obj["user"].get("teams") or []}:
                    people.append(obj["user"]["username"])
            elif obj["type"] in ("post", "direct_channel", "direct_post"):
                break  # users come before posts in a bulk file
    return teams, people


@dataclass(frozen=True)
class Imported:
    workspace: Workspace  # the harness's own team, admin and bot
    team_ids: list[str]
    callers: list[User]  # imported people with tokens
    channel_id: str  # where they run the command: the first team's town-square (everyone is in it)


def prepare(server: MattermostServer, workspace: Workspace, caller_names: Sequence[str], team_names: Sequence[str]) -> Imported:
    """After the import: the bot joins the imported teams as team admin, the callers get tokens."""
    with Api(server.url, workspace.admin.token) as admin:
        team_ids = []
        for name in team_names:
            team = admin.get(f"/teams/name/{name}")
            admin.post(f"/teams/{team['id']}/members", {"team_id": team["id"], "user_id": workspace.bot.id})
            admin.call("PUT", f"/teams/{team['id']}/members/{workspace.bot.id}/roles", {"roles": "team_user team_admin"})
            team_ids.append(team["id"])
        found = admin.post("/users/usernames", list(caller_names))
        callers = [User(u["id"], u["username"], None, admin.post(f"/users/{u['id']}/tokens", {"description": "bench"})["token"])
                   for u in sorted(found, key=lambda u: list(caller_names).index(u["username"]))]
        channel = admin.get(f"/teams/{team_ids[0]}/channels/name/town-square")
    return Imported(workspace, team_ids, callers, channel["id"])
