"""Virtual API keys: generation, hashing, and their table.

A key is shown once, when created; the database keeps only its SHA-256 and a short prefix
(`sk-aiport-AbCd`) for people to recognise it by. Nothing else about a key — its id, name,
prefix — is secret, and those are all that logs and tables ever hold.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiport.errors import InvalidRequest
from aiport.store.database import Database, Row

KEY_PREFIX = "sk-aiport-"
PREFIX_LENGTH = len(KEY_PREFIX) + 4  # what list/usage output shows: "sk-aiport-AbCd"
MAX_PRESENTED_KEY_LENGTH = 256
_KEY_BODY = re.compile(r"[A-Za-z0-9_-]{20,200}")
_KEY_ID = re.compile(r"key_[0-9a-f]{24}")
INT32_MAX = 2**31 - 1
INT53_MAX = 2**53
MAX_BUDGET_USD = 1e9
MAX_MODELS = 1000
MAX_TIME = 253_402_300_799.0  # 9999-12-31T23:59:59Z: later expiries are refused


def generate_key() -> str:
    """A new key: `sk-aiport-` and 43 URL-safe characters (256 random bits)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    """The stored form of a key: SHA-256, hex.

    A fast hash is right here, unlike for passwords: keys carry 256 random bits, so nobody
    can guess or brute-force one from its hash, and a slow KDF would only tax every request
    that misses the cache. (Keys a user typed would need bcrypt/argon2; ours never are.)
    """
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def looks_like_key(presented: object) -> bool:
    """False for anything that cannot be one of our keys, without a database look-up.

    Catches oversize input, NUL and other non-ASCII bytes, and SQL or shell metacharacters
    (the alphabet is `[A-Za-z0-9_-]`), so such input never reaches a query or a log line.
    """
    return (
        isinstance(presented, str)
        and len(presented) <= MAX_PRESENTED_KEY_LENGTH
        and presented.isascii()
        and presented.startswith(KEY_PREFIX)
        and _KEY_BODY.fullmatch(presented, len(KEY_PREFIX)) is not None
    )


