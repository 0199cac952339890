#!/usr/bin/env python3
"""Fast, minimal OpenAI-compatible mock upstream (uvloop + httptools, raw asyncio.Protocol).

Endpoints (also accepted without the /v1 prefix):
  POST /v1/chat/completions   non-stream JSON, or stream=true -> SSE chunks ending with `data: [DONE]`
  POST /v1/embeddings         fixed vector per input (float list, or base64 if encoding_format=base64)
  GET  /v1/models             model list
  GET  /health                "ok"

Config (env):
  MOCK_HOST (127.0.0.1)  MOCK_PORT (18000)
  MOCK_STREAM_CHUNKS (64)   number of content chunks per stream (model name suffix "-c<N>" overrides,
                            e.g. model "gpt-4o-mini-c128")
  MOCK_CHUNK_DELAY_MS (0)   delay between stream chunks (0 = whole stream written in one syscall)
  MOCK_EMBED_DIM (1536)     embedding dimension

Stream layout: 1 role chunk (delta {"role":"assistant","content":""}), N content chunks,
1 finish chunk (finish_reason "stop"), optional usage chunk (stream_options.include_usage),
then `data: [DONE]`.  Transfer-Encoding: chunked, keep-alive.
"""

import asyncio
import base64
import json
import os
import re
import signal
import struct
import sys
import time
from collections import deque

import httptools

try:
    import uvloop
except ImportError:  # pragma: no cover
    uvloop = None

HOST = os.environ.get("MOCK_HOST", "127.0.0.1")
PORT = int(os.environ.get("MOCK_PORT", "18000"))
CHUNKS = int(os.environ.get("MOCK_STREAM_CHUNKS", "64"))
DELAY = float(os.environ.get("MOCK_CHUNK_DELAY_MS", "0")) / 1000.0
DIM = int(os.environ.get("MOCK_EMBED_DIM", "1536"))
CREATED = int(time.time())
MODEL_CHUNKS_RE = re.compile(r"-c(\d+)$")

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

NONSTREAM_TEXT = (
    "This is a mock response from the benchmark upstream. It contains a fixed sentence "
    "so that every gateway forwards exactly the same payload size on every request."
)


def _http_head(status, ctype, clen=None, keep_alive=True, chunked=False, extra=b""):
    reason = {200: b"OK", 400: b"Bad Request", 404: b"Not Found", 405: b"Method Not Allowed"}.get(
        status, b"OK"
    )
    h = [b"HTTP/1.1 %d %s\r\n" % (status, reason), b"content-type: ", ctype, b"\r\n"]
    if chunked:
        h.append(b"transfer-encoding: chunked\r\n")
    else:
        h.append(b"content-length: %d\r\n" % clen)
    h.append(b"connection: keep-alive\r\n" if keep_alive else b"connection: close\r\n")
    h.append(extra)
    h.append(b"\r\n")
    return b"".join(h)


def _full(status, body, keep_alive, ctype=b"application/json"):
    return _http_head(status, ctype, len(body), keep_alive) + body


def _err(status, msg, typ="invalid_request_error"):
    return _dumps({"error": {"message": msg, "type": typ, "param": None, "code": None}}).encode()


# ---------------------------------------------------------------- cached bodies
_cache = {}


def _cached(key, fn):
    v = _cache.get(key)
    if v is None:
        if len(_cache) > 256:
            _cache.clear()
        v = _cache[key] = fn()
    return v


def chat_body(model):
    ntok = len(NONSTREAM_TEXT.split())
    return _dumps(
        {
            "id": "chatcmpl-mock0000000000000000",
            "object": "chat.completion",
            "created": CREATED,
            "model": model,
            "system_fingerprint": "fp_mock",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": NONSTREAM_TEXT, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 12, "completion_tokens": ntok, "total_tokens": 12 + ntok},
        }
    ).encode()


def _sse(obj):
    return b"data: " + (obj if isinstance(obj, bytes) else _dumps(obj).encode()) + b"\n\n"


def _frame(b):
    return b"%x\r\n%s\r\n" % (len(b), b)


def stream_events(model, n, include_usage):
    base = {
        "id": "chatcmpl-mock0000000000000000",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": model,
        "system_fingerprint": "fp_mock",
    }
    ev = []
    d = dict(
        base,
        choices=[
            {
                "index": 0,
                "delta": {"role": "assistant", "content": ""},
                "logprobs": None,
                "finish_reason": None,
            }
        ],
    )
    if include_usage:
        d["usage"] = None
    ev.append(_sse(d))
    for i in range(n):
        d = dict(
            base,
            choices=[
                {
                    "index": 0,
                    "delta": {"content": "tok%d " % i},
                    "logprobs": None,
                    "finish_reason": None,
                }
            ],
        )
        if include_usage:
            d["usage"] = None
        ev.append(_sse(d))
    d = dict(base, choices=[{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}])
    if include_usage:
        d["usage"] = None
    ev.append(_sse(d))
    if include_usage:
        ev.append(
            _sse(
                dict(
                    base,
                    choices=[],
                    usage={"prompt_tokens": 12, "completion_tokens": n, "total_tokens": 12 + n},
                )
            )
        )
    ev.append(b"data: [DONE]\n\n")
    return [_frame(e) for e in ev] + [b"0\r\n\r\n"]


def stream_all(model, n, include_usage):
    return b"".join(stream_events(model, n, include_usage))


_vec = [round(((i * 7919) % 1000) / 1000.0 - 0.5, 6) for i in range(DIM)]
_vec_b64 = base64.b64encode(struct.pack("<%df" % DIM, *_vec)).decode()


