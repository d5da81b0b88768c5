"""Turns a Stack Exchange dump folder into the corpus and queries of the evaluation protocol.

The protocol (section 6) fixes how: each question is a thread in one open channel
`qa` of a team named after the site; answers and comments are its replies; an
accepted answer gets the asker's check-mark reaction one second after it was
posted; queries come from the last 40% of the timeline. Only the stdlib is used,
and the same dump always gives byte-identical files.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree

from whoknows.errors import UserError

from .html_text import html_to_text as html_to_text  # re-exported: callers and tests read it here

CHANNEL = "qa"
DELETED = "deleted"
"""Username for posts and comments whose author was deleted; never a relevant user."""
CHECK_MARK = "white_check_mark"
ACCEPT_DELAY_MS = 1000
"""The dump has no accept time, so the check mark lands one second after the answer."""
TOPIC_MIN_QUESTIONS = 10
TOPIC_MIN_ACCEPTED = 2


@dataclass(frozen=True, slots=True)
class ConversionSummary:
    """What was written, so the command can report it and tests can check it."""

    users: int
    questions: int
    answers: int
    comments: int
    reactions: int
    question_queries: int
    topic_queries: int
    window_start: int
    """Unix ms; questions created at or after it are in the query window."""


@dataclass(frozen=True, slots=True)
class _Question:
    id: int
    create_at: int
    user: str
    title: str
    body: str
    tags: tuple[str, ...]
    accepted_id: int | None


@dataclass(frozen=True, slots=True)
class _Reply:
    """An answer (kind 0) or a comment (kind 1) in a question's thread."""

    create_at: int
    kind: int
    id: int
    user: str
    message: str


def parse_tags(raw: str) -> tuple[str, ...]:
    """Tags as stored by either dump format: `<a><b>` (older) or `|a|b|` (newer)."""
    if "<" in raw:
        names = re.findall(r"<([^<>]+)>", raw)
    elif "|" in raw:
        names = raw.split("|")
    else:
        names = raw.split()
    return tuple(dict.fromkeys(name.strip() for name in names if name.strip()))


