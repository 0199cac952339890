"""GET /models and /models/{id}: OpenAI's shape, and Anthropic's for Anthropic's clients."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from aiport.protocol.common import WireModel


def model_object(model_id: str, owned_by: str, created: int) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": created, "owned_by": owned_by}


def model_list(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return {"object": "list", "data": objects}


class AnthropicListQuery(WireModel):
    """Anthropic's query for a page of models: at most `limit` after `after_id`, or the
    `limit` right before `before_id`."""

    limit: int = Field(default=20, ge=1, le=1000)
    before_id: str | None = None
    after_id: str | None = None


def anthropic_model(model: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI model object as Anthropic's `ModelInfo`: aiport knows no display name
    but the id, and no capabilities or token limits (left out, as the SDK allows); what it
    lists is usable, so `active`."""
    created = datetime.fromtimestamp(int(model.get("created") or 0), UTC)
    return {
        "type": "model",
        "id": model["id"],
        "display_name": model["id"],
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "lifecycle": "active",
    }


def anthropic_page(models: list[dict[str, Any]], query: AnthropicListQuery) -> dict[str, Any]:
    """One page of `models` (OpenAI's objects, in aiport's order), as Anthropic lists them;
    a cursor not among them is a model this caller cannot see: an empty page."""
    ids = [model["id"] for model in models]
    if query.before_id is not None:
        end = ids.index(query.before_id) if query.before_id in ids else 0
        start = max(0, end - query.limit)
        more = start > 0
    else:
        start = 0
        if query.after_id is not None:
            start = ids.index(query.after_id) + 1 if query.after_id in ids else len(ids)
        end = start + query.limit
        more = end < len(ids)
    page = [anthropic_model(model) for model in models[start:end]]
    return {
        "data": page,
        "has_more": more,
        "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None,
    }
