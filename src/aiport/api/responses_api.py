"""OpenAI's Responses API: POST /responses, GET and DELETE /responses/{id},
GET /responses/{id}/input_items. (`api/responses.py` builds HTTP responses; this is the API.)

State stays here, per key, whatever the backend: aiport expands `previous_response_id`
into the items it stands for and always asks the backend with `store: false`, so an
upstream never keeps (nor shows another caller) what a key stored, and a conversation may
move between backends. With `store: true` (the default) the answer is saved before the
client sees it complete, so a follow-up can name it at once.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Awaitable, Mapping
from typing import Any

from aiohttp import web

from aiport.api.bodies import read_json, validate
from aiport.api.context import context, services
from aiport.api.dispatch import route, serve
from aiport.api.responses import json_response
from aiport.api.sse import (
    Opened,
    event_frame,
    first_chunk,
    open_stream,
    write_named_stream,
)
from aiport.backends.base import Backend, Call, JSONBody, StreamChunk
from aiport.context import RequestContext
from aiport.errors import APIError, InvalidRequest, NotFound
from aiport.metering import (
    Estimate,
    completion_estimate,
    estimate_prompt_tokens,
    observe_stream,
    without_limit,
)
from aiport.protocol.responses import ResponseRequest
from aiport.routing.deployment import Group
from aiport.store.responses import ResponseStore, StoredResponse
from aiport.translate.responses_chat import new_id
from aiport.translate.responses_replay import replay_events

JSON = dict[str, Any]
FINAL_EVENTS = ("response.completed", "response.incomplete")
DELTA_EVENTS = ("response.output_text.delta", "response.function_call_arguments.delta")


async def create_response(request: web.Request) -> web.StreamResponse:
    svc, ctx = services(request), context(request)
    body = await read_json(request, svc.settings.max_json_bytes)
    req = validate(ResponseRequest, body)
    _refuse_unserved(req)
    sent_items = req.input_items()
    own_items = [_with_id(item) for item in sent_items]
    earlier = await _earlier_items(svc.stored_responses, ctx, req.previous_response_id)
    estimate = Estimate(
        prompt_tokens=estimate_prompt_tokens({"earlier": earlier, **body}),
        output_tokens=completion_estimate(req.max_output_tokens),
        outputs_without_limit=without_limit(req.max_output_tokens),
    )
    group = await route(request, req.model, estimate, kind="chat")
    # The backend is sent the whole conversation and never asked to store it.
    items = [_upstream_item(i) for i in earlier if _sendable(i)] + sent_items
    sent: JSON = {"input": items, "store": False}
    forwarded = {k: v for k, v in body.items() if k != "previous_response_id"} | sent
    asked = req.model_copy(update=sent | {"previous_response_id": None})
    keep = _Keeper(svc.stored_responses, ctx, req, own_items, earlier)
    if req.stream:
        return await _stream(request, ctx, group, asked, forwarded, keep)
    served = await serve(request, group, asked, forwarded, _respond)
    result = served.result
    ctx.usage, ctx.usage_reported = result.usage, True
    data = keep.echo(dict(result.data))
    await keep.save(data)
    return json_response(request, data)


async def retrieve_response(request: web.Request) -> web.StreamResponse:
    """The stored response; with `stream=true`, told again as its events (those after
    `starting_after`). Only final responses are stored: aiport serves no `background`
    ones, so there is never one in progress to follow."""
    after = _replay_after(request.query)
    stored = await _stored(request)
    if after is None:
        return json_response(request, stored.response)
    events = [e for e in replay_events(stored.response) if e["sequence_number"] > after]
    response = await open_stream(request)
    await response.write(b"".join(event_frame(StreamChunk(e, event=e["type"])) for e in events))
    await response.write_eof()
    return response


async def delete_response(request: web.Request) -> web.Response:
    response_id = request.match_info["response_id"]
    if not await services(request).stored_responses.delete(_key_id(request), response_id):
        raise _not_found(response_id)
    return json_response(
        request, {"id": response_id, "object": "response.deleted", "deleted": True}
    )


async def list_input_items(request: web.Request) -> web.Response:
    stored = await _stored(request)
    items = list(stored.input_items)
    query = request.query
    if query.get("order", "desc") == "desc":
        items.reverse()
    elif query.get("order") != "asc":
        raise InvalidRequest("order must be `asc` or `desc`.", param="order")
    after = query.get("after")
    if after:
        ids = [item.get("id") for item in items]
        items = items[ids.index(after) + 1 :] if after in ids else []
    try:
        limit = int(query.get("limit", "20"))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 100:
        raise InvalidRequest("limit must be between 1 and 100.", param="limit")
    page = items[:limit]
    return json_response(
        request,
        {
            "object": "list",
            "data": page,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
            "has_more": len(items) > limit,
        },
    )


# -- helpers ---------------------------------------------------------------------------


def _replay_after(query: Mapping[str, str]) -> int | None:
    """None for a plain retrieval; else the last sequence number not to send again."""
    stream = query.get("stream", "false").lower()
    if stream not in ("true", "false"):
        raise InvalidRequest("stream must be `true` or `false`.", param="stream")
    if stream == "false":
        return None
    try:
        return int(query.get("starting_after", "-1"))
    except ValueError:
        raise InvalidRequest("starting_after must be an integer.", param="starting_after") from None


def _refuse_unserved(req: ResponseRequest) -> None:
    if req.background:
        raise InvalidRequest("Background responses are not served by aiport.", param="background")
    if req.conversation is not None:
        raise InvalidRequest(
            "Conversations are not served by aiport; use previous_response_id.",
            param="conversation",
        )
    if req.input is None and req.previous_response_id is None:
        raise InvalidRequest("Missing required parameter: 'input'.", param="input")


def _key_id(request: web.Request) -> str:
    caller = context(request).caller
    assert caller is not None  # every route here requires a key
    return caller.key_id


def _not_found(response_id: str) -> NotFound:
    return NotFound(
        f"No response with id '{response_id}' found.", param="response_id", code="not_found"
    )


async def _stored(request: web.Request) -> StoredResponse:
    response_id = request.match_info["response_id"]
    stored = await services(request).stored_responses.get(_key_id(request), response_id)
    if stored is None:
        raise _not_found(response_id)
    return stored


async def _earlier_items(
    store: ResponseStore, ctx: RequestContext, previous_id: str | None
) -> list[JSON]:
    if previous_id is None:
        return []
    assert ctx.caller is not None
    previous = await store.get(ctx.caller.key_id, previous_id)
    if previous is None:
        raise NotFound(
            f"Previous response with id '{previous_id}' not found.",
            param="previous_response_id",
            code="previous_response_not_found",
        )
    return previous.conversation()


def _with_id(item: JSON) -> JSON:
    """An input item as `input_items` lists it: with an id, message text as parts."""
    item = dict(item)
    if item.get("type") == "message":
        content = item.get("content")
        if isinstance(content, str):
            part = "output_text" if item.get("role") == "assistant" else "input_text"
            item["content"] = [{"type": part, "text": content}]
        item.setdefault("status", "completed")
    prefix = {"message": "msg", "function_call": "fc", "function_call_output": "fco"}
    item.setdefault("id", new_id(prefix.get(str(item.get("type")), "item")))
    return item


def _sendable(item: JSON) -> bool:
    # Reasoning can only be given back encrypted when nothing is stored upstream.
    return item.get("type") != "reasoning" or bool(item.get("encrypted_content"))


def _upstream_item(item: JSON) -> JSON:
    """An item as a backend is sent it: the ids aiport gave input items stay here."""
    kind, role = item.get("type"), item.get("role")
    if (kind == "message" and role == "assistant") or kind in ("function_call", "reasoning"):
        return item
    return {key: value for key, value in item.items() if key not in ("id", "status")}


class _Keeper:
    """Puts back what the client asked (store, previous_response_id) into what the backend
    answered, and keeps the final response when asked to."""

    def __init__(
        self,
        store: ResponseStore,
        ctx: RequestContext,
        req: ResponseRequest,
        own_items: list[JSON],
        earlier: list[JSON],
    ) -> None:
        self.store, self.ctx, self.req = store, ctx, req
        self.own_items, self.earlier = own_items, earlier
        self.last: JSON | None = None  # the latest response snapshot, for a failure event
        self.sequence = 0

    def echo(self, response: JSON) -> JSON:
        response["store"] = self.req.store is not False
        response["previous_response_id"] = self.req.previous_response_id
        return response

    async def save(self, response: JSON) -> None:
        if self.req.store is not False and self.ctx.caller is not None:
            await self.store.save(self.ctx.caller.key_id, response, self.own_items, self.earlier)

    async def events(
        self, chunks: AsyncGenerator[StreamChunk, None]
    ) -> AsyncGenerator[StreamChunk, None]:
        async with contextlib.aclosing(chunks):
            async for chunk in chunks:
                data = chunk.data
                self.sequence = int(data.get("sequence_number", self.sequence)) + 1
                snapshot = data.get("response")
                if isinstance(snapshot, dict):
                    self.last = self.echo(snapshot)
                    chunk.raw = None  # changed: serialise again
                    if data.get("type") in FINAL_EVENTS:
                        await self.save(snapshot)
                yield chunk

    def failure_frames(self, exc: APIError) -> bytes:
        """OpenAI's `error` event, then `response.failed` with what was made so far."""
        code = "rate_limit_exceeded" if exc.status == 429 else "server_error"
        error: JSON = {"type": "error", "code": exc.code or code, "message": exc.message}
        error |= {"param": exc.param, "sequence_number": self.sequence}
        response = dict(self.last or {"id": new_id("resp"), "object": "response", "output": []})
        response |= {"status": "failed", "error": {"code": code, "message": exc.message}}
        failed: JSON = {"type": "response.failed", "response": response}
        failed["sequence_number"] = self.sequence + 1
        return event_frame(StreamChunk(error, event="error")) + event_frame(
            StreamChunk(failed, event="response.failed")
        )


def _generated_text(chunk: StreamChunk) -> int:
    if chunk.data.get("type") in DELTA_EVENTS:
        return len(chunk.data.get("delta") or "")
    return 0


def _respond(backend: Backend, call: Call) -> Awaitable[JSONBody]:
    return backend.responses(call)


async def _stream(
    request: web.Request,
    ctx: RequestContext,
    group: Group,
    asked: ResponseRequest,
    forwarded: JSON,
    keep: _Keeper,
) -> web.StreamResponse:
    async def open_response(backend: Backend, call: Call) -> Opened:
        observed = observe_stream(ctx, backend.responses_stream(call), _generated_text)
        return await first_chunk(keep.events(observed))

    opened = await serve(request, group, asked, forwarded, open_response, stream=True)
    return await write_named_stream(request, opened, keep.failure_frames)
