"""The question a suggestion answers is in the index by then, and matches itself best: it must not shrink the answers'
weight below the confidence a suggestion needs (every suggestion was lost that way)."""

from __future__ import annotations

from pathlib import Path

from whoknows.core.events import ChannelUpdated, Event, PostCreated, TeamUpdated, UserUpdated
from whoknows.service.offline import offline_services
from whoknows.app.suggestions import compose
from whoknows.storage.store import open_store

NOW = 1_800_000_000_000


def test_a_question_that_matches_itself_best_still_gets_its_answerer(tmp_path: Path) -> None:
    t = "zqab12cd34"
    events: list[Event] = [TeamUpdated("t", "team", "T"), ChannelUpdated("c", "t", "room", "O"),
              *(UserUpdated(u, u, u.title(), False, False) for u in ("carol", "bob", "dave"))]
    for n in range(3):
        events += [PostCreated(f"q{n}", "c", "carol", f"how do I rotate the {t} signing keys, case {n}?", NOW - 9000 + 20 * n),
                   PostCreated(f"a{n}", "c", "bob", f"rotate {t} keys with the {t} rotate job, then reload", NOW - 8990 + 20 * n, f"q{n}")]
    asked = PostCreated("q9", "c", "dave", f"who knows how to rotate {t} keys safely?", NOW - 10)  # "safely": only here
    with open_store(tmp_path) as store:
        store.pipeline.apply([*events, asked])
        store.pipeline.flush()
        note = compose(offline_services(store, lambda: NOW), asked, frozenset({"c"}), NOW)
    assert note is not None, "no suggestion: the question's own match drowned its answers"
    text, chosen = note
    assert [e.person.user_id for e in chosen] == ["bob"] and "Bob" in text
