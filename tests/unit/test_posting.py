"""A bot reply that Mattermost fails with a 5xx is neither lost nor posted twice: its idempotency key is looked for in
the thread before the reply is sent again."""

from __future__ import annotations

from typing import Any

import pytest

from whoknows.app import posting
from whoknows.app.ports import JSON
from whoknows.errors import ChatError
from whoknows.service.offline import KeptPosts, offline_services
from whoknows.storage.store import open_store


class Racing(KeptPosts):
    """A server whose first reply fails with 500: either saved all the same (`lands`) or not (a duplicate thread key)."""

    def __init__(self, *, lands: bool, failures: int = 1, status: int = 500) -> None:
        super().__init__()
        self.lands, self.failures, self.status, self.tries = lands, failures, status, 0

    async def create_post(self, channel_id: str, message: str, *, root_id: str = "", props: JSON | None = None,
                          file_ids: Any = ()) -> JSON:
        self.tries += 1
        if self.failures:
            self.failures -= 1
            if self.lands:
                await super().create_post(channel_id, message, root_id=root_id, props=props)
            raise ChatError("POST /posts -> HTTP 500: threads_pkey", self.status)
        return await super().create_post(channel_id, message, root_id=root_id, props=props)

    async def thread(self, root_id: str) -> list[JSON]:
        return [{**p, "user_id": "bot"} for p in self.posts if p["root_id"] == root_id]


@pytest.mark.parametrize("lands", [False, True])
async def test_a_failed_reply_lands_exactly_once(tmp_path: Any, monkeypatch: pytest.MonkeyPatch, lands: bool) -> None:
    monkeypatch.setattr(posting, "RETRY_S", 0.0)
    chat = Racing(lands=lands)
    with open_store(tmp_path) as store:
        svc = offline_services(store, lambda: 0, chat=chat)
        svc.presence.bot_id = "bot"
        reply = await posting.reply_once(svc, "c", "ask @bob", root_id="q1", prop="whoknows_suggestion", value="q1")
    assert [p["message"] for p in chat.posts] == ["ask @bob"]  # one, whether the failed try had landed or not
    assert reply["props"] == {"whoknows_suggestion": "q1"} and chat.tries == (1 if lands else 2)


async def test_a_refusal_is_not_retried_and_a_lasting_failure_gives_up(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(posting, "RETRY_S", 0.0)
    with open_store(tmp_path) as store:
        for chat, tries in ((Racing(lands=False, status=403), 1), (Racing(lands=False, failures=99), posting.ATTEMPTS)):
            svc = offline_services(store, lambda: 0, chat=chat)
            with pytest.raises(ChatError):
                await posting.reply_once(svc, "c", "x", root_id="q1", prop="k", value="q1")
            assert chat.tries == tries and chat.posts == []
