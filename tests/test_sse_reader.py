"""Splitting an upstream's SSE bytes into events, however the bytes are cut."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from aiport.backends.sse_reader import SSEEventTooLarge, sse_data


async def pieces(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def events(*parts: bytes) -> list[tuple[bytes, bool]]:
    return [item async for item in sse_data(pieces(*parts))]


async def test_events_in_one_read_say_more_are_at_hand() -> None:
    got = await events(b"data: 1\n\ndata: 2\n\ndata: [DONE]\n\n")
    assert got == [(b"1", True), (b"2", True), (b"[DONE]", False)]


async def test_events_split_across_reads_and_crlf() -> None:
    got = await events(b'data: {"a"', b":1}\r", b"\n\r\ndata: 2\n", b"\n")
    assert got == [(b'{"a":1}', False), (b"2", False)]


async def test_comments_and_multiline_data() -> None:
    got = await events(b": keep-alive\n\nevent: x\ndata: a\ndata: b\n\ndata: tail")
    assert got == [(b"a\nb", False), (b"tail", False)]


async def test_crlf_split_between_reads() -> None:
    got = await events(b"data: 1\r", b"\n\r", b"\ndata: 2\r\n\r\n")
    assert got == [(b"1", True), (b"2", False)]  # the end of 1 came with all of 2


async def test_a_line_cut_into_many_reads_is_put_together() -> None:
    line = b"data: " + b"x" * 100_000
    parts = [line[i : i + 7] for i in range(0, len(line), 7)]
    got = await events(*parts, b"\n\ndata: [DONE]\n\n")
    assert got == [(b"x" * 100_000, True), (b"[DONE]", False)]


async def test_an_endless_event_is_cut_off_at_the_cap() -> None:
    async def endless() -> AsyncIterator[bytes]:
        yield b"data: 1\n\ndata: "
        while True:  # one line that never ends: the reader must give up, not buffer
            yield b"x" * 4096

    received = []
    with pytest.raises(SSEEventTooLarge, match="100,000 byte limit"):
        async for data, _ in sse_data(endless(), max_event_bytes=100_000):
            received.append(data)
    assert received == [b"1"]
