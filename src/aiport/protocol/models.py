"""GET /models and /models/{id}."""

from __future__ import annotations

from typing import Any


def model_object(model_id: str, owned_by: str, created: int) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": created, "owned_by": owned_by}


def model_list(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return {"object": "list", "data": objects}
