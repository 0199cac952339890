"""A real OpenAI-compatible HTTP server on loopback, for tests, with faults on request.

It runs in its own thread and event loop, so tests can drive aiport with the blocking
SDK while this server answers. The model name chooses the behaviour:

- `replay-<sha>`: send the recorded OpenAI stream `<sha>.bin` byte for byte
- `slow-<ms>`: wait that long before the response headers
- `error-<status>`: answer that status with an OpenAI error body (+ retry-after on 429;
  Anthropic's error shape on `/v1/messages`)
- `overloaded-midstream` (`/v1/messages`): stream one word, then an `overloaded_error` event
- `raw-error-<status>`: answer that status with a non-OpenAI body
- `string-error-<status>`: answer that status with `{"error": "<message>"}` (llama.cpp, Ollama)
- `break-stream`: send two chunks (chat or speech), then drop the connection
- `hang`, `hang-<tag>`: never answer (`hang_abandoned` in `stream_events` once the caller
  leaves)
- `endless`: stream a chunk every 50 ms until the client goes away
- `flood`: stream 4000-character chunks as fast as the reader takes them, until it goes away
- `first-then-sleep-<ms>`: stream the first content chunk (a streamed transcription: its
  first event), wait that long, then the rest
- `agent-…`: a model that uses tools (see `fake_script`)
- a chat request whose last message is `invalid-param <param>`: a 400 naming `<param>`
- anything else: a normal answer

Besides chat completions it speaks the Responses API natively (`/v1/responses`), as
OpenAI does, and Anthropic's Messages API (`/v1/messages`), with the same answers
(`fake_script`); legacy `/v1/completions` and image edits and variations too.

Every answer carries the upstream's own request id, as the providers send it (`request-id`
on Anthropic's paths, `x-request-id` on OpenAI's), the last one in `last_request_id`.
Every request is kept in `requests` (path, headers, body) for assertions, the fate of
each stream in `stream_events` (finished / client gone), and the content chunks written
to each stream in `sent_chunks`, by the request's `user` field.
"""

from __future__ import annotations

import asyncio
import base64
import struct
import threading
import time
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from tests.support import fake_script

CREATED = 1727346173
# What OpenAI reports for a GPT Image picture: text and image input tokens, picture tokens.
IMAGE_EDIT_USAGE = {
    "input_tokens": 50,
    "input_tokens_details": {"text_tokens": 10, "image_tokens": 40},
    "output_tokens": 272,
    "total_tokens": 322,
}
ANTHROPIC_ERRORS = {400: "invalid_request_error", 429: "rate_limit_error", 529: "overloaded_error"}


# A transcription by a model priced by tokens reports them (OpenAI's reference example).
TRANSCRIPTION_TOKENS = {
    "type": "tokens",
    "input_tokens": 14,
    "input_token_details": {"text_tokens": 0, "audio_tokens": 14},
    "output_tokens": 45,
    "total_tokens": 59,
}


def streams_dir() -> Path:
    """Real OpenAI SSE streams, recorded byte for byte, kept in `tests/data/openai/streams`."""
    return Path(__file__).resolve().parents[1] / "data" / "openai" / "streams"


# Speech with `stream_format: "sse"` as OpenAI sends it: base64 audio, then the usage.
SPEECH_EVENTS = "".join(
    "data: " + orjson.dumps(event).decode() + "\n\n"
    for event in (
        {"type": "speech.audio.delta", "audio": base64.b64encode(b"\xff\xfb" * 8).decode()},
        {
            "type": "speech.audio.done",
            "usage": {"input_tokens": 5, "output_tokens": 9, "total_tokens": 14},
        },
    )
)
# A streamed transcription as OpenAI sends it: deltas, then the text and its token usage.
TRANSCRIPT_EVENTS = "".join(
    "data: " + orjson.dumps(event).decode() + "\n\n"
    for event in (
        {"type": "transcript.text.delta", "delta": "hello"},
        {"type": "transcript.text.delta", "delta": " world"},
        {
            "type": "transcript.text.done",
            "text": "hello world",
            "usage": {
                "type": "tokens",
                "input_tokens": 1000,
                "input_token_details": {"text_tokens": 0, "audio_tokens": 1000},
                "output_tokens": 500,
                "total_tokens": 1500,
            },
        },
    )
)


