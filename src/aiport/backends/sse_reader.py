"""Split a server-sent-event byte stream into the payloads of its `data:` fields.

Events are yielded the moment their blank-line terminator arrives, so a proxy built on this
forwards each chunk as soon as the upstream sends it. Comments and other fields are skipped.
An event still unterminated after `max_event_bytes` raises `SSEEventTooLarge`: one endless
line from a broken upstream must not take the memory. Each byte is scanned once, however
finely the stream is cut.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

MAX_EVENT_BYTES = 16 << 20


class SSEEventTooLarge(Exception):
    """An event grew past the cap before its end arrived."""


async def sse_data(
    chunks: AsyncIterable[bytes], max_event_bytes: int = MAX_EVENT_BYTES
) -> AsyncIterator[tuple[bytes, bool]]:
    """Yield each event's data (multi-line data joined with newlines), e.g. b'[DONE]', and
    whether more complete events are already at hand (arrived in the same read), so a
    writer can send those together."""
    pending = bytearray()  # the start of an event whose end has not arrived yet
    cr = False  # the last chunk ended in "\r": its "\n" may open the next one
    async for chunk in chunks:
        if cr:
            chunk, cr = b"\r" + chunk, False
        if b"\r" in chunk:
            if chunk.endswith(b"\r"):
                chunk, cr = chunk[:-1], True
            chunk = chunk.replace(b"\r\n", b"\n")
        if pending:
            scan_from = len(pending) - 1  # "\n" at the end of pending + "\n" in the chunk
            pending += chunk
            text: bytes | bytearray = pending
        else:
            scan_from = 0
            text = chunk
        start = 0
        end = text.find(b"\n\n", scan_from)
        while end >= 0:
            event = bytes(text[start:end])
            start = end + 2
            end = text.find(b"\n\n", start)
            data = _event_data(event)
            if data is not None:
                yield data, end >= 0
        if text is pending:
            del pending[:start]
        elif start < len(chunk):
            pending += chunk[start:]
        if len(pending) > max_event_bytes:
            raise SSEEventTooLarge(f"an event is over the {max_event_bytes:,} byte limit")
    if pending.strip():
        data = _event_data(bytes(pending))
        if data is not None:
            yield data, False


def _event_data(event: bytes) -> bytes | None:
    if event.startswith(b"data: ") and b"\n" not in event:
        return event[6:]  # the common case: one data line
    lines = [
        line[5:].removeprefix(b" ") for line in event.split(b"\n") if line.startswith(b"data:")
    ]
    return b"\n".join(lines) if lines else None
