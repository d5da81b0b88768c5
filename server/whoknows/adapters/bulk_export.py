"""Mattermost bulk-export JSONL (what `mmctl export` writes, version 1) decoded into core events.

The file names people, teams and channels by name, not id: the names become the ids here
(a channel is `team/channel`), and a post's id is a digest of where, who, when and what, so
importing the same file twice changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from ..core.events import (
    ChannelMemberAdded,
    ChannelUpdated,
    Event,
    PostCreated,
    ReactionAdded,
    TeamUpdated,
    UserUpdated,
)
from ..errors import UserError

_CHANNEL_TYPES = {"O", "P"}
IGNORED_TYPES = frozenset({"direct_channel", "direct_post", "emoji", "scheme", "role"})


class BadLine(UserError):
    def __init__(self, line_no: int, problem: str) -> None:
        super().__init__(f"line {line_no}: {problem}")
        self.line_no = line_no


def channel_id(team: str, channel: str) -> str:
    return f"{team}/{channel}"


def post_id(channel: str, user: str, create_at: int, message: str, root_id: str = "") -> str:
    digest = hashlib.blake2b(f"{channel}\0{user}\0{create_at}\0{root_id}\0{message}".encode(), digest_size=13)
    return digest.hexdigest()


def _field(obj: dict[str, Any], key: str, kind: type, line_no: int, where: str) -> Any:
    value = obj.get(key)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        expected = {str: "a string", int: "an integer (Unix milliseconds)", list: "a list", dict: "an object"}[kind]
        raise BadLine(line_no, f"{where}.{key} must be {expected}, got {json.dumps(value)[:60]}")
    return value


def _reactions(obj: dict[str, Any], target: str, line_no: int, where: str) -> list[Event]:
    out: list[Event] = []
    for i, r in enumerate(obj.get("reactions") or []):
        if not isinstance(r, dict):
            raise BadLine(line_no, f"{where}.reactions[{i}] must be an object")
        here = f"{where}.reactions[{i}]"
        out.append(
            ReactionAdded(
                target,
                _field(r, "user", str, line_no, here),
                _field(r, "emoji_name", str, line_no, here),
                _field(r, "create_at", int, line_no, here),
            )
        )
    return out


def decode_line(obj: Any, line_no: int) -> list[Event]:
    """The events one parsed line stands for; raises BadLine naming the line and the field."""
    if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
        raise BadLine(line_no, 'expected a JSON object with a "type"')
    kind = obj["type"]
    if kind == "version":
        if obj.get("version") != 1:
            raise BadLine(line_no, f"unsupported bulk-export version {obj.get('version')!r} (only 1 is known)")
        return []
    if kind in IGNORED_TYPES or kind not in ("team", "channel", "user", "bot", "post"):
        return []  # direct messages are never indexed; other kinds carry nothing we use
    body = obj.get(kind)
    if not isinstance(body, dict):
        raise BadLine(line_no, f'a "{kind}" line needs a "{kind}" object')
    if kind == "team":
        name = _field(body, "name", str, line_no, "team")
        return [TeamUpdated(name, name, str(body.get("display_name") or name))]
    if kind == "channel":
        team = _field(body, "team", str, line_no, "channel")
        name = _field(body, "name", str, line_no, "channel")
        ctype = body.get("type", "O")
        if ctype not in _CHANNEL_TYPES:
            raise BadLine(line_no, f'channel.type must be "O" or "P", got {json.dumps(ctype)}')
        return [ChannelUpdated(channel_id(team, name), team, name, ctype, str(body.get("display_name") or name))]
    if kind == "user":
        return _user(body, line_no)
    if kind == "bot":
        username = _field(body, "username", str, line_no, "bot")
        return [UserUpdated(username, username, str(body.get("display_name") or username), True, False)]
    return _post(body, line_no)


def _user(body: dict[str, Any], line_no: int) -> list[Event]:
    username = _field(body, "username", str, line_no, "user")
    full = " ".join(str(body.get(k) or "") for k in ("first_name", "last_name")).strip()
    display = str(body.get("nickname") or "") or full
    deleted = body.get("delete_at")
    events: list[Event] = [UserUpdated(username, username, display, False, isinstance(deleted, int) and deleted > 0)]
    for t, team in enumerate(body.get("teams") or []):
        if not isinstance(team, dict):
            raise BadLine(line_no, f"user.teams[{t}] must be an object")
        team_name = _field(team, "name", str, line_no, f"user.teams[{t}]")
        for c, ch in enumerate(team.get("channels") or []):
            if not isinstance(ch, dict):
                raise BadLine(line_no, f"user.teams[{t}].channels[{c}] must be an object")
            name = _field(ch, "name", str, line_no, f"user.teams[{t}].channels[{c}]")
            events.append(ChannelMemberAdded(channel_id(team_name, name), username))
    return events


def _post(body: dict[str, Any], line_no: int) -> list[Event]:
    team = _field(body, "team", str, line_no, "post")
    channel = channel_id(team, _field(body, "channel", str, line_no, "post"))
    user = _field(body, "user", str, line_no, "post")
    message = _field(body, "message", str, line_no, "post")
    create_at = _field(body, "create_at", int, line_no, "post")
    root = post_id(channel, user, create_at, message)
    events: list[Event] = [PostCreated(root, channel, user, message, create_at)]
    events += _reactions(body, root, line_no, "post")
    for i, reply in enumerate(body.get("replies") or []):
        where = f"post.replies[{i}]"
        if not isinstance(reply, dict):
            raise BadLine(line_no, f"{where} must be an object")
        r_user = _field(reply, "user", str, line_no, where)
        r_message = _field(reply, "message", str, line_no, where)
        r_at = _field(reply, "create_at", int, line_no, where)
        rid = post_id(channel, r_user, r_at, r_message, root)
        events.append(PostCreated(rid, channel, r_user, r_message, r_at, root))
        events += _reactions(reply, rid, line_no, where)
    return events


_ZIP_MAGIC = b"PK\x03\x04"


@contextmanager
def open_export(path: Path) -> Iterator[IO[bytes]]:
    """Opens a .jsonl file, or the JSONL inside a zip from `mmctl export`, as bytes (decoded line by line,
    so a bad byte is reported on its own line)."""
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    with path.open("rb") as probe:
        looks_zipped = probe.read(4) == _ZIP_MAGIC
    if looks_zipped or path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as zf:
                names = [n for n in zf.namelist() if n.endswith(".jsonl")]
                if not names:
                    raise UserError(f"{path}: the zip holds no .jsonl file (is it an mmctl export?)")
                with zf.open(sorted(names, key=len)[0]) as raw:
                    yield raw
        except (zipfile.BadZipFile, EOFError) as exc:
            raise UserError(f"{path}: the zip is damaged or truncated ({exc})") from exc
        return
    with path.open("rb") as fh:
        yield fh


def read_export(path: Path) -> Iterator[tuple[int, list[Event]]]:
    """(line number, events) for each line; raises BadLine on the first malformed one."""
    seen_version = False
    line_no = 0
    with open_export(path) as fh:
        try:
            for line_no, raw in enumerate(fh, start=1):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise BadLine(line_no, "not UTF-8 text; is this the right file?") from exc
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    hint = "" if seen_version else "; is this the right file?"
                    raise BadLine(line_no, f"not valid JSON ({exc.msg} at column {exc.colno}){hint}") from exc
                if not seen_version:
                    if not isinstance(obj, dict) or obj.get("type") != "version":
                        raise BadLine(line_no, 'a bulk export starts with {"type":"version","version":1}; is this the right file?')
                    seen_version = True
                yield line_no, decode_line(obj, line_no)
        except (zipfile.BadZipFile, EOFError, OSError) as exc:
            raise BadLine(line_no + 1, f"the file ends abruptly ({exc})") from exc
    if not seen_version:
        raise UserError(f"{path}: the file is empty; a bulk export starts with a version line")