class FakeUpstream:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.stream_events: list[str] = []
        self.sent_chunks: dict[str, int] = {}
        self.port = 0
        self.last_request_id = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> FakeUpstream:
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        app = web.Application(client_max_size=64 * 1024 * 1024)
        for path, handler in self._routes():
            app.router.add_post("/v1" + path, handler)
        app.router.add_get("/v1/models", self.models)
        app.on_response_prepare.append(self._name_answer)
        self._runner = web.AppRunner(app, handler_cancellation=True)
        loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._ready.set()
        loop.run_forever()

    def _routes(self) -> list[tuple[str, Any]]:
        return [
            ("/chat/completions", self.chat),
            ("/embeddings", self.embeddings),
            ("/images/generations", self.images),
            ("/audio/speech", self.speech),
            ("/audio/transcriptions", self.transcription),
            ("/audio/translations", self.transcription),
            ("/moderations", self.moderations),
            ("/responses", self.responses),
            ("/messages", self.messages),
            ("/messages/count_tokens", self.count_tokens),
            ("/completions", self.completions),
            ("/images/edits", self.image_edits),
            ("/images/variations", self.image_edits),
        ]

    async def _name_answer(self, request: web.Request, response: web.StreamResponse) -> None:
        self.last_request_id = f"req_upstream_{len(self.requests)}"
        anthropic = "/messages" in request.path
        response.headers["request-id" if anthropic else "x-request-id"] = self.last_request_id

    def last(self, path_suffix: str) -> dict[str, Any]:
        for entry in reversed(self.requests):
            if entry["path"].endswith(path_suffix):
                return entry
        raise AssertionError(f"no request to {path_suffix}")

    # -- behaviour ---------------------------------------------------------------------

    async def _record_json(self, request: web.Request) -> dict[str, Any]:
        body = orjson.loads(await request.read())
        self.requests.append({"path": request.path, "headers": dict(request.headers), "body": body})
        return body

    async def _faults(
        self, request: web.Request, model: str, anthropic: bool = False
    ) -> web.StreamResponse | None:
        if model.startswith("slow-"):
            await asyncio.sleep(int(model.split("-")[1]) / 1000)
        if model == "hang" or model.startswith("hang-"):
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                self.stream_events.append("hang_abandoned")
                raise
        if model.startswith("error-"):
            status = int(model.split("-")[1])
            body = {
                "error": {
                    "message": f"fake {status}",
                    "type": "fake",
                    "param": None,
                    "code": f"fake_{status}",
                }
            }
            if anthropic:  # Anthropic's error shape
                kind = ANTHROPIC_ERRORS.get(status, "api_error")
                error = {"type": kind, "message": f"fake {status}"}
                body = {"type": "error", "error": error, "request_id": "req_fake"}
            headers = {"retry-after": "7", "x-ratelimit-remaining-requests": "0"}
            return web.json_response(body, status=status, headers=headers)
        if model.startswith("string-error-"):
            status = int(model.rsplit("-", 1)[1])
            return web.json_response({"error": f"fake plain {status}"}, status=status)
        if model.startswith("raw-error-"):
            return web.Response(status=int(model.split("-")[2]), text="<html>bad gateway</html>")
        return None

    async def chat(self, request: web.Request) -> web.StreamResponse:
        body = await self._record_json(request)
        model = str(body.get("model"))
        fault = await self._faults(request, model)
        if fault is not None:
            return fault
        if model.startswith("replay-"):
            return await self._replay(request, model.removeprefix("replay-"))
        last = (body.get("messages") or [{}])[-1].get("content")
        if isinstance(last, str) and last.startswith("invalid-param "):
            param = last.split(" ", 1)[1]  # a 400 naming it, as OpenAI words one
            error = {"message": f"Invalid '{param}': refused.", "type": "invalid_request_error"}
            error |= {"param": param, "code": "invalid_value"}
            return web.json_response({"error": error}, status=400)
        found = fake_script.chat_answer(body)
        if body.get("stream"):
            return await self._stream(request, body, found)
        text = found.text
        message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
        if found.tool is not None:
            message = fake_script.chat_tool_message(found)
        return web.json_response(
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": CREATED,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": message,
                        "logprobs": None,
                        "finish_reason": "stop" if found.tool is None else "tool_calls",
                    }
                ],
                "usage": {"prompt_tokens": 11, "completion_tokens": 6, "total_tokens": 17},
                "system_fingerprint": "fp_fake",
            }
        )

    async def _replay(self, request: web.Request, sha: str) -> web.StreamResponse:
        data = (streams_dir() / f"{sha}.bin").read_bytes()
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        # Uneven pieces, so that events arrive split across reads as they do in real life.
        for start in range(0, len(data), 97):
            await response.write(data[start : start + 97])
        await response.write_eof()
        return response

    async def _stream(
        self, request: web.Request, body: dict[str, Any], found: fake_script.Answer
    ) -> web.StreamResponse:
        model = str(body.get("model"))
        usage = bool((body.get("stream_options") or {}).get("include_usage"))
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            data: dict[str, Any] = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": CREATED,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            if usage:
                data["usage"] = None
            return b"data: " + orjson.dumps(data) + b"\n\n"

        tag = str(body.get("user"))
        try:
            if found.tool is not None:
                for delta in fake_script.chat_tool_deltas(found):
                    await response.write(chunk(delta))
                await response.write(chunk({}, "tool_calls"))
                await self._stream_end(response, model, usage)
                return response
            await response.write(chunk({"role": "assistant", "content": ""}))
            if model in ("endless", "flood"):
                text, pause = ("tick ", 0.05) if model == "endless" else ("x" * 4000, 0)
                while True:
                    await response.write(chunk({"content": text}))
                    self.sent_chunks[tag] = self.sent_chunks.get(tag, 0) + 1
                    await asyncio.sleep(pause)
            for word in found.words:
                # Counted first: the client may have read it before `write` returns here.
                self.sent_chunks[tag] = self.sent_chunks.get(tag, 0) + 1
                await response.write(chunk({"content": word}))
                if model.startswith("first-then-sleep-") and word == "Hello":
                    await asyncio.sleep(int(model.rsplit("-", 1)[1]) / 1000)
                if model == "break-stream" and word == " from":
                    request.transport.close()  # type: ignore[union-attr]
                    self.stream_events.append("broken")
                    return response
            await response.write(chunk({}, "stop"))
            await self._stream_end(response, model, usage)
        except (asyncio.CancelledError, ConnectionError):
            self.stream_events.append("client_gone")
            raise
        return response

    async def _stream_end(self, response: web.StreamResponse, model: str, usage: bool) -> None:
        if usage:
            final = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": CREATED,
                "model": model,
                "choices": [],
                "usage": {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13},
            }
            await response.write(b"data: " + orjson.dumps(final) + b"\n\n")
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        self.stream_events.append("finished")

    async def responses(self, request: web.Request) -> web.StreamResponse:
        body = await self._record_json(request)
        fault = await self._faults(request, str(body.get("model")))
        if fault is not None:
            return fault
        if not body.get("stream"):
            return web.json_response(fake_script.response_whole(body))
        return await self._named_events(request, fake_script.response_events(body))

    async def messages(self, request: web.Request) -> web.StreamResponse:
        body = await self._record_json(request)
        fault = await self._faults(request, str(body.get("model")), anthropic=True)
        if fault is not None:
            return fault
        if not body.get("stream"):
            return web.json_response(fake_script.message_whole(body))
        return await self._named_events(request, fake_script.message_events(body))

    async def _named_events(
        self, request: web.Request, events: list[dict[str, Any]], *, cut: str = ""
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        for event in events:
            kind = event["type"].encode()
            await response.write(b"event: " + kind + b"\ndata: " + orjson.dumps(event) + b"\n\n")
        if cut == "cut:":  # the connection breaks before the stream's end
            await asyncio.sleep(0.05)  # let the proxy pass the events on
            request.transport.close()  # type: ignore[union-attr]
            return response
        if cut:  # nothing more until the client goes away (at most 10 s)
            for _ in range(200):
                if request.transport is None or request.transport.is_closing():
                    return response
                await asyncio.sleep(0.05)
        await response.write_eof()
        return response

    async def count_tokens(self, request: web.Request) -> web.StreamResponse:
        await self._record_json(request)
        return web.json_response({"input_tokens": 7})

    async def completions(self, request: web.Request) -> web.StreamResponse:
        body = await self._record_json(request)
        fault = await self._faults(request, str(body.get("model")))
        if fault is not None:
            return fault
        head = {"id": "cmpl-fake", "object": "text_completion", "created": CREATED}
        head["model"] = body.get("model")
        usage = {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}
        if not body.get("stream"):
            choice = {"text": " world.", "index": 0, "logprobs": None, "finish_reason": "stop"}
            return web.json_response(head | {"choices": [choice], "usage": usage})
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        with_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        for text, finish in ((" wor", None), ("ld.", None), ("", "stop")):
            choice = {"text": text, "index": 0, "logprobs": None, "finish_reason": finish}
            chunk = head | {"choices": [choice]} | ({"usage": None} if with_usage else {})
            await response.write(b"data: " + orjson.dumps(chunk) + b"\n\n")
        if with_usage:
            final = head | {"choices": [], "usage": usage}
            await response.write(b"data: " + orjson.dumps(final) + b"\n\n")
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def image_edits(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        self.requests.append({"path": request.path, "headers": dict(request.headers), "body": raw})
        answer: dict[str, Any] = {
            "created": CREATED,
            "data": [{"b64_json": "aGVsbG8=", "revised_prompt": None}],
        }
        if b'name="model"\r\n\r\ngpt-image-' in raw:  # GPT Image models report tokens
            answer["usage"] = IMAGE_EDIT_USAGE
        if b'name="stream"\r\n\r\ntrue' in raw:  # a partial picture, then the whole one
            picture = {"b64_json": "aGVsbG8=", "created_at": CREATED, "size": "1024x1024"}
            picture |= {"quality": "low", "background": "opaque", "output_format": "png"}
            partial = {"type": "image_edit.partial_image", "partial_image_index": 0}
            completed = {"type": "image_edit.completed", "usage": IMAGE_EDIT_USAGE}
            return await self._named_events(request, [partial | picture, completed | picture])
        return web.json_response(answer)

    async def embeddings(self, request: web.Request) -> web.StreamResponse:
        body = await self._record_json(request)
        fault = await self._faults(request, str(body.get("model")))
        if fault is not None:
            return fault
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        vector = [0.25, -0.5, 1.0]
        encoded: Any = vector
        if body.get("encoding_format") == "base64":
            encoded = base64.b64encode(struct.pack("<3f", *vector)).decode()
        return web.json_response(
            {
                "object": "list",
                "data": [
                    {"object": "embedding", "index": i, "embedding": encoded}
                    for i in range(len(inputs))
                ],
                "model": body["model"],
                "usage": {"prompt_tokens": 5, "total_tokens": 5},
            }
        )

    async def images(self, request: web.Request) -> web.StreamResponse:
        body = await self._record_json(request)
        if body.get("stream"):  # GPT Image: a partial picture, then the whole one
            picture = {"b64_json": "aGVsbG8=", "created_at": CREATED, "size": "1024x1024"}
            picture |= {"quality": "low", "background": "opaque", "output_format": "png"}
            partial = {"type": "image_generation.partial_image", "partial_image_index": 0}
            completed = {"type": "image_generation.completed", "usage": IMAGE_EDIT_USAGE}
            prompt = str(body.get("prompt"))
            if prompt.startswith(("cut:", "hang:")):  # its partials, then it breaks off/waits
                partials = [partial | picture] * int(body.get("partial_images") or 1)
                return await self._named_events(request, partials, cut=prompt[:4])
            return await self._named_events(request, [partial | picture, completed | picture])
        return web.json_response(
            {
                "created": CREATED,
                "data": [{"url": "https://example.invalid/img.png", "revised_prompt": "x"}],
            }
        )

    async def speech(self, request: web.Request) -> web.StreamResponse:
        body = await self._record_json(request)
        fault = await self._faults(request, str(body.get("model")))
        if fault is not None:
            return fault
        sse = body.get("stream_format") == "sse"
        if sse and body.get("model") != "break-stream":  # as gpt-4o-mini-tts streams
            return web.Response(text=SPEECH_EVENTS, content_type="text/event-stream")
        response = web.StreamResponse(
            headers={"content-type": "text/event-stream" if sse else "audio/mpeg"}
        )
        await response.prepare(request)
        if sse:  # one whole event and half of the next, then the connection drops
            await response.write(SPEECH_EVENTS.encode()[: SPEECH_EVENTS.index("\n\n") + 12])
            await asyncio.sleep(0.05)
            request.transport.close()  # type: ignore[union-attr]
            return response
        for index in range(8):
            await response.write(b"\xff\xfb" + b"\x00" * 1022)
            if body.get("model") == "break-stream" and index == 1:
                await asyncio.sleep(0.05)  # let the proxy pass the first bytes on
                request.transport.close()  # type: ignore[union-attr]
                self.stream_events.append("broken")
                return response
        await response.write_eof()
        return response

    async def transcription(self, request: web.Request) -> web.StreamResponse:
        reader = await request.multipart()
        fields: dict[str, Any] = {}
        file_size = 0
        while (part := await reader.next()) is not None:
            if part.name == "file":  # type: ignore[union-attr]
                while chunk := await part.read_chunk():  # type: ignore[union-attr]
                    file_size += len(chunk)
                fields["file_name"] = part.filename  # type: ignore[union-attr]
            else:
                fields[part.name] = await part.text()  # type: ignore[union-attr]
        fields["file_size"] = file_size
        self.requests.append(
            {"path": request.path, "headers": dict(request.headers), "body": fields}
        )
        if fields.get("response_format") in ("text", "srt", "vtt"):
            return web.Response(text="hello world\n", content_type="text/plain")
        model = str(fields.get("model"))
        if fields.get("stream") == "true" and model.startswith(("first-then-sleep-", "break")):
            return await self._paced_transcript(request, str(fields.get("prompt")), model)
        if fields.get("stream") == "true":  # as gpt-4o-transcribe streams
            return web.Response(text=TRANSCRIPT_EVENTS, content_type="text/event-stream")
        usage: dict[str, Any] = {"type": "duration", "seconds": 2}
        if "transcribe" in str(fields.get("model")):  # gpt-4o-transcribe: tokens, as
            usage = TRANSCRIPTION_TOKENS  # OpenAI's API reference shows them
        return web.json_response({"text": "hello world", "usage": usage})

    async def _paced_transcript(
        self, request: web.Request, tag: str, model: str
    ) -> web.StreamResponse:
        """The streamed transcript's events one by one, a pause after the first (or, for
        `break-stream`, the connection dropped); each counted in `sent_chunks[tag]` (the
        `prompt` field) before it is written."""
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        for index, event in enumerate(TRANSCRIPT_EVENTS.split("\n\n")[:-1]):
            self.sent_chunks[tag] = self.sent_chunks.get(tag, 0) + 1
            await response.write(event.encode() + b"\n\n")
            if index == 0 and model == "break-stream":
                await asyncio.sleep(0.05)  # let the proxy pass the first event on
                request.transport.close()  # type: ignore[union-attr]
                return response
            if index == 0:
                await asyncio.sleep(int(model.rsplit("-", 1)[1]) / 1000)
        await response.write_eof()
        return response

    async def moderations(self, request: web.Request) -> web.StreamResponse:
        body = await self._record_json(request)
        from aiport.protocol.moderations import CATEGORIES

        result = {
            "flagged": False,
            "categories": dict.fromkeys(CATEGORIES, False),
            "category_scores": dict.fromkeys(CATEGORIES, 0.001),
            "category_applied_input_types": {c: ["text"] for c in CATEGORIES},
        }
        return web.json_response(
            {"id": "modr-fake", "model": body.get("model"), "results": [result]}
        )

    async def models(self, request: web.Request) -> web.StreamResponse:
        self.requests.append({"path": request.path, "headers": dict(request.headers), "body": None})
        return web.json_response(
            {
                "object": "list",
                "data": [
                    {"id": "gpt-4o", "object": "model", "created": 1, "owned_by": "openai"},
                    {"id": "gpt-4o-mini", "object": "model", "created": 1, "owned_by": "openai"},
                ],
            }
        )


def wait_for(predicate: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False
