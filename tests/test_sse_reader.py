"""Splitting an upstream's SSE bytes into events, however the bytes are cut."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiport.backends.sse_reader import sse_data


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