def embed_body(model, n_inputs, b64):
    vec = _vec_b64 if b64 else _vec
    return _dumps(
        {
            "object": "list",
            "data": [
                {"object": "embedding", "index": i, "embedding": vec} for i in range(n_inputs)
            ],
            "model": model,
            "usage": {"prompt_tokens": 8 * n_inputs, "total_tokens": 8 * n_inputs},
        }
    ).encode()


MODELS_BODY = _dumps(
    {
        "object": "list",
        "data": [
            {"id": m, "object": "model", "created": CREATED, "owned_by": "mock"}
            for m in ("gpt-4o-mini", "gpt-4o", "text-embedding-3-small")
        ],
    }
).encode()

SSE_HEAD_KA = _http_head(
    200, b"text/event-stream", keep_alive=True, chunked=True, extra=b"cache-control: no-cache\r\n"
)
SSE_HEAD_CLOSE = _http_head(
    200, b"text/event-stream", keep_alive=False, chunked=True, extra=b"cache-control: no-cache\r\n"
)


# ---------------------------------------------------------------- protocol
class Conn(asyncio.Protocol):
    __slots__ = ("body", "busy", "closed", "p", "pending", "t", "url")

    def connection_made(self, transport):
        self.t = transport
        self.p = httptools.HttpRequestParser(self)
        self.url = b""
        self.body = []
        self.pending = deque()
        self.busy = False
        self.closed = False

    def connection_lost(self, exc):
        self.closed = True

    def data_received(self, data):
        try:
            self.p.feed_data(data)
        except httptools.HttpParserUpgrade:
            self.t.close()
        except httptools.HttpParserError:
            self.t.write(_full(400, _err(400, "bad http"), False))
            self.t.close()

    # parser callbacks
    def on_message_begin(self):
        self.url = b""
        self.body = []

    def on_url(self, url):
        self.url += url

    def on_body(self, body):
        self.body.append(body)

    def on_message_complete(self):
        req = (self.p.get_method(), self.url, b"".join(self.body), self.p.should_keep_alive())
        if self.busy:
            self.pending.append(req)
        else:
            self.handle(*req)

    # routing
    def handle(self, method, url, body, ka):
        path = url.split(b"?", 1)[0]
        if path.startswith(b"/v1/"):
            path = path[3:]
        t = self.t
        if path == b"/chat/completions" and method == b"POST":
            try:
                req = json.loads(body)
                model = str(req.get("model") or "gpt-4o-mini")
            except Exception:
                t.write(_full(400, _err(400, "invalid json"), ka))
                return self._after(ka)
            if req.get("stream"):
                n = CHUNKS
                m = MODEL_CHUNKS_RE.search(model)
                if m:
                    n = int(m.group(1))
                so = req.get("stream_options") or {}
                iu = bool(so.get("include_usage")) if isinstance(so, dict) else False
                if DELAY <= 0:
                    t.write(
                        (SSE_HEAD_KA if ka else SSE_HEAD_CLOSE)
                        + _cached(("s", model, n, iu), lambda: stream_all(model, n, iu))
                    )
                    return self._after(ka)
                self.busy = True
                frames = _cached(("f", model, n, iu), lambda: stream_events(model, n, iu))
                self.task = asyncio.ensure_future(self._slow_stream(frames, ka))
                return
            t.write(_full(200, _cached(("c", model), lambda: chat_body(model)), ka))
            return self._after(ka)
        if path == b"/embeddings" and method == b"POST":
            try:
                req = json.loads(body)
                model = str(req.get("model") or "text-embedding-3-small")
                inp = req.get("input")
                n = len(inp) if isinstance(inp, list) and inp and not isinstance(inp[0], int) else 1
                b64 = req.get("encoding_format") == "base64"
            except Exception:
                t.write(_full(400, _err(400, "invalid json"), ka))
                return self._after(ka)
            t.write(
                _full(200, _cached(("e", model, n, b64), lambda: embed_body(model, n, b64)), ka)
            )
            return self._after(ka)
        if path == b"/models" and method == b"GET":
            t.write(_full(200, MODELS_BODY, ka))
            return self._after(ka)
        if path == b"/health" or path == b"/":
            t.write(_full(200, b"ok", ka, b"text/plain"))
            return self._after(ka)
        t.write(_full(404, _err(404, "unknown path {}".format(url.decode("latin1"))), ka))
        return self._after(ka)

    def _after(self, ka):
        if not ka:
            self.t.close()

    async def _slow_stream(self, frames, ka):
        t = self.t
        t.write(SSE_HEAD_KA if ka else SSE_HEAD_CLOSE)
        last = len(frames) - 1
        for i, f in enumerate(frames):
            if self.closed:
                return
            t.write(f)
            if i < last - 1:  # no sleep before [DONE]/terminator
                await asyncio.sleep(DELAY)
        self.busy = False
        if not ka:
            t.close()
            return
        while self.pending and not self.busy and not self.closed:
            self.handle(*self.pending.popleft())


def main():
    if uvloop is not None:
        uvloop.install()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    srv = loop.run_until_complete(
        loop.create_server(Conn, HOST, PORT, backlog=4096, reuse_address=True)
    )
    print(
        "mock_upstream listening on http://%s:%d (uvloop=%s chunks=%d delay_ms=%g dim=%d pid=%d)"
        % (HOST, PORT, uvloop is not None, CHUNKS, DELAY * 1000, DIM, os.getpid()),
        flush=True,
    )
    for s in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(s, loop.stop)
    try:
        loop.run_forever()
    finally:
        srv.close()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0)
    main()
