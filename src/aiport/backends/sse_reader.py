"""Split a server-sent-event byte stream into the payloads of its `data:` fields.

Events are yielded the moment their blank-line terminator arrives, so a proxy built on this
forwards each chunk as soon as the upstream sends it. Comments and other fields are skipped.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator


async def sse_data(chunks: AsyncIterable[bytes]) -> AsyncIterator[tuple[bytes, bool]]:
    """Yield each event's data (multi-line data joined with newlines), e.g. b'[DONE]', and
    whether more complete events are already at hand (arrived in the same read), so a
    writer can send those together."""
    buffer = b""
    async for chunk in chunks:
        buffer += chunk
        if b"\r" in buffer:
            buffer = buffer.replace(b"\r\n", b"\n")
        start = 0
        end = buffer.find(b"\n\n")
        while end >= 0:
            event = buffer[start:end]
            start = end + 2
            end = buffer.find(b"\n\n", start)
            data = _event_data(event)
            if data is not None:
                yield data, end >= 0
        buffer = buffer[start:]
    if buffer.strip():
        data = _event_data(buffer)
        if data is not None:
            yield data, False


def _event_data(event: bytes) -> bytes | None:
    if event.startswith(b"data: ") and b"\n" not in event:
        return event[6:]  # the common case: one data line
    lines = [
        line[5:].removeprefix(b" ") for line in event.split(b"\n") if line.startswith(b"data:")
    ]
    return b"\n".join(lines) if lines else None
