"""Ordered schema migrations and `upgrade()`, run on start and by `aiport db upgrade`.

Each migration is a version number, a name and its SQL per dialect. `upgrade()` applies the
missing ones in order, each recorded in `schema_version`, all in one transaction: on
PostgreSQL under an advisory lock, so two instances starting at once neither race nor fail
(the second waits, then finds nothing left to do); on SQLite under the file's write lock.
Never edit a released migration; append a new one.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from aiport.store import usage_rollup
from aiport.store.database import Database, Session

log = logging.getLogger(__name__)

# Any constant works; it only has to be the same for every aiport instance.
_PG_LOCK_ID = 0x6169706F7274  # "aiport"


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sqlite: tuple[str, ...]
    postgresql: tuple[str, ...]

    def statements(self, dialect: str) -> tuple[str, ...]:
        return self.sqlite if dialect == "sqlite" else self.postgresql


def _same(version: int, name: str, *statements: str) -> Migration:
    """A migration whose SQL is the same on both dialects (the usual case)."""
    return Migration(version, name, statements, statements)


# Timestamps are Unix seconds (DOUBLE PRECISION) so both dialects compare them the same way.
MIGRATIONS: tuple[Migration, ...] = (
    _same(
        1,
        "keys and usage",
        """
        CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            prefix TEXT NOT NULL,
            key_hash TEXT NOT NULL UNIQUE,
            models TEXT,
            rpm INTEGER,
            tpm INTEGER,
            max_tokens_total BIGINT,
            max_budget_usd DOUBLE PRECISION,
            expires_at DOUBLE PRECISION,
            revoked_at DOUBLE PRECISION,
            created_at DOUBLE PRECISION NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL,
            is_admin SMALLINT NOT NULL DEFAULT 0
        )
        """,
        # One row whose version goes up on every change that must reach other instances'
        # key caches (revocation); they poll it when no Redis carries the news.
        """
        CREATE TABLE key_changes (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            version BIGINT NOT NULL
        )
        """,
        "INSERT INTO key_changes (id, version) VALUES (1, 0)",
        """
        CREATE TABLE usage_records (
            request_id TEXT PRIMARY KEY,
            key_id TEXT,
            created_at DOUBLE PRECISION NOT NULL,
            endpoint TEXT NOT NULL,
            model_requested TEXT,
            model_used TEXT,
            backend TEXT,
            status INTEGER NOT NULL,
            error_type TEXT,
            prompt_tokens BIGINT NOT NULL DEFAULT 0,
            completion_tokens BIGINT NOT NULL DEFAULT 0,
            audio_seconds DOUBLE PRECISION NOT NULL DEFAULT 0,
            images INTEGER NOT NULL DEFAULT 0,
            characters BIGINT NOT NULL DEFAULT 0,
            latency_ms DOUBLE PRECISION,
            ttft_ms DOUBLE PRECISION,
            cost_usd DOUBLE PRECISION NOT NULL DEFAULT 0
        )
        """,
        "CREATE INDEX usage_records_key_time ON usage_records (key_id, created_at)",
        "CREATE INDEX usage_records_time ON usage_records (created_at)",
    ),
    _same(
        2,
        "unpriced usage, finite expiries",
        # 1: the request was served by a model without a price (billed 0).
        "ALTER TABLE usage_records ADD COLUMN unpriced SMALLINT NOT NULL DEFAULT 0",
        # Earlier versions stored an unbounded `expires` (up to infinity); it meant "never".
        "UPDATE api_keys SET expires_at = NULL WHERE expires_at >= 253402300800",
    ),
    _same(
        3,
        "stored responses",
        # Responses API answers kept with `store: true`, per key (JSON as text).
        """
        CREATE TABLE stored_responses (
            id TEXT PRIMARY KEY,
            key_id TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            response TEXT NOT NULL,
            input_items TEXT NOT NULL,
            context TEXT NOT NULL
        )
        """,
        "CREATE INDEX stored_responses_key_time ON stored_responses (key_id, created_at)",
    ),
    Migration(
        4,
        "hourly usage roll-ups",
        usage_rollup.create_statements("sqlite"),
        usage_rollup.create_statements("postgresql"),
    ),
    _same(
        5,
        "usage: deployment, attempts, cache",
        # Which deployment served ("cache" for a cache hit), how many attempts the request
        # took (retries and fallbacks included), and the response cache's verdict.
        "ALTER TABLE usage_records ADD COLUMN deployment TEXT",
        "ALTER TABLE usage_records ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE usage_records ADD COLUMN cache TEXT",
    ),
    _same(
        6,
        "keys: budget_since",
        # When the key's budget was set on a key that had none: the limiters' budget totals
        # count from then, through every other edit (an existing key's start afresh once).
        "ALTER TABLE api_keys ADD COLUMN budget_since DOUBLE PRECISION NOT NULL DEFAULT 0",
        "UPDATE api_keys SET budget_since = updated_at",
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version


async def upgrade(db: Database) -> list[int]:
    """Bring the schema up to date; return the versions applied now (empty if none)."""
    async with db.transaction(exclusive=True) as s:
        if db.dialect == "postgresql":
            await s.execute("SELECT pg_advisory_xact_lock($1)", _PG_LOCK_ID)
        await s.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
            " applied_at DOUBLE PRECISION NOT NULL)"
        )
        done = {r["version"] for r in await s.fetch("SELECT version FROM schema_version")}
        applied = [m.version for m in MIGRATIONS if m.version not in done]
        for migration in MIGRATIONS:
            if migration.version not in done:
                await _apply(s, db.dialect, migration)
    newest = max(done | set(applied), default=0)
    if newest > LATEST_VERSION:
        log.warning(
            "database schema is at version %d, newer than this aiport knows (%d)",
            newest,
            LATEST_VERSION,
        )
    return applied


async def current_version(db: Database) -> int:
    """The highest applied migration, 0 for an empty database."""
    try:
        return int(await db.fetchval("SELECT MAX(version) FROM schema_version") or 0)
    except Exception:  # no schema_version table yet: nothing applied
        return 0


async def _apply(s: Session, dialect: str, migration: Migration) -> None:
    log.info("applying schema migration %d (%s)", migration.version, migration.name)
    for statement in migration.statements(dialect):
        await s.execute(statement)
    await s.execute(
        "INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)",
        migration.version,
        migration.name,
        time.time(),
    )
