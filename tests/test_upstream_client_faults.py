"""The upstream HTTP client (`Pool`) against an upstream that misbehaves byte by byte
(tests/support/faulty_upstream.py): interim answers, stale connections, compression, caps."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aiport.backends.http_client import Pool
from tests.support.faulty_upstream import (
    FaultyUpstream,
    answer,
    interim_then,
)


@pytest.fixture(scope="module")
def upstream() -> Iterator[FaultyUpstream]:
    server = FaultyUpstream().start()
    yield server
    server.stop()


@pytest.fixture
def faulty(upstream: FaultyUpstream) -> FaultyUpstream:
    upstream.clear()
    return upstream


def pool_for(upstream: FaultyUpstream, **options: float) -> Pool:
    return Pool(upstream.url, **({"connect_timeout": 2, "read_timeout": 2} | options))


def json_body(model: str) -> bytes:
    return b'{"model": "%s"}' % model.encode()


async def post(pool: Pool, model: str) -> tuple[int, bytes]:
    response = await pool.request(
        "POST", "/chat/completions", [("content-type", "application/json")], json_body(model)
    )
    try:
        return response.status, await response.read()
    finally:
        response.close()


@pytest.mark.parametrize("interim", [(103,), (100,), (100, 103)], ids=["103", "100", "100+103"])
async def test_interim_answers_are_skipped_and_the_next_caller_gets_its_own(
    faulty: FaultyUpstream, interim: tuple[int, ...]
) -> None:
    faulty.script("first", interim_then(answer(b'{"answer":"first"}'), *interim))
    faulty.script("second", answer(b'{"answer":"second"}'))
    pool = pool_for(faulty)
    assert await post(pool, "first") == (200, b'{"answer":"first"}')
    assert await post(pool, "second") == (200, b'{"answer":"second"}')
    assert faulty.connections_used == 1  # reused only after the complete final answer
    pool.close()


async def test_interim_and_final_answer_in_one_read(faulty: FaultyUpstream) -> None:
    final = answer(b'{"answer":"first"}')
    faulty.script("first", [interim_then(final, 103)[0] + final[0]])
    pool = pool_for(faulty)
    assert await post(pool, "first") == (200, b'{"answer":"first"}')
    assert await post(pool, "other")  # the default answer, on the same connection
    assert faulty.connections_used == 1
    pool.close()
