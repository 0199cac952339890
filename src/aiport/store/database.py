"""One small async database interface over SQLite (default) and PostgreSQL (by URL).

SQL is written once, in PostgreSQL's numbered-placeholder style (`$1, $2, …`), and always
with parameters — never by formatting values into the text. The SQLite implementation
rewrites `$n` to SQLite's own numbered `?n` once per statement (cached), so the two dialects
share every query. Column types are kept to what both handle the same way: TEXT, INTEGER /
BIGINT, DOUBLE PRECISION (timestamps are Unix seconds as floats); booleans are 0/1 integers.

`open_database(url)` picks the implementation:
- `sqlite:///relative/path.db`, `sqlite:////absolute/path.db`, `sqlite:///:memory:`
- `postgresql://user@host:port/db` (also `postgres://`, `postgresql+asyncpg://`); unknown
  query parameters become server settings (asyncpg), e.g. `?search_path=tenant1`.
"""

from __future__ import annotations

import asyncio
import re
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Protocol

Row = dict[str, Any]


class Session(Protocol):
    """What a query runs on: the database itself, or one connection inside a transaction."""

    async def execute(self, sql: str, *args: Any) -> int:
        """Run one statement; return the number of rows it changed (0 when not applicable)."""
        ...

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement per row, atomically: all rows or none."""
        ...

    async def fetch(self, sql: str, *args: Any) -> list[Row]: ...

    async def fetchone(self, sql: str, *args: Any) -> Row | None: ...

    async def fetchval(self, sql: str, *args: Any) -> Any: ...


class Database(ABC):
    """A connection (pool) to one database. `connect()` before use, `close()` after."""

    dialect: ClassVar[str]

    @abstractmethod
    async def connect(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    def transaction(self, *, exclusive: bool = False) -> AbstractAsyncContextManager[Session]:
        """A `Session` on one connection inside a transaction, committed on normal exit.

        `exclusive=True` takes SQLite's write lock at BEGIN (so two processes serialise);
        on PostgreSQL callers take an advisory lock themselves when they need one.
        """

    async def execute(self, sql: str, *args: Any) -> int:
        async with self._session() as s:
            return await s.execute(sql, *args)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        async with self.transaction() as s:
            await s.executemany(sql, rows)

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        async with self._session() as s:
            return await s.fetch(sql, *args)

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        async with self._session() as s:
            return await s.fetchone(sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        async with self._session() as s:
            return await s.fetchval(sql, *args)

    @staticmethod
    @abstractmethod
    def is_data_error(exc: BaseException) -> bool:
        """True when `exc` means the values were refused (retrying cannot help), as opposed
        to the database being unreachable, locked or restarting."""

    @abstractmethod
    def _session(self) -> AbstractAsyncContextManager[Session]:
        """A `Session` on one connection, statements autocommitted."""


def open_database(url: str) -> Database:
    """Return an unconnected `Database` for `url` (see the module docstring for forms)."""
    if url.startswith(("postgresql://", "postgres://", "postgresql+asyncpg://")):
        return PostgresDatabase(url)
    if url.startswith("sqlite:"):
        return SqliteDatabase(url)
    raise ValueError("database URL must start with sqlite:/// or postgresql://")


def sqlite_url(path: str | Path) -> str:
    """The URL of a SQLite file at `path` (absolute paths keep their leading slash)."""
    return f"sqlite:///{path}"


def default_database_url(data_dir: str | Path) -> str:
    """`AIPORT_DATABASE_URL`'s default: `aiport.db` in the data directory."""
    return sqlite_url(Path(data_dir) / "aiport.db")


@lru_cache(maxsize=512)
def _to_sqlite_placeholders(sql: str) -> str:
    return re.sub(r"\$(\d+)", r"?\1", sql)


class _SqliteSession:
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def execute(self, sql: str, *args: Any) -> int:
        cur = await self._conn.execute(_to_sqlite_placeholders(sql), args)
        count = cur.rowcount
        await cur.close()
        return max(count, 0)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self._conn.executemany(_to_sqlite_placeholders(sql), rows)

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        cur = await self._conn.execute(_to_sqlite_placeholders(sql), args)
        names = [d[0] for d in cur.description or ()]
        rows = await cur.fetchall()
        await cur.close()
        return [dict(zip(names, r, strict=True)) for r in rows]

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        rows = await self.fetch(sql, *args)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, *args: Any) -> Any:
        row = await self.fetchone(sql, *args)
        return next(iter(row.values())) if row else None


