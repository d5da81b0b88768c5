"""The retry policy for Mattermost requests: a pure function, then the REST adapter using it (no sleeping)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from whoknows.adapters.mattermost_rest import MattermostError, MattermostRest
from whoknows.adapters.retry import BASE_S, CAP_S, MAX_ATTEMPTS, MAX_HINT_S, backoff_delay, retryable

NOW = 1_750_000_000.0


def delays(attempt: int, retry_after: str | None = None, reset: str | None = None, n: int = 200) -> list[float]:
    rng = random.Random(7)
    return [backoff_delay(attempt, retry_after, reset, NOW, rng) for _ in range(n)]


def test_without_a_hint_the_wait_doubles_with_jitter_and_is_capped() -> None:
    for attempt in range(1, 12):
        ceiling = min(CAP_S, BASE_S * 2 ** (attempt - 1))
        got = delays(attempt)
        assert all(ceiling / 2 <= d <= ceiling for d in got), attempt
        assert len({round(d, 6) for d in got}) > 100  # jittered: clients do not come back in step
    assert max(delays(1)) <= BASE_S and min(delays(4)) >= BASE_S * 4
    assert max(delays(10_000)) <= CAP_S  # no overflow, still capped


def test_retry_after_in_seconds_is_a_floor() -> None:
    got = delays(1, retry_after="3")
    assert all(3.0 <= d <= 3.3 for d in got) and len(set(got)) > 100


def test_rate_limit_reset_counts_too_and_the_later_hint_wins() -> None:
    assert all(d >= 5.0 for d in delays(1, retry_after="1", reset="5"))
    assert all(d >= 4.0 for d in delays(1, reset=str(int(NOW) + 4)))  # a Unix time, not seconds
    assert all(d >= 2.0 for d in delays(1, retry_after="2", reset="1"))


def test_retry_after_as_an_http_date() -> None:
    when = format_datetime(datetime.fromtimestamp(NOW + 10, timezone.utc), usegmt=True)
    assert all(10.0 <= d <= 11.0 for d in delays(1, retry_after=when))


@pytest.mark.parametrize("header", ["", "soon", "-4", "nan"])
def test_unusable_hints_fall_back_to_backoff(header: str) -> None:
    assert all(BASE_S * 2 <= d <= BASE_S * 4 for d in delays(3, retry_after=header, reset=header))


def test_a_hint_in_the_past_or_absurdly_far_is_bounded() -> None:
    assert all(0 <= d <= 0.05 for d in delays(1, reset=str(int(NOW) - 60)))
    assert all(MAX_HINT_S <= d <= MAX_HINT_S * 1.1 for d in delays(1, retry_after="86400"))


def test_which_answers_are_retried() -> None:
    assert retryable(429, "POST") and retryable(503, "POST") and retryable(502, "GET") and retryable(504, "DELETE")
    assert not retryable(502, "POST")  # the server may have created the post: never twice
    assert not any(retryable(s, "GET") for s in (200, 400, 401, 403, 404, 500))


class Scripted:
    """A fake Mattermost answering from a script; records what the adapter slept."""

    def __init__(self, *answers: Callable[[], httpx.Response]) -> None:
        self.answers = list(answers)
        self.requests: list[str] = []
        self.slept: list[float] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.path}")
        return (self.answers.pop(0) if len(self.answers) > 1 else self.answers[0])()

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)

    def rest(self) -> MattermostRest:
        return MattermostRest("http://mm.test", "token", transport=httpx.MockTransport(self.handle), sleep=self.sleep, rng=random.Random(1))


def answer(status: int, **kwargs: Any) -> Callable[[], httpx.Response]:
    return lambda: httpx.Response(status, **kwargs)


LIMITED = answer(429, headers={"Retry-After": "2", "X-Ratelimit-Reset": "2", "X-Ratelimit-Remaining": "0"}, json={"id": "api.context.rate_limit"})


async def test_rate_limited_requests_wait_as_told_then_succeed() -> None:
    fake = Scripted(LIMITED, answer(503), answer(200, json={"id": "b", "username": "whoknows"}))
    rest = fake.rest()
    try:
        assert (await rest.me())["id"] == "b"
    finally:
        await rest.close()
    assert fake.requests == ["GET /api/v4/users/me"] * 3
    assert fake.slept[0] >= 2.0 and 0 < fake.slept[1] < 2.0 and rest.retries == 2


async def test_retries_are_bounded() -> None:
    fake = Scripted(answer(503))
    rest = fake.rest()
    try:
        with pytest.raises(MattermostError) as failed:
            await rest.channel("c1")
    finally:
        await rest.close()
    assert failed.value.status == 503 and len(fake.requests) == MAX_ATTEMPTS and len(fake.slept) == MAX_ATTEMPTS - 1
    assert fake.slept == sorted(fake.slept) and max(fake.slept) <= CAP_S  # growing, within the cap


@pytest.mark.parametrize("status", [401, 403, 404, 500])
async def test_other_errors_are_not_retried(status: int) -> None:
    fake = Scripted(answer(status, text="no"))
    rest = fake.rest()
    try:
        with pytest.raises(MattermostError) as failed:
            await rest.me()
    finally:
        await rest.close()
    assert failed.value.status == status and len(fake.requests) == 1 and fake.slept == []


async def test_membership_checks_retry_too() -> None:
    fake = Scripted(LIMITED, answer(404))
    rest = fake.rest()
    try:
        assert await rest.channel_member("c1", "u1") is None
        assert not await rest.is_team_member("t1", "u1")
    finally:
        await rest.close()
    assert len(fake.requests) == 3 and len(fake.slept) == 1
