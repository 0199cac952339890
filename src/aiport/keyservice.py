"""Key and usage administration: what both the `aiport` CLI and the `/admin/` API call.

Every field is checked here, under the name the caller used (`expires`, `max_budget`),
before anything is stored: a bad one raises `InvalidRequest` (400) naming it, and nothing
is written. Times (`expires`, `since`) are Unix times, ISO 8601 dates (`2027-01-01`,
`2027-01-01T12:00:00+02:00`; naive means UTC) or durations (`90s`, `15m`, `1h`, `7d`,
`2w`) counted from now — forward for an expiry, back for `since` — and lie between 1970
and the end of 9999.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from aiport.errors import InvalidRequest, NotFound
from aiport.store.keys import (
    INT32_MAX,
    INT53_MAX,
    MAX_TIME,
    KeyRecord,
    KeyStore,
    check_budget,
    check_expiry,
    check_int,
    check_models,
    check_text,
)
from aiport.store.usage import usage_report

MAX_TIME_TEXT = 64  # characters: the longest ISO 8601 time is 32
_RELATIVE = re.compile(r"(\d{1,12}(?:\.\d{1,6})?)([smhdw])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class Revoker(Protocol):
    """`KeyCache` (which also tells the other instances), or anything revoking by id."""

    async def revoke(self, key_id: str) -> KeyRecord | None: ...

    async def forget(self, key_id: str) -> None:
        """Drop a changed key from every instance's cache."""


def parse_time(
    value: object, param: str = "time", *, now: float | None = None, future: bool = False
) -> float:
    """A Unix time from a number, ISO 8601 text or a duration before now (after now if
    `future`); `InvalidRequest` naming `param` for anything else, or out of range."""
    now = time.time() if now is None else now
    if isinstance(value, str) and len(value) <= MAX_TIME_TEXT:
        when = _parse_text(value.strip(), param, now, future)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        when = float(value)
    else:
        raise _bad_time(param)
    if not (math.isfinite(when) and 0 <= when <= MAX_TIME):
        raise InvalidRequest(
            f"`{param}` is out of range: times go from 1970 to 9999-12-31.", param=param
        )
    return when


def _parse_text(text: str, param: str, now: float, future: bool) -> float:
    relative = _RELATIVE.fullmatch(text)
    if relative:
        seconds = float(relative[1]) * _UNIT[relative[2]]
        return now + seconds if future else now - seconds
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise _bad_time(param) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def _bad_time(param: str) -> InvalidRequest:
    return InvalidRequest(
        f"`{param}` must be a date (2027-01-01), a duration (30d) or a Unix time.", param=param
    )


class KeyService:
    """Creates, lists and revokes keys and reports usage, checking every field first."""

    def __init__(self, store: KeyStore, revoker: Revoker | None = None) -> None:
        self.store = store
        self.revoker = revoker

    async def create(
        self,
        name: object,
        models: Sequence[str] | None = None,
        rpm: object = None,
        tpm: object = None,
        max_tokens_total: object = None,
        max_budget: object = None,
        expires: object = None,
    ) -> tuple[KeyRecord, str]:
        """A new key and its secret (shown this once); nothing is stored for a bad field."""
        now = time.time()
        expires_at = None
        if expires is not None:
            expires_at = check_expiry(parse_time(expires, "expires", future=True), now, "expires")
        return await self.store.create(
            check_text(name, "name"),
            models=check_models(models),
            rpm=check_int(rpm, "rpm", 1, INT32_MAX),
            tpm=check_int(tpm, "tpm", 1, INT32_MAX),
            max_tokens_total=check_int(max_tokens_total, "max_tokens_total", 1, INT53_MAX),
            max_budget_usd=check_budget(max_budget, "max_budget", allow_zero=False),
            expires_at=expires_at,
        )

    async def list_keys(self) -> list[dict[str, Any]]:
        """Every key's public fields plus its spend so far; never a key or a hash."""
        spend = await self.store.spend_by_key()
        rows = []
        for record in await self.store.list():
            row = record.public()
            used = spend.get(record.id)
            row["tokens_used"] = used.tokens if used else 0
            row["spend_usd"] = round(used.cost_usd, 9) if used else 0.0
            row["last_used_at"] = int(used.last_used_at) if used and used.last_used_at else None
            rows.append(row)
        return rows

    async def update(self, key_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Change some of a key's name, models, rpm, tpm, max_tokens_total, max_budget and
        expires (None removes a limit); every instance's cache forgets the old record.

        Raises `InvalidRequest` naming a bad field (nothing is changed), `NotFound` (404)
        for an unknown id.
        """
        now = time.time()
        checks = {
            "name": lambda v: ("name", check_text(v, "name")),
            "models": lambda v: ("models", check_models(v)),
            "rpm": lambda v: ("rpm", check_int(v, "rpm", 1, INT32_MAX)),
            "tpm": lambda v: ("tpm", check_int(v, "tpm", 1, INT32_MAX)),
            "max_tokens_total": lambda v: (
                "max_tokens_total",
                check_int(v, "max_tokens_total", 1, INT53_MAX),
            ),
            "max_budget": lambda v: (
                "max_budget_usd",
                check_budget(v, "max_budget", allow_zero=False),
            ),
            "expires": lambda v: (
                "expires_at",
                None
                if v is None
                else check_expiry(parse_time(v, "expires", future=True), now, "expires"),
            ),
        }
        columns = {}
        for name, value in changes.items():
            if name not in checks:
                raise InvalidRequest(f"`{name}` cannot be changed.", param=name)
            column, checked = checks[name](value)
            columns[column] = checked
        record = await self.store.update(key_id, columns)
        if record is None:
            raise NotFound("No API key with that id.", param="id")
        if self.revoker is not None:
            await self.revoker.forget(key_id)
        return record.public()

    async def revoke(self, key_id: str) -> dict[str, Any]:
        """Revoke `key_id` (through the revoker, so that every instance hears of it).

        Raises `NotFound` (404) for an unknown id; revoking twice is not an error.
        """
        revoker = self.revoker or self.store
        record = await revoker.revoke(key_id)
        if record is None:
            raise NotFound("No API key with that id.", param="id")
        return record.public()

    async def usage(self, key_id: str | None = None, since: object = None) -> list[dict[str, Any]]:
        """Totals per key and model (see `usage_report`), for one key and from `since`."""
        since_at = parse_time(since, "since") if since is not None else None
        if key_id is not None:
            key_id = check_text(key_id, "key")
        return await usage_report(self.store.db, key_id=key_id, since=since_at)
