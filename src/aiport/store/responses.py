"""Responses kept with `store: true`, per key: the answer, its input items, its context.

A stored response belongs to the key that made it; every look-up names the key, so
another key's id is simply not found. `context` holds the items that came before this
response's own input (through `previous_response_id`), so a conversation is rebuilt from
one row: context + input items + output.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson

from aiport.store.database import Database, Row

JSON = dict[str, Any]


@dataclass(frozen=True, slots=True)
class StoredResponse:
    response: JSON
    input_items: list[JSON]
    context: list[JSON]

    def conversation(self) -> list[JSON]:
        """Every item a follow-up (`previous_response_id`) continues from."""
        return [*self.context, *self.input_items, *self.response.get("output", [])]


class ResponseStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def save(
        self, key_id: str, response: JSON, input_items: list[JSON], context: list[JSON]
    ) -> None:
        await self.db.execute(
            "INSERT INTO stored_responses (id, key_id, created_at, response, input_items,"
            " context) VALUES ($1, $2, $3, $4, $5, $6)",
            response["id"],
            key_id,
            time.time(),
            orjson.dumps(response).decode(),
            orjson.dumps(input_items).decode(),
            orjson.dumps(context).decode(),
        )

    async def get(self, key_id: str, response_id: str) -> StoredResponse | None:
        row = await self.db.fetchone(
            "SELECT response, input_items, context FROM stored_responses"
            " WHERE id = $1 AND key_id = $2",
            response_id,
            key_id,
        )
        return _stored(row) if row is not None else None

    async def delete(self, key_id: str, response_id: str) -> bool:
        changed = await self.db.execute(
            "DELETE FROM stored_responses WHERE id = $1 AND key_id = $2", response_id, key_id
        )
        return changed > 0


def _stored(row: Row) -> StoredResponse:
    return StoredResponse(
        response=orjson.loads(row["response"]),
        input_items=orjson.loads(row["input_items"]),
        context=orjson.loads(row["context"]),
    )
