"""The question detector that gates inline suggestions."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from conftest import SHARED, dev_data
from whoknows.core.questions import examine, is_question
from whoknows.datasets.stackexchange import html_to_text

ROUTABLE = [
    "How do I rotate the postgres replication password without downtime?",
    "anyone know why the ios build fails with a code signing error since yesterday",
    "Is there a runbook for draining a kubernetes node before the upgrade?",
    "what's the best way to cache terraform providers in CI?",
    "stuck on the kafka consumer lag alert, it keeps firing after the deploy",
    "Does anybody have experience with pgbouncer transaction pooling and prepared statements?",
    "I'm getting a 502 error from the ingress controller after the cert renewal, any ideas?",
]
NOT_ROUTABLE = [
    "who's in for lunch?",
    "really?",
    "how are you all doing today?",
    "deployed the new ingress controller to staging, all green",
    "thanks everyone for the help with the migration!",
    "Happy Friday :tada:",
    "```\nwhy does this fail?\n```",
    "> how do I rotate the password?\nsee the wiki",
    "",
]


@pytest.mark.parametrize("text", ROUTABLE)
def test_routable_questions_are_accepted(text: str) -> None:
    assert is_question(text), examine(text)


@pytest.mark.parametrize("text", NOT_ROUTABLE)
def test_small_talk_statements_and_quoted_code_are_not_routed(text: str) -> None:
    assert not is_question(text), examine(text)


@pytest.mark.parametrize("site", ["cardano", "beer"])
def test_labelled_dev_set(site: str) -> None:
    """Labels from the dev dumps: questions (title + body) should be routed, answers should not."""
    posts = dev_data(SHARED / "datasets" / "stackexchange" / site / "Posts.xml")
    questions = accepted = answers = false_alarms = 0
    for _, row in ET.iterparse(posts):
        if row.tag != "row":
            continue
        body = html_to_text(row.get("Body") or "")
        if row.get("PostTypeId") == "1":
            questions += 1
            accepted += is_question(f"{row.get('Title') or ''}\n\n{body}")
        elif row.get("PostTypeId") == "2":
            answers += 1
            false_alarms += is_question(body)
        row.clear()
    recall, false_rate = accepted / questions, false_alarms / answers
    print(f"{site}: recall {recall:.3f} on {questions} questions, false alarms {false_rate:.3f} on {answers} answers")
    assert recall >= 0.9
    assert false_rate <= 0.2
