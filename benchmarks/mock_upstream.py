"""A deliberately cheap OpenAI-compatible upstream for benchmarks (raw asyncio + httptools).

`POST /v1/chat/completions` answers a fixed completion, or with `"stream": true` a stream
of `MOCK_CHUNKS` chunks; `POST /v1/embeddings` a fixed 1536-float vector; `GET /v1/models`.
With `MOCK_DELAY_MS` set, each answer waits that long first, as a model would.
It spends a few microseconds per request, so what a benchmark measures is the gateway.

    python benchmarks/mock_upstream.py --port 18500
"""

from __future__ import annotations

import argparse
import asyncio
import os

import httptools
import orjson

CHUNKS = int(os.environ.get("MOCK_CHUNKS", "64"))
DELAY = float(os.environ.get("MOCK_DELAY_MS", "0")) / 1000  # before each answer, like a model
CHAT = orjson.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "x" * 200, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 27, "total_tokens": 39},
    }
)
EMBEDDING = orjson.dumps(
    {
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.0123456] * 1536}],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 8, "total_tokens": 8},
    }
)
MODELS = orjson.dumps({"object": "list", "data": []})


def _chunk(delta: dict[str, object], finish: str | None, usage: object = None) -> bytes:
    body: dict[str, object] = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    return b"data: " + orjson.dumps(body) + b"\n\n"


def _stream_body(with_usage: bool) -> bytes:
    parts = [_chunk({"role": "assistant", "content": ""}, None)]
    parts += [_chunk({"content": f"tok{i} "}, None) for i in range(CHUNKS)]
    parts.append(_chunk({}, "stop"))
    if with_usage:
        usage = {"prompt_tokens": 12, "completion_tokens": CHUNKS, "total_tokens": 12 + CHUNKS}
        final = {
            "id": "chatcmpl-bench",
            "object": "chat.completion.chunk",
            "created": 1700000000,
            "model": "gpt-4o-mini",
            "choices": [],
            "usage": usage,
        }
        parts.append(b"data: " + orjson.dumps(final) + b"\n\n")
    parts.append(b"data: [DONE]\n\n")
    return b"".join(parts)


STREAMS = {True: _stream_body(True), False: _stream_body(False)}


def _response(body: bytes, content_type: bytes = b"application/json") -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\ncontent-type: "
        + content_type
        + b"\r\ncontent-length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


class MockProtocol(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""
        self.body: list[bytes] = []

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.close()

    def on_url(self, url: bytes) -> None:
        self.url = url

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        body = b"".join(self.body)
        self.body = []
        answer = self._answer(self.url, body)
        if DELAY:
            asyncio.get_running_loop().call_later(DELAY, self._send, answer)
        else:
            self.transport.write(answer)

    def _send(self, answer: bytes) -> None:
        if not self.transport.is_closing():
            self.transport.write(answer)

    @staticmethod
    def _answer(url: bytes, body: bytes) -> bytes:
        if url.endswith(b"/chat/completions"):
            if b'"stream":true' in body:
                return _response(STREAMS[b'"include_usage":true' in body], b"text/event-stream")
            return _response(CHAT)
        if url.endswith(b"/embeddings"):
            return _response(EMBEDDING)
        return _response(MODELS)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=18500)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(
        loop.create_server(MockProtocol, "127.0.0.1", args.port, backlog=1024)
    )
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    main()
