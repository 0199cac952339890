"""`DatabaseCheck` behind the public `/health/ready`: probes never become a query flood
(one `SELECT 1` at a time, at most one per `every` seconds), and a database that does not
answer is a False, not an error."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from aiport.store.database import DatabaseCheck, SqliteDatabase, sqlite_url

pytestmark = pytest.mark.asyncio(loop_scope="session")


class CountingDatabase(SqliteDatabase):
    queries = 0

    async def fetchval(self, sql: str, *args: Any) -> Any:
        self.queries += 1
        return await super().fetchval(sql, *args)


async def test_probes_at_once_share_one_query_and_its_answer_is_kept(tmp_path: Path) -> None:
    db = CountingDatabase(sqlite_url(tmp_path / "check.db"))
    await db.connect()
    check = DatabaseCheck(db, every=60)
    assert await asyncio.gather(*(check.answers() for _ in range(20))) == [True] * 20
    assert await check.answers()
    assert db.queries == 1
    await db.close()
    assert not await DatabaseCheck(db, every=0).answers()  # closed: no answer, no raise
