"""Several whoknows processes on one PostgreSQL store: one leads (applies events), the others stand by and take over
when it stops, a leader whose connection is cut knows it, and two installations in two schemas never wait for each
other. Against the local PostgreSQL (tests/postgres_node.py)."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

import postgres_node
from whoknows.errors import StartupError
from whoknows.storage.leadership import Leadership

WAIT_S = 10.0


def fast(url: str) -> Leadership:
    return Leadership(url, poll_s=0.05, check_s=0.05)


async def test_the_first_leads_the_second_stands_by_and_takes_over_when_the_first_stops(pg_database: str) -> None:
    url = postgres_node.fresh_store(pg_database)
    first, second = fast(url), fast(url)
    said: list[str] = []
    try:
        await asyncio.wait_for(first.take(lambda: said.append("first")), WAIT_S)
        taking = asyncio.create_task(second.take(lambda: said.append("second")))
        await asyncio.sleep(0.5)
        assert not taking.done(), "the second may not lead while the first does"
        assert said == ["second"], "standing by is said once, by the one that waits"
        first.close()
        await asyncio.wait_for(taking, WAIT_S)
    finally:
        first.close()
        second.close()


async def test_a_leader_whose_connection_is_cut_knows_it_and_another_takes_over(pg_database: str) -> None:
    url = postgres_node.fresh_store(pg_database)
    leader, standby = fast(url), fast(url)
    lost = asyncio.Event()
    try:
        await leader.take(lambda: None)
        watching = asyncio.create_task(leader.watch(lost.set))
        taking = asyncio.create_task(standby.take(lambda: None))
        with psycopg.connect(pg_database, autocommit=True) as admin:  # what a lost machine or a network cut does
            admin.execute("SELECT pg_terminate_backend(%s)", (leader.backend_pid,))
        await asyncio.wait_for(lost.wait(), WAIT_S)
        await asyncio.wait_for(watching, WAIT_S)
        await asyncio.wait_for(taking, WAIT_S)
        assert standby.held() and not leader.held()
    finally:
        leader.close()
        standby.close()


async def test_two_installations_in_two_schemas_each_have_their_own_leader(pg_database: str) -> None:
    one, other = fast(postgres_node.fresh_store(pg_database)), fast(postgres_node.fresh_store(pg_database))
    try:
        await asyncio.wait_for(one.take(lambda: pytest.fail("one waited")), WAIT_S)
        await asyncio.wait_for(other.take(lambda: pytest.fail("the other waited")), WAIT_S)
    finally:
        one.close()
        other.close()


async def test_a_store_that_cannot_be_reached_stops_the_start_with_one_line(pg_database: str) -> None:
    with pytest.raises(StartupError) as refused:
        await Leadership("postgresql://whoknows:secret@127.0.0.1:1/nowhere").take(lambda: None)
    assert "secret" not in str(refused.value) and "StoreUrl" in str(refused.value)
