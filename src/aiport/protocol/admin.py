"""Bodies of the admin API (`/admin/...`), for the master key only."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from aiport.protocol.common import WireModel


class KeyCreateRequest(WireModel):
    name: str = Field(min_length=1, max_length=200)
    models: list[str] | None = Field(default=None, min_length=1)
    rpm: int | None = Field(default=None, ge=1)
    tpm: int | None = Field(default=None, ge=1)
    max_tokens_total: int | None = Field(default=None, ge=1)
    max_budget: float | None = Field(default=None, gt=0)
    expires: str | float | None = Field(
        default=None, description="ISO date/time, a Unix time, or a duration such as 30d"
    )


class KeyUpdateRequest(WireModel):
    """`PATCH /admin/keys/{id}`: only the fields sent change; `null` removes a limit."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    models: list[str] | None = Field(default=None, min_length=1)
    rpm: int | None = Field(default=None, ge=1)
    tpm: int | None = Field(default=None, ge=1)
    max_tokens_total: int | None = Field(default=None, ge=1)
    max_budget: float | None = Field(default=None, gt=0)
    expires: str | float | None = None

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}
