"""Usage records, written in batches off the request path, and the usage report.

`UsageWriter.record()` only appends to memory; a background task writes what is pending
every `flush_interval` seconds or as soon as `batch_size` rows wait, as one batch. A batch
that fails (the database is down or restarting) stays queued and is retried with backoff,
so an outage delays rows instead of losing them; `close()` flushes the rest. Inserts are
idempotent on `request_id` (`ON CONFLICT DO NOTHING`): a batch that committed but whose
answer was lost, or a record sent twice, never makes a second row.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from dataclasses import dataclass, field, fields
from operator import attrgetter
from typing import Any

from aiport.store import usage_rollup
from aiport.store.database import Database
from aiport.store.keys import KeySpend

log = logging.getLogger(__name__)


@dataclass(slots=True)
class UsageRecord:
    """One request that passed authentication, whatever its outcome.

    `status` is the HTTP status sent (or 499 for a client that went away); `error_type` the
    error's `type` when there was one. Token, audio, image and character counts are what was
    consumed; `cost_usd` comes from the price table, and `unpriced` marks a request served
    without a price (billed 0). Times are in milliseconds. `deployment` served the request
    ("cache" for a cache hit), after `attempts` tries (retries and fallbacks included);
    `cache` is hit, miss or bypass where the response cache was consulted.
    """

    request_id: str
    endpoint: str
    status: int
    key_id: str | None = None
    model_requested: str | None = None
    model_used: str | None = None
    backend: str | None = None
    error_type: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    audio_seconds: float = 0.0
    images: int = 0
    characters: int = 0
    latency_ms: float | None = None
    ttft_ms: float | None = None
    cost_usd: float = 0.0
    unpriced: bool = False
    created_at: float = field(default_factory=time.time)
    deployment: str | None = None
    attempts: int = 0
    cache: str | None = None


_COLUMNS = tuple(f.name for f in fields(UsageRecord))
_INSERT = (
    f"INSERT INTO usage_records ({', '.join(_COLUMNS)})"
    f" VALUES ({', '.join(f'${i}' for i in range(1, len(_COLUMNS) + 1))})"
    " ON CONFLICT (request_id) DO NOTHING"
)


_FIELDS = attrgetter(*_COLUMNS)
_TEXT = tuple(i for i, f in enumerate(fields(UsageRecord)) if "str" in str(f.type))
_BOOL = tuple(i for i, f in enumerate(fields(UsageRecord)) if f.type == "bool")


def _row(rec: UsageRecord) -> tuple[Any, ...]:
    # Not dataclasses.astuple: it deep-copies every field, and this runs once per request.
    row = list(_FIELDS(rec))
    for i in _TEXT:
        # Strings come from clients (model names) or code; PostgreSQL refuses NUL in text
        # and an unbounded name has no place in a report. (Checked first: rarely true.)
        value = row[i]
        if isinstance(value, str) and ("\x00" in value or len(value) > 200):
            row[i] = value.replace("\x00", "")[:200]
    for i in _BOOL:
        row[i] = int(row[i])  # SMALLINT on both dialects
    return tuple(row)


class UsageWriter:
    """Buffers `UsageRecord`s and writes them in batches; see the module docstring.

    The buffer is bounded by `max_buffer` only as a guard against running out of memory in
    a very long outage (a million rows is a few hundred MB); rows past it are dropped and
    counted in `dropped`, with an error logged.
    """

    def __init__(
        self,
        db: Database,
        *,
        flush_interval: float = 0.5,
        batch_size: int = 200,
        max_buffer: int = 1_000_000,
        max_backoff: float = 5.0,
    ) -> None:
        self.db = db
        self.flush_interval = flush_interval
        self.batch_size = batch_size
        self.max_buffer = max_buffer
        self.max_backoff = max_backoff
        self.written = 0
        self.dropped = 0
        self.failed_writes = 0  # batches that failed (and stayed queued), ever
        self._buffer: deque[UsageRecord] = deque()
        self._wake = asyncio.Event()
        self._closing = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._failures = 0

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def pending_spend(self, key_id: str) -> KeySpend:
        """What the rows of `key_id` not yet written add to its spend."""
        tokens, cost = 0, 0.0
        for rec in self._buffer:
            if rec.key_id == key_id:
                tokens += rec.prompt_tokens + rec.completion_tokens
                cost += rec.cost_usd
        return KeySpend(tokens, cost)

    def start(self) -> None:
        """Start the background flusher (call from a running event loop)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="usage-writer")

    def record(self, rec: UsageRecord) -> None:
        """Queue one record; never blocks and never raises."""
        if len(self._buffer) >= self.max_buffer:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 10_000 == 0:
                log.error("usage buffer full (%d rows): dropped %d", self.max_buffer, self.dropped)
            return
        self._buffer.append(rec)
        if len(self._buffer) >= self.batch_size:
            self._wake.set()

    async def flush(self) -> bool:
        """Write everything pending now; True when the buffer emptied."""
        async with self._lock:
            while self._buffer:
                batch = list(itertools.islice(self._buffer, self.batch_size))
                try:
                    await self._write(batch)
                except Exception as exc:
                    self._note_failure(exc)
                    return False
                for _ in batch:
                    self._buffer.popleft()
                self.written += len(batch)
                self._note_success()
            return True

    async def close(self, timeout: float = 10.0) -> None:
        """Stop the flusher and write what is left, retrying until `timeout` runs out."""
        self._closing.set()
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        deadline = time.monotonic() + timeout
        while not await self.flush() and time.monotonic() < deadline:
            await asyncio.sleep(min(self._backoff(), max(0.0, deadline - time.monotonic())))
        if self._buffer:
            log.error("usage writer closed with %d rows unwritten", len(self._buffer))

    async def _run(self) -> None:
        while not self._closing.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.flush_interval)
            self._wake.clear()
            if not await self.flush():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), timeout=self._backoff())

    async def _write(self, batch: list[UsageRecord]) -> None:
        rows = [_row(r) for r in batch]
        # Each row's hour is marked pending in the same transaction (see usage_rollup).
        hours = usage_rollup.hours_of(r.created_at for r in batch)
        try:
            async with self.db.transaction() as session:
                await usage_rollup.mark_pending(session, hours)
                await session.executemany(_INSERT, rows)
        except Exception as exc:
            if not self.db.is_data_error(exc):
                raise  # unreachable, locked, restarting: keep the batch and retry
            async with self.db.transaction() as session:
                await usage_rollup.mark_pending(session, hours)
            # The database refused some value: save every row it accepts, and give up only
            # on the ones it refuses (retrying those would block all the others forever).
            for rec, row in zip(batch, rows, strict=True):
                try:
                    await self.db.execute(_INSERT, *row)
                except Exception as row_exc:
                    if not self.db.is_data_error(row_exc):
                        raise
                    self.dropped += 1
                    log.error("usage row %s refused by the database: %s", rec.request_id, row_exc)

    def _backoff(self) -> float:
        return min(self.max_backoff, self.flush_interval * 2 ** min(self._failures, 6))

    def _note_failure(self, exc: Exception) -> None:
        self._failures += 1
        self.failed_writes += 1
        if self._failures == 1:
            log.warning(
                "cannot write usage (%s: %s); keeping %d rows and retrying",
                type(exc).__name__,
                exc,
                len(self._buffer),
            )

    def _note_success(self) -> None:
        if self._failures:
            log.warning("usage writes recovered after %d failed attempts", self._failures)
        self._failures = 0