def parse_time(raw: str) -> int:
    """Unix ms of a dump timestamp such as 2021-04-27T14:53:19.553 (UTC when no zone is given)."""
    moment = datetime.fromisoformat(raw.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def team_name(dump_dir: Path) -> str:
    """The site's name from its folder, made a valid Mattermost team name (lowercase, hyphens)."""
    name = re.sub(r"[^a-z0-9]+", "-", dump_dir.resolve().name.lower()).strip("-")
    if len(name) < 2:
        raise UserError(f"{dump_dir}: cannot name a team after this folder; rename it after the site")
    return name


def _rows(path: Path) -> Iterator[dict[str, str]]:
    """The attributes of each <row> of a dump file, turning parse failures into UserError."""
    try:
        for _event, element in ElementTree.iterparse(path, events=("end",)):
            if element.tag == "row":
                yield dict(element.attrib)
                element.clear()
    except ElementTree.ParseError as error:
        raise UserError(f"{path}: not a valid XML file ({error})") from error
    except OSError as error:
        raise UserError(f"{path}: cannot read it ({error.strerror or error})") from error


def _field(row: dict[str, str], name: str, path: Path) -> str:
    value = row.get(name)
    if value is None:
        raise UserError(f"{path}: row {row.get('Id', '?')} has no {name} attribute")
    return value


def _int(row: dict[str, str], name: str, path: Path) -> int:
    value = _field(row, name, path)
    try:
        return int(value)
    except ValueError:
        raise UserError(f"{path}: row {row.get('Id', '?')} has {name}={value!r}, not a number") from None


def _time(row: dict[str, str], path: Path) -> int:
    value = _field(row, "CreationDate", path)
    try:
        return parse_time(value)
    except ValueError:
        raise UserError(f"{path}: row {row.get('Id', '?')} has CreationDate={value!r}, not a date") from None


def _user(row: dict[str, str], name: str, path: Path) -> str:
    """`u<Id>`, or `deleted` when the author is gone (attribute missing or empty)."""
    if not row.get(name, "").strip():
        return DELETED
    return f"u{_int(row, name, path)}"


@dataclass(frozen=True, slots=True)
class _Dump:
    questions: list[_Question]
    """Sorted by (create_at, id)."""
    threads: dict[int, list[_Reply]]
    """Question id to its answers and comments, in time order."""
    accepted: dict[int, _Reply]
    """Question id to its accepted answer, when that answer is in the dump."""


def _read_dump(dump_dir: Path) -> _Dump:
    """Reads Posts.xml and (if present) Comments.xml; Users.xml adds nothing the corpus needs."""
    if not dump_dir.is_dir():
        raise UserError(f"{dump_dir}: no such folder; expected an unpacked Stack Exchange dump")
    posts = dump_dir / "Posts.xml"
    if not posts.is_file():
        raise UserError(f"{dump_dir}: no Posts.xml here; expected an unpacked Stack Exchange dump")
    questions: list[_Question] = []
    answers: list[tuple[int, _Reply]] = []
    for row in _rows(posts):
        kind = row.get("PostTypeId")
        if kind == "1":
            questions.append(
                _Question(
                    id=_int(row, "Id", posts),
                    create_at=_time(row, posts),
                    user=_user(row, "OwnerUserId", posts),
                    title=row.get("Title", "").strip(),
                    body=html_to_text(row.get("Body", "")),
                    tags=parse_tags(row.get("Tags", "")),
                    accepted_id=_int(row, "AcceptedAnswerId", posts) if row.get("AcceptedAnswerId") else None,
                )
            )
        elif kind == "2":
            reply = _Reply(_time(row, posts), 0, _int(row, "Id", posts), _user(row, "OwnerUserId", posts),
                           html_to_text(row.get("Body", "")))
            answers.append((_int(row, "ParentId", posts), reply))
    if not questions:
        raise UserError(f'{posts}: no questions in it (rows with PostTypeId="1")')

    threads: dict[int, list[_Reply]] = {question.id: [] for question in questions}
    question_of = {question.id: question.id for question in questions}
    answer_by_id: dict[int, _Reply] = {}
    for parent, reply in answers:
        if parent in threads:  # an answer whose question is not in the dump has no thread
            threads[parent].append(reply)
            question_of[reply.id] = parent
            answer_by_id[reply.id] = reply

    comments = dump_dir / "Comments.xml"
    if comments.is_file():
        for row in _rows(comments):
            question_id = question_of.get(_int(row, "PostId", comments))
            if question_id is not None:  # comments on tag wikis and the like are not Q&A
                threads[question_id].append(
                    _Reply(_time(row, comments), 1, _int(row, "Id", comments), _user(row, "UserId", comments),
                           row.get("Text", "").strip())
                )

    for replies in threads.values():
        replies.sort(key=lambda reply: (reply.create_at, reply.kind, reply.id))
    questions.sort(key=lambda question: (question.create_at, question.id))
    accepted: dict[int, _Reply] = {}
    for question in questions:
        answer = answer_by_id.get(question.accepted_id) if question.accepted_id is not None else None
        if answer is not None and question_of[answer.id] == question.id:
            accepted[question.id] = answer
    return _Dump(questions, threads, accepted)


def window_start(create_times: Iterable[int]) -> int:
    """t_min + 0.6 * (t_max - t_min), rounded up so `at >= start` means the same in integer ms."""
    times = list(create_times)
    low, high = min(times), max(times)
    return low + (3 * (high - low) + 4) // 5


def _message(*parts: str) -> str:
    return "\n\n".join(part for part in parts if part)


def _queries(dump: _Dump, team: str, start: int) -> list[dict[str, Any]]:
    """Question and topic queries (protocol section 6), sorted by (at, id)."""
    queries: list[dict[str, Any]] = []
    in_window = [question for question in dump.questions if question.create_at >= start]
    for question in in_window:
        answer = dump.accepted.get(question.id)
        if answer is None or answer.user in (DELETED, question.user):
            continue
        queries.append({
            "id": f"q{question.id}", "kind": "question", "text": _message(question.title, question.body),
            "at": question.create_at, "asker": question.user, "team": team, "channel": CHANNEL,
            "relevant": [answer.user],
        })

    usage = Counter(tag for question in dump.questions for tag in question.tags)
    for tag in sorted(tag for tag, count in usage.items() if count >= TOPIC_MIN_QUESTIONS):
        accepted_by = Counter(
            dump.accepted[question.id].user
            for question in in_window
            if tag in question.tags and question.id in dump.accepted
        )
        relevant = sorted(user for user, count in accepted_by.items()
                          if count >= TOPIC_MIN_ACCEPTED and user != DELETED)
        if relevant:
            queries.append({
                "id": f"t:{tag}", "kind": "topic", "text": tag.replace("-", " "), "at": start,
                "asker": None, "team": team, "channel": CHANNEL, "relevant": relevant,
            })
    queries.sort(key=lambda query: (query["at"], query["id"]))
    return queries


def _user_order(username: str) -> tuple[int, int]:
    return (1, 0) if username == DELETED else (0, int(username[1:]))


def _corpus(dump: _Dump, team: str, users: list[str]) -> Iterator[dict[str, Any]]:
    """The bulk-import lines: version, team, channel, users, then one post per question."""
    yield {"type": "version", "version": 1}
    yield {"type": "team", "team": {"name": team, "display_name": team[:1].upper() + team[1:], "type": "O"}}
    yield {"type": "channel", "channel": {"team": team, "name": CHANNEL, "display_name": "Q&A", "type": "O"}}
    for username in users:
        yield {"type": "user", "user": {
            "username": username, "email": f"{username}@example.invalid",
            "teams": [{"name": team, "channels": [{"name": CHANNEL}]}],
        }}
    for question in dump.questions:
        accepted = dump.accepted.get(question.id)
        replies: list[dict[str, Any]] = []
        for reply in dump.threads[question.id]:
            line: dict[str, Any] = {"user": reply.user, "message": reply.message, "create_at": reply.create_at}
            if accepted is not None and reply.kind == 0 and reply.id == accepted.id:
                line["reactions"] = [{"user": question.user, "emoji_name": CHECK_MARK,
                                      "create_at": reply.create_at + ACCEPT_DELAY_MS}]
            replies.append(line)
        hashtags = " ".join(f"#{tag}" for tag in question.tags)
        yield {"type": "post", "post": {
            "team": team, "channel": CHANNEL, "user": question.user,
            "message": _message(question.title, question.body, hashtags),
            "create_at": question.create_at, "replies": replies,
        }}


def _write_jsonl(path: Path, lines: Iterable[dict[str, Any]]) -> None:
    """Streams compact UTF-8 JSON lines to a temporary file, then moves it into place."""
    temporary = path.with_name(path.name + ".tmp")
    try:
        with temporary.open("w", encoding="utf-8", newline="\n") as out:
            _dump_lines(out, lines)
        os.replace(temporary, path)
    except OSError as error:
        raise UserError(f"{path}: cannot write it ({error.strerror or error})") from error
    finally:
        temporary.unlink(missing_ok=True)


def _dump_lines(out: IO[str], lines: Iterable[dict[str, Any]]) -> None:
    for line in lines:
        out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")))
        out.write("\n")


def convert(dump_dir: Path, corpus_out: Path, queries_out: Path) -> ConversionSummary:
    """Writes the corpus and queries files for one site's dump and says what they hold.

    Raises UserError for a folder that is not a readable dump, before writing anything.
    """
    team = team_name(dump_dir)
    dump = _read_dump(dump_dir)
    start = window_start(question.create_at for question in dump.questions)
    queries = _queries(dump, team, start)
    authors = {question.user for question in dump.questions}
    authors.update(reply.user for replies in dump.threads.values() for reply in replies)
    users = sorted(authors, key=_user_order)
    _write_jsonl(corpus_out, _corpus(dump, team, users))
    _write_jsonl(queries_out, queries)
    return ConversionSummary(
        users=len(users),
        questions=len(dump.questions),
        answers=sum(reply.kind == 0 for replies in dump.threads.values() for reply in replies),
        comments=sum(reply.kind == 1 for replies in dump.threads.values() for reply in replies),
        reactions=len(dump.accepted),
        question_queries=sum(query["kind"] == "question" for query in queries),
        topic_queries=sum(query["kind"] == "topic" for query in queries),
        window_start=start,
    )