def is_key_id(value: object) -> bool:
    """True for a well-formed key id (`key_` + 24 hex digits)."""
    return isinstance(value, str) and _KEY_ID.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """One virtual key as stored. `models=None` means every model."""

    id: str
    name: str
    prefix: str
    key_hash: str
    models: tuple[str, ...] | None = None
    rpm: int | None = None
    tpm: int | None = None
    max_tokens_total: int | None = None
    max_budget_usd: float | None = None
    expires_at: float | None = None
    revoked_at: float | None = None
    created_at: float = 0.0
    is_admin: bool = False
    updated_at: float = 0.0  # changes with every change to the key
    # When a budget was set on the key while it had none: the version of its budget totals,
    # which count every request from then on, through edits of the budget and the limits.
    budget_since: float = 0.0

    def allows_model(self, model: str) -> bool:
        return self.models is None or model in self.models

    def is_expired(self, now: float | None = None) -> bool:
        return self.expires_at is not None and (now or time.time()) >= self.expires_at

    def status(self, now: float | None = None) -> str:
        """`active`, `revoked` or `expired`."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.is_expired(now) else "active"

    @property
    def has_rate_limits(self) -> bool:
        return self.rpm is not None or self.tpm is not None

    @property
    def has_budget(self) -> bool:
        return self.max_tokens_total is not None or self.max_budget_usd is not None

    def public(self) -> dict[str, Any]:
        """Everything about the key that may be shown: never the key or its hash."""
        return {
            "id": self.id,
            "object": "api_key",
            "name": self.name,
            "prefix": self.prefix,
            "models": list(self.models) if self.models is not None else None,
            "rpm": self.rpm,
            "tpm": self.tpm,
            "max_tokens_total": self.max_tokens_total,
            "max_budget_usd": self.max_budget_usd,
            "expires_at": _int_or_none(self.expires_at),
            "revoked_at": _int_or_none(self.revoked_at),
            "created_at": int(self.created_at),
            "status": self.status(),
        }


@dataclass(frozen=True, slots=True)
class KeySpend:
    """What a key has used so far, from its usage rows."""

    tokens: int = 0
    cost_usd: float = 0.0
    last_used_at: float | None = None  # the newest usage row's time (spend_by_key only)


_COLUMNS = (
    "id, name, prefix, key_hash, models, rpm, tpm, max_tokens_total, max_budget_usd,"
    " expires_at, revoked_at, created_at, is_admin"
)
_SELECTED = _COLUMNS + ", updated_at, budget_since"


class KeyStore:
    """The `api_keys` table. Every argument that reaches SQL is a bound parameter."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        name: str,
        *,
        models: Iterable[str] | None = None,
        rpm: int | None = None,
        tpm: int | None = None,
        max_tokens_total: int | None = None,
        max_budget_usd: float | None = None,
        expires_at: float | None = None,
        is_admin: bool = False,
    ) -> tuple[KeyRecord, str]:
        """Store a new key; return its record and the key itself (shown this once only).

        Raises `InvalidRequest` (naming the `param`) for bad limits, names or dates.
        """
        now = time.time()
        key = generate_key()
        record = KeyRecord(
            id="key_" + secrets.token_hex(12),
            name=check_text(name, "name"),
            prefix=key[:PREFIX_LENGTH],
            key_hash=hash_key(key),
            models=check_models(models),
            rpm=check_int(rpm, "rpm", 1, INT32_MAX),
            tpm=check_int(tpm, "tpm", 1, INT32_MAX),
            max_tokens_total=check_int(max_tokens_total, "max_tokens_total", 0, INT53_MAX),
            max_budget_usd=check_budget(max_budget_usd, "max_budget_usd"),
            expires_at=check_expiry(expires_at, now, "expires_at"),
            created_at=now,
            is_admin=is_admin,
            updated_at=now,
            budget_since=now,
        )
        await self.db.execute(
            f"INSERT INTO api_keys ({_COLUMNS}, updated_at, budget_since)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)",
            record.id,
            record.name,
            record.prefix,
            record.key_hash,
            json.dumps(list(record.models)) if record.models is not None else None,
            record.rpm,
            record.tpm,
            record.max_tokens_total,
            record.max_budget_usd,
            record.expires_at,
            None,
            now,
            int(is_admin),
            now,
        )
        return record, key

    async def get(self, key_id: str) -> KeyRecord | None:
        if not is_key_id(key_id):
            return None
        row = await self.db.fetchone(f"SELECT {_SELECTED} FROM api_keys WHERE id = $1", key_id)
        return _record(row) if row else None

    async def lookup_by_hash(self, key_hash: str) -> KeyRecord | None:
        row = await self.db.fetchone(
            f"SELECT {_SELECTED} FROM api_keys WHERE key_hash = $1", key_hash
        )
        return _record(row) if row else None

    async def list(self) -> list[KeyRecord]:
        rows = await self.db.fetch(f"SELECT {_SELECTED} FROM api_keys ORDER BY created_at, id")
        return [_record(r) for r in rows]

    async def revoke(self, key_id: str) -> KeyRecord | None:
        """Mark a key revoked (idempotent); None when no such key exists.

        Bumps `key_changes.version` in the same transaction, so every instance's key cache
        notices within one poll even when no Redis carries the news.
        """
        if not is_key_id(key_id):
            return None
        now = time.time()
        async with self.db.transaction() as s:
            changed = await s.execute(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2), updated_at = $2"
                " WHERE id = $1",
                key_id,
                now,
            )
            if changed:
                await s.execute("UPDATE key_changes SET version = version + 1 WHERE id = 1")
        return await self.get(key_id) if changed else None

    async def update(self, key_id: str, changes: dict[str, Any]) -> KeyRecord | None:
        """Change some of a key's `EDITABLE` fields (None clears a limit); None when no such
        key exists. Validated like `create`; bumps `key_changes.version` like `revoke`.
        A budget set on a key that had none starts its totals afresh (`budget_since`): what
        the key spent meanwhile was counted nowhere but in its usage rows."""
        if not is_key_id(key_id):
            return None
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            name = sorted(unknown)[0]
            raise InvalidRequest(f"`{name}` cannot be changed.", param=name)
        now = time.time()
        values = {name: EDITABLE[name](value, now) for name, value in changes.items()}
        if "models" in values and values["models"] is not None:
            values["models"] = json.dumps(list(values["models"]))
        if not values:
            return await self.get(key_id)
        # Column names come from EDITABLE only; every value is a bound parameter.
        sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(values, start=3))
        # SET reads the row as it was: `budget_since` moves only if it had no budget.
        since = (
            "budget_since = CASE WHEN max_tokens_total IS NULL AND max_budget_usd IS NULL"
            " THEN $2 ELSE budget_since END"
        )
        async with self.db.transaction() as s:
            changed = await s.execute(
                f"UPDATE api_keys SET updated_at = $2, {since}, {sets} WHERE id = $1",
                key_id,
                now,
                *values.values(),
            )
            if changed:
                await s.execute("UPDATE key_changes SET version = version + 1 WHERE id = 1")
        return await self.get(key_id) if changed else None

    async def keys_version(self) -> int:
        """A number that changes whenever a key is revoked (or otherwise changed)."""
        return int(await self.db.fetchval("SELECT version FROM key_changes WHERE id = 1") or 0)

    async def spend(self, key_id: str) -> KeySpend:
        """Tokens and USD a key has used, summed from its (flushed) usage rows."""
        row = await self.db.fetchone(
            "SELECT COALESCE(SUM(prompt_tokens + completion_tokens), 0) AS tokens,"
            " COALESCE(SUM(cost_usd), 0) AS cost FROM usage_records WHERE key_id = $1",
            key_id,
        )
        return KeySpend(int(row["tokens"]), float(row["cost"])) if row else KeySpend()

    async def spend_by_key(self) -> dict[str, KeySpend]:
        rows = await self.db.fetch(
            "SELECT key_id, COALESCE(SUM(prompt_tokens + completion_tokens), 0) AS tokens,"
            " COALESCE(SUM(cost_usd), 0) AS cost, MAX(created_at) AS last_used_at"
            " FROM usage_records WHERE key_id IS NOT NULL GROUP BY key_id"
        )
        return {
            r["key_id"]: KeySpend(int(r["tokens"]), float(r["cost"]), r["last_used_at"])
            for r in rows
        }


