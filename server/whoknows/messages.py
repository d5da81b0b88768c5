"""Every sentence whoknows says to a person outside the card templates, in one place for review."""

from __future__ import annotations

from pathlib import Path


def import_done(lines: int, posts: int, reactions: int, indexed: int, seconds: float) -> str:
    return (
        f"Imported {lines:,} lines: {posts:,} new posts and {reactions:,} reaction changes in {seconds:.1f} s; "
        f"the index now holds {indexed:,} posts."
    )


def demo_written(path: Path, posts: int, people: int) -> str:
    return f"Wrote a demo workspace of {posts:,} posts by {people} people to {path}."


def no_data(data: Path) -> str:
    return f"there is no whoknows data in {data}; run `whoknows --data {data} import FILE` first"


def no_index(data: Path) -> str:
    return f"the index in {data} is missing; run `whoknows --data {data} import FILE` (or `whoknows rebuild`)"


def unknown_user(name: str) -> str:
    return f"nobody called {name!r} is known here"