class SqliteDatabase(Database):
    """SQLite through `aiosqlite` (one connection on its own thread), WAL mode.

    One connection serves the process; an asyncio lock keeps a transaction's statements
    from interleaving with other coroutines'. Other processes on the same file (the CLI
    next to a server) coordinate through SQLite's own locking and a 5 s busy timeout.
    """

    dialect = "sqlite"

    def __init__(self, url: str, *, busy_timeout_ms: int = 5000) -> None:
        self.url = url
        self.busy_timeout_ms = int(busy_timeout_ms)
        self.path = url.removeprefix("sqlite:").removeprefix("//").removeprefix("/") or ":memory:"
        self._conn: Any = None
        self._lock = asyncio.Lock()

    async def connect(self) -> None:
        import aiosqlite

        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # isolation_level=None: autocommit, with explicit BEGIN where we need a transaction.
        conn = await aiosqlite.connect(
            self.path, isolation_level=None, timeout=self.busy_timeout_ms / 1000
        )
        try:
            await self._use_wal(conn)
            for pragma in ("PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON"):
                await conn.execute(pragma)
        except BaseException:
            await conn.close()  # its thread would keep the process alive
            raise
        self._conn = conn

    async def _use_wal(self, conn: Any) -> None:
        """Switch the file to WAL. Processes opening a new file at once (the workers of
        `serve --workers N`) can find it locked without SQLite waiting (it would deadlock),
        so this retries until the busy timeout."""
        import sqlite3

        deadline = time.monotonic() + self.busy_timeout_ms / 1000
        while True:
            try:
                await conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(0.01)

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    @staticmethod
    def is_data_error(exc: BaseException) -> bool:
        import sqlite3

        data_errors = (sqlite3.IntegrityError, sqlite3.DataError, sqlite3.InterfaceError)
        return isinstance(exc, (*data_errors, ValueError, TypeError, OverflowError))

    def _require(self) -> Any:
        if self._conn is None:
            raise RuntimeError("database is not connected")
        return self._conn

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[_SqliteSession]:
        conn = self._require()
        async with self._lock:
            yield _SqliteSession(conn)

    @asynccontextmanager
    async def transaction(self, *, exclusive: bool = False) -> AsyncIterator[_SqliteSession]:
        conn = self._require()
        async with self._lock:
            await conn.execute("BEGIN IMMEDIATE" if exclusive else "BEGIN")
            try:
                yield _SqliteSession(conn)
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            await conn.execute("COMMIT")


class _PostgresSession:
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def execute(self, sql: str, *args: Any) -> int:
        status: str = await self._conn.execute(sql, *args)
        # asyncpg returns the command tag, e.g. "UPDATE 3" or "INSERT 0 1".
        last = status.rsplit(" ", 1)[-1]
        return int(last) if last.isdigit() else 0

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self._conn.executemany(sql, rows)

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        return [dict(r) for r in await self._conn.fetch(sql, *args)]

    async def fetchone(self, sql: str, *args: Any) -> Row | None:
        row = await self._conn.fetchrow(sql, *args)
        return dict(row) if row is not None else None

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self._conn.fetchval(sql, *args)


class PostgresDatabase(Database):
    """PostgreSQL through an `asyncpg` pool (shared by every instance of aiport)."""

    dialect = "postgresql"

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 10) -> None:
        self.url = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self._min_size = min_size
        self._max_size = max_size
        self._pool: Any = None

    async def connect(self) -> None:
        import asyncpg

        self._pool = await asyncpg.create_pool(
            self.url,
            min_size=self._min_size,
            max_size=self._max_size,
            command_timeout=30,
            timeout=10,
        )

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            try:
                await asyncio.wait_for(pool.close(), timeout=5)
            except (TimeoutError, OSError):
                pool.terminate()

    @staticmethod
    def is_data_error(exc: BaseException) -> bool:
        from asyncpg.exceptions import DataError, IntegrityConstraintViolationError

        data_errors = (DataError, IntegrityConstraintViolationError)
        return isinstance(exc, (*data_errors, ValueError, TypeError, OverflowError))

    def _require(self) -> Any:
        if self._pool is None:
            raise RuntimeError("database is not connected")
        return self._pool

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[_PostgresSession]:
        async with self._require().acquire() as conn:
            yield _PostgresSession(conn)

    @asynccontextmanager
    async def transaction(self, *, exclusive: bool = False) -> AsyncIterator[_PostgresSession]:
        async with self._require().acquire() as conn, conn.transaction():
            yield _PostgresSession(conn)