async def usage_report(
    db: Database, key_id: str | None = None, since: float | None = None
) -> list[dict[str, Any]]:
    """Totals per key and requested model, optionally for one key and from a Unix time;
    `unpriced_requests` counts those served without a price (their cost is not in `cost_usd`)."""
    where: list[str] = []
    args: list[Any] = []
    if key_id is not None:
        args.append(key_id)
        where.append(f"u.key_id = ${len(args)}")
    if since is not None:
        args.append(float(since))
        where.append(f"u.created_at >= ${len(args)}")
    rows = await db.fetch(
        "SELECT u.key_id, k.name AS key_name, k.prefix AS key_prefix,"
        " u.model_requested AS model, COUNT(*) AS requests,"
        " SUM(CASE WHEN u.status >= 400 THEN 1 ELSE 0 END) AS errors,"
        " SUM(u.prompt_tokens) AS prompt_tokens,"
        " SUM(u.completion_tokens) AS completion_tokens,"
        " SUM(u.audio_seconds) AS audio_seconds, SUM(u.images) AS images,"
        " SUM(u.characters) AS characters, SUM(u.cost_usd) AS cost_usd,"
        " SUM(u.unpriced) AS unpriced_requests"
        " FROM usage_records u LEFT JOIN api_keys k ON k.id = u.key_id"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " GROUP BY u.key_id, k.name, k.prefix, u.model_requested"
        " ORDER BY u.key_id, u.model_requested",
        *args,
    )
    ints = (
        "requests",
        "errors",
        "prompt_tokens",
        "completion_tokens",
        "images",
        "characters",
        "unpriced_requests",
    )
    for row in rows:
        for name in ints:
            row[name] = int(row[name] or 0)
        row["audio_seconds"] = float(row["audio_seconds"] or 0)
        row["cost_usd"] = round(float(row["cost_usd"] or 0), 9)
        row["total_tokens"] = row["prompt_tokens"] + row["completion_tokens"]
    return rows
