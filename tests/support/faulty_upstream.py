"""An upstream on loopback whose answers are scripted byte by byte, for the faults a real HTTP
server library never produces: 1xx heads before the answer, resets mid-body, wrong lengths,
compression bombs, a single huge SSE line, a connection closed before any answer.

    upstream = FaultyUpstream().start()      # its own thread and event loop; .stop() at the end
    upstream.script("gpt-flaky", status(503), answer(chat_completion("ok")))
    # ... point aiport (or `Pool`) at upstream.url ...
    assert [r.body_json["model"] for r in upstream.requests] == ["gpt-flaky", "gpt-flaky"]

Which script answers a request: the one stored under its key, the `model` of a JSON body or
a multipart form, else the request path (`/v1/models`). `script(key, *scripts)` stores
scripts in order: the n-th request for that key plays the n-th script, and the last one
repeats from then on. A key without scripts plays `upstream.default` (a normal chat
completion). `clear()` forgets them.

A script is a list of steps, played in order after the whole request was read:

- `bytes`: written as they are, in one write
- `Pause(seconds)`: wait (so the bytes before and after arrive in different reads)
- `CLOSE`: close the connection (FIN); `RESET`: abort it (RST)
- `HANG`: never answer; wait until the caller goes away (counted in `upstream.abandoned`)
- `Repeat(data)`: write `data` again and again, each time once the last write drained,
  until the caller goes away (bytes written counted in `upstream.repeated_bytes`)

A script that neither closes nor resets leaves the connection open for the caller's next
request (keep-alive), so pool behaviour shows in `connections` (accepted) and
`connections_used`. The builders below return ready scripts; to add a behaviour, write a
function that returns a list of steps.
`FaultyUpstream(host="::1")` listens on IPv6 loopback; `ssl=context` serves HTTPS.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import re
import ssl as ssl_module
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest

# -- steps -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pause:
    seconds: float


@dataclass(frozen=True)
class Repeat:
    data: bytes


CLOSE = "close"
RESET = "reset"
HANG = "hang"

Step = bytes | Pause | Repeat | str
Script = list[Step]


# -- what was received -------------------------------------------------------------------


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    connection: int  # 1 for the first connection the server accepted, 2 for the next, ...

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def body_json(self) -> Any:
        return orjson.loads(self.body)

    @property
    def key(self) -> str:
        content_type = self.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            with contextlib.suppress(orjson.JSONDecodeError):
                data = orjson.loads(self.body)
                if isinstance(data, dict) and isinstance(data.get("model"), str):
                    return data["model"]
        elif content_type.startswith("multipart/form-data"):
            field = re.search(rb'name="model"\r\n\r\n([^\r]*)\r\n', self.body)
            if field:
                return field[1].decode()
        return self.path


# -- builders ----------------------------------------------------------------------------


def head(status: int, headers: dict[str, str] | None = None, reason: str = "X") -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def answer(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Script:
    """A complete answer with a content-length, connection kept open."""
    fields = {"content-type": "application/json", "content-length": str(len(body))}
    return [head(status, fields | (headers or {})) + body]


def chat_completion(text: str = "Hello!", model: str = "gpt-4o-mini") -> bytes:
    return orjson.dumps(
        {
            "id": "chatcmpl-faulty",
            "object": "chat.completion",
            "created": 1727346173,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
        }
    )


def chat_chunk(text: str, model: str = "gpt-4o-mini") -> bytes:
    """One SSE event with a content delta."""
    chunk = {
        "id": "chatcmpl-faulty",
        "object": "chat.completion.chunk",
        "created": 1727346173,
        "model": model,
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
    }
    return b"data: " + orjson.dumps(chunk) + b"\n\n"


def finished_chat_stream(model: str, *words: str, completion_tokens: int) -> Script:
    """A whole chat stream: a content chunk per word, the finish chunk, then the usage
    chunk (5 prompt tokens, `completion_tokens`) and `[DONE]`."""
    final = {
        "id": "chatcmpl-faulty",
        "object": "chat.completion.chunk",
        "created": 1727346173,
        "model": model,
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
    }
    usage = {
        **final,
        "choices": [],
        "usage": {"prompt_tokens": 5, "completion_tokens": completion_tokens},
    }
    events = [chat_chunk(w, model) for w in words]
    return sse(*events, *(b"data: " + orjson.dumps(c) + b"\n\n" for c in (final, usage)))


def chunked(data: bytes) -> bytes:
    """`data` as one HTTP/1.1 chunk."""
    return b"%x\r\n%s\r\n" % (len(data), data)


SSE_HEAD = head(200, {"content-type": "text/event-stream", "transfer-encoding": "chunked"})
LAST_CHUNK = b"0\r\n\r\n"


def sse(*events: bytes, done: bool = True) -> Script:
    """A whole SSE stream, one HTTP chunk per event, ending with `data: [DONE]`."""
    tail = [chunked(b"data: [DONE]\n\n")] if done else []
    return [SSE_HEAD + b"".join(chunked(e) for e in [*events, *tail]) + LAST_CHUNK]


def status(code: int, message: str = "upstream trouble", **headers: str) -> Script:
    """An error status with an OpenAI error body."""
    body = {"error": {"message": message, "type": "server_error", "param": None, "code": None}}
    return answer(orjson.dumps(body), code, {k.replace("_", "-"): v for k, v in headers.items()})


def openai_error(code: int, error_code: str, message: str = "refused") -> Script:
    """An error status whose OpenAI body names a `code` (e.g. `context_length_exceeded`)."""
    error = {"message": message, "type": "invalid_request_error", "param": None, "code": error_code}
    return answer(orjson.dumps({"error": error}), code)


def rate_limited(retry_after: str | None = None, retry_after_ms: str | None = None) -> Script:
    """429 with `retry-after` (seconds) and/or `retry-after-ms`, as OpenAI sends them."""
    headers = {}
    if retry_after is not None:
        headers["retry_after"] = retry_after
    if retry_after_ms is not None:
        headers["retry_after_ms"] = retry_after_ms
    return status(429, "Rate limit reached", **headers)


def interim_then(final: Script, *interim: int, pause: float = 0.05) -> Script:
    """1xx heads (e.g. 100, 103), each in its own write, then the final answer."""
    steps: Script = []
    for code in interim or (103,):
        steps += [head(code, {"link": "</style.css>; rel=preload"} if code == 103 else {})]
        steps += [Pause(pause)]
    return steps + final


def hang_before_headers() -> Script:
    return [HANG]


def slow_first_byte(seconds: float, final: Script | None = None) -> Script:
    return [Pause(seconds), *(final or answer(chat_completion()))]


def reset_mid_stream(*events: bytes) -> Script:
    """A stream head and some events, then a reset (no terminating chunk)."""
    return [SSE_HEAD + b"".join(chunked(e) for e in events), Pause(0.05), RESET]


def invalid_json() -> Script:
    return answer(b'{"id": "chatcmpl-faulty", "choices": [')


def compressed(body: bytes, encoding: str = "gzip", **headers: str) -> Script:
    """`body` compressed with gzip or deflate (zlib-wrapped, as RFC 9110 means it)."""
    data = gzip.compress(body) if encoding == "gzip" else zlib.compress(body)
    return answer(data, 200, {"content-encoding": encoding} | headers)


def gzip_bomb(decoded_bytes: int) -> Script:
    """A small gzip body that decodes to `decoded_bytes` zero bytes."""
    return compressed(b"\0" * decoded_bytes, "gzip")


def gzip_bomb_stream(decoded_bytes: int, *events_before: bytes) -> Script:
    """A gzip-encoded SSE stream: some events, then `decoded_bytes` of one endless line."""
    packer = zlib.compressobj(wbits=31)
    first = packer.compress(b"".join(events_before)) + packer.flush(zlib.Z_SYNC_FLUSH)
    bomb = packer.compress(b"data: " + b"0" * decoded_bytes) + packer.flush()
    fields = {
        "content-type": "text/event-stream",
        "content-encoding": "gzip",
        "transfer-encoding": "chunked",
    }
    return [head(200, fields) + chunked(first), Pause(0.05), chunked(bomb) + LAST_CHUNK]


def huge_sse_line(size: int, *events_before: bytes, piece: int = 65536) -> Script:
    """A stream that sends some events, then one `data:` line of `size` bytes in many pieces
    (a reader that re-copies its buffer per read is quadratic here), never ending it."""
    steps: Script = [SSE_HEAD + b"".join(chunked(e) for e in events_before), Pause(0.05)]
    line = chunked(b"data: " + b"x" * piece)
    steps += [line * (size // piece + 1), CLOSE]
    return steps


def accept_then_close() -> Script:
    """Take the request, answer nothing, close (what a stale keep-alive peer does)."""
    return [CLOSE]


def length_mismatch(declared: int = 1000, sent: bytes = b'{"id": "short"') -> Script:
    """Declare `declared` bytes of body, send fewer, close."""
    fields = {"content-type": "application/json", "content-length": str(declared)}
    return [head(200, fields) + sent, CLOSE]


# -- the server ----------------------------------------------------------------------------


@dataclass
class FaultyUpstream:
    host: str = "127.0.0.1"
    ssl: ssl_module.SSLContext | None = None
    default: Script = field(default_factory=lambda: answer(chat_completion()))
    requests: list[Request] = field(default_factory=list)
    connections: int = 0
    abandoned: int = 0
    repeated_bytes: int = 0
    port: int = 0

    def __post_init__(self) -> None:
        self._scripts: dict[str, list[Script]] = {}
        self._played: dict[str, int] = {}
        self._accepted = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.ssl else 'http'}://{host}:{self.port}/v1"

    def script(self, key: str, *scripts: Script) -> FaultyUpstream:
        self._scripts[key] = list(scripts)
        self._played[key] = 0
        return self

    def clear(self) -> None:
        """Forget scripts, requests and counts (between tests sharing one server)."""
        self._scripts.clear()
        self._played.clear()
        self.requests.clear()
        self.connections = self.abandoned = self.repeated_bytes = 0

    def count(self, key: str) -> int:
        """How many requests had this key (model name or path)."""
        return sum(1 for request in self.requests if request.key == key)

    @property
    def connections_used(self) -> int:
        """How many connections the recorded requests came on."""
        return len({request.connection for request in self.requests})

    def start(self) -> FaultyUpstream:
        threading.Thread(target=self._serve, daemon=True).start()
        if not self._ready.wait(10):
            raise RuntimeError("the faulty upstream did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)

    def _serve(self) -> None:
        self._loop = loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        server = loop.run_until_complete(
            asyncio.start_server(self._handle, self.host, 0, ssl=self.ssl)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        loop.run_forever()
        server.close()
        tasks = asyncio.all_tasks(loop)
        for task in tasks:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        loop.close()

    def _next_script(self, key: str) -> Script:
        scripts = self._scripts.get(key)
        if not scripts:
            return self.default
        n = self._played[key]
        self._played[key] = n + 1
        return scripts[min(n, len(scripts) - 1)]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._accepted += 1
        number = self._accepted
        try:
            while (request := await _read_request(reader, number)) is not None:
                self.requests.append(request)
                if not await self._play(self._next_script(request.key), reader, writer):
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def _play(
        self, script: Script, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Play one script; False once the connection is gone."""
        for step in script:
            if isinstance(step, bytes):
                writer.write(step)
                await writer.drain()
            elif isinstance(step, Pause):
                await asyncio.sleep(step.seconds)
            elif isinstance(step, Repeat):
                while True:  # until the write fails: the caller went away
                    writer.write(step.data)
                    await writer.drain()
                    self.repeated_bytes += len(step.data)
            elif step == CLOSE:
                writer.close()
                return False
            elif step == RESET:
                writer.transport.abort()
                return False
            elif step == HANG:
                await reader.read()  # until the caller closes
                self.abandoned += 1
                return False
        return True


async def _read_request(reader: asyncio.StreamReader, connection: int) -> Request | None:
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    first, *lines = raw.decode("latin-1").rstrip("\r\n").split("\r\n")
    method, target, _ = first.split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while size := int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16):
            body += (await reader.readexactly(size + 2))[:-2]
        await reader.readuntil(b"\r\n")
    else:
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Request(method, target, headers, body, connection)


def module_upstream(name: str = "upstream") -> Any:
    """A module-scoped fixture `name`: one `FaultyUpstream` for a test module, stopped after
    its last test. Use it at the module's top level: `upstream = module_upstream()`."""

    @pytest.fixture(scope="module", name=name)
    def fixture() -> Iterator[FaultyUpstream]:
        server = FaultyUpstream().start()
        yield server
        server.stop()

    return fixture