def _record(row: Row) -> KeyRecord:
    models = json.loads(row["models"]) if row["models"] is not None else None
    return KeyRecord(
        id=row["id"],
        name=row["name"],
        prefix=row["prefix"],
        key_hash=row["key_hash"],
        models=tuple(models) if models is not None else None,
        rpm=row["rpm"],
        tpm=row["tpm"],
        max_tokens_total=row["max_tokens_total"],
        max_budget_usd=row["max_budget_usd"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
        created_at=row["created_at"],
        is_admin=bool(row["is_admin"]),
        updated_at=row["updated_at"],
        budget_since=row["budget_since"],
    )


def _int_or_none(value: float | None) -> int | None:
    return int(value) if value is not None else None


def check_text(value: object, param: str, max_length: int = 200) -> str:
    """A name: non-empty, at most `max_length` characters, no control characters."""
    # NUL cannot be stored in PostgreSQL text; other control characters only cause harm.
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"`{param}` must be a non-empty string.", param=param)
    if len(value) > max_length:
        raise InvalidRequest(f"`{param}` must be at most {max_length} characters.", param=param)
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise InvalidRequest(f"`{param}` must not contain control characters.", param=param)
    return value


def check_models(models: object, param: str = "models") -> tuple[str, ...] | None:
    """None (every model) or 1 to `MAX_MODELS` distinct model names."""
    if models is None:
        return None
    if isinstance(models, str) or not isinstance(models, Iterable):
        raise InvalidRequest(f"`{param}` must be a list of model names.", param=param)
    names = tuple(dict.fromkeys(check_text(m, param) for m in models))
    if not names:
        raise InvalidRequest(f"`{param}` must name at least one model.", param=param)
    if len(names) > MAX_MODELS:
        raise InvalidRequest(f"`{param}` may name at most {MAX_MODELS} models.", param=param)
    return names


def check_int(value: object, param: str, low: int, high: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidRequest(f"`{param}` must be an integer from {low} to {high}.", param=param)
    return value


def check_budget(value: object, param: str, *, allow_zero: bool = True) -> float | None:
    """USD: a finite number from 0 (or above 0) to `MAX_BUDGET_USD`."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidRequest(f"`{param}` must be a number.", param=param)
    lowest_ok = value >= 0 if allow_zero else value > 0
    if not (lowest_ok and value <= MAX_BUDGET_USD):  # also refuses NaN and infinity
        low = "from 0" if allow_zero else "above 0"
        raise InvalidRequest(
            f"`{param}` must be {low} up to {MAX_BUDGET_USD:.0f} (USD).", param=param
        )
    return float(value)


def check_expiry(value: object, now: float, param: str) -> float | None:
    """A Unix time after `now` and no later than the end of the year 9999."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidRequest(f"`{param}` must be a Unix time.", param=param)
    if not value <= MAX_TIME:  # also refuses NaN and infinity
        raise InvalidRequest(f"`{param}` must be no later than 9999-12-31.", param=param)
    if value <= now:
        raise InvalidRequest(f"`{param}` must be in the future.", param=param)
    return float(value)


# What `KeyStore.update` may change, with each field's check (value, now) -> stored value.
EDITABLE: dict[str, Any] = {
    "name": lambda v, now: check_text(v, "name"),
    "models": lambda v, now: check_models(v),
    "rpm": lambda v, now: check_int(v, "rpm", 1, INT32_MAX),
    "tpm": lambda v, now: check_int(v, "tpm", 1, INT32_MAX),
    "max_tokens_total": lambda v, now: check_int(v, "max_tokens_total", 0, INT53_MAX),
    "max_budget_usd": lambda v, now: check_budget(v, "max_budget_usd"),
    "expires_at": lambda v, now: check_expiry(v, now, "expires_at"),
}
