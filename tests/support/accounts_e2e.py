"""Real `aiport serve` deployments for the key, limit and usage tests.

`Deployment` runs one or more instances in front of the fake upstream, on SQLite (the
default: the first instance's data dir) or on a PostgreSQL database of its own, created
from `AIPORT_TEST_DATABASE_URL` and dropped afterwards, with a Redis database number of its
own. Also here: the admin API and the CLI as a client sees them, raw sockets for bytes no
HTTP client will send, the usage rows as stored, and a scan of logs, tables, files and
Redis for secrets that must never be stored or logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import socket
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tests.support.fake_upstream import FakeUpstream
from tests.support.server import (
    MASTER_KEY,
    UPSTREAM_KEY,
    AiportProcess,
    RawResponse,
    proxy_config,
    raw_request,
)
from tests.support.store_fixtures import SERVICES_HINT

CHAT_PATH = "/v1/chat/completions"
MESSAGES = [{"role": "user", "content": "Hello there"}]


def service_url(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        import pytest

        pytest.fail(f"{name} is not set: {SERVICES_HINT}", pytrace=False)
    return value


# -- PostgreSQL and Redis of a deployment's own ------------------------------------------


async def create_pg_database(admin_url: str) -> tuple[str, str]:
    """A new empty database `aiport_e2e_<random>`; returns its URL and name."""
    import asyncpg

    name = f"aiport_e2e_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(path=f"/{name}")), name


async def drop_pg_database(admin_url: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def redis_db_url(base_url: str, db: int) -> str:
    """`base_url` on Redis database number `db` (each test module takes its own)."""
    parts = urlsplit(base_url)
    return urlunsplit(parts._replace(path=f"/{db}"))


# -- a deployment -------------------------------------------------------------------------


@dataclass
class Deployment:
    """Instances of aiport sharing one database (and Redis when `redis_url` is set)."""

    kind: str  # "sqlite" or "postgresql"
    workdir: Path
    upstream: FakeUpstream
    database_url: str | None = None  # None: SQLite in the first instance's data dir
    redis_url: str | None = None
    instances: list[AiportProcess] = field(default_factory=list)
    key_ids: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)  # every key presented or created
    old_logs: list[str] = field(default_factory=list)  # logs of instances restarted since

    @property
    def env(self) -> dict[str, str]:
        env = {"OPENAI_API_KEY": UPSTREAM_KEY}
        if self.database_url is not None:
            env["AIPORT_DATABASE_URL"] = self.database_url
        else:  # every instance (and the CLI) on the same SQLite file
            env["AIPORT_DATA_DIR"] = str(self.workdir / "shared-data")
        if self.redis_url is not None:
            env["AIPORT_REDIS_URL"] = self.redis_url
        return env

    @property
    def sqlite_path(self) -> Path:
        return self.workdir / "shared-data" / "aiport.db"

    def add_instance(
        self,
        args: tuple[str, ...] = (),
        start: bool = True,
        config: dict[str, Any] | None = None,
    ) -> AiportProcess:
        """One more instance; `config` (default: `proxy_config`) is its aiport.yaml."""
        workdir = self.workdir / f"instance-{len(self.instances)}"
        config = config if config is not None else proxy_config(self.upstream)
        proc = AiportProcess(workdir, config=config, env=self.env, args=args)
        self.instances.append(proc)
        return proc.start() if start else proc

    def stop(self) -> None:
        for proc in self.instances:
            proc.stop()

    def restart(self, proc: AiportProcess) -> None:
        """Stop `proc` (SIGTERM, graceful) and start it again on the same port."""
        proc.stop()
        self.old_logs.append(proc.log())
        proc.start()

    def logs(self) -> str:
        return "\n".join([*self.old_logs, *(proc.log() for proc in self.instances)])

    @property
    def first(self) -> AiportProcess:
        return self.instances[0]

    # -- the admin API, as the master key --------------------------------------------

    def admin(self, method: str, path: str, body: Any = None, key: str = MASTER_KEY) -> RawResponse:
        return raw_request(self.first.base_url + path, body, method=method, key=key)

    def create_key(self, **fields: Any) -> dict[str, Any]:
        """A new key through `POST /admin/keys`; its JSON (with the key, shown this once)."""
        fields.setdefault("name", f"test {uuid.uuid4().hex[:6]}")
        response = self.admin("POST", "/admin/keys", fields)
        assert response.status == 201, response.body[:300]
        created: dict[str, Any] = response.json()
        self.key_ids.append(created["id"])
        self.secrets.append(created["key"])
        return created

    def key_info(self, key_id: str) -> dict[str, Any]:
        """The key as `GET /admin/keys` lists it."""
        listing = self.admin("GET", "/admin/keys")
        assert listing.status == 200, listing.body[:300]
        [info] = [k for k in listing.json()["data"] if k["id"] == key_id]
        return info

    def revoke(self, key_id: str) -> RawResponse:
        return self.admin("POST", f"/admin/keys/{key_id}/revoke")

    def usage(self, key_id: str) -> dict[str, Any]:
        """`GET /admin/usage?key=` summed over models (the rows are per key and model)."""
        response = self.admin("GET", f"/admin/usage?key={key_id}")
        assert response.status == 200, response.body[:300]
        rows = response.json()["data"]
        totals: dict[str, Any] = {"requests": 0, "errors": 0, "total_tokens": 0, "cost_usd": 0.0}
        for row in rows:
            for name in totals:
                totals[name] += row[name]
        return totals

    # -- the CLI, with the servers' environment -------------------------------------

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`python -m aiport <args>` with the environment the servers have."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AIPORT_"))}
        env |= {"AIPORT_MASTER_KEY": MASTER_KEY, **self.env}
        return subprocess.run(
            [sys.executable, "-m", "aiport", *args],
            env=env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=60,
        )

    # -- what is stored ------------------------------------------------------------

    async def usage_rows(self, key_id: str) -> list[dict[str, Any]]:
        """The usage rows of one key, straight from the database."""
        sql = (
            "SELECT request_id, status, endpoint, model_requested, model_used, prompt_tokens,"
            " completion_tokens, characters, images, audio_seconds, cost_usd, unpriced"
            " FROM usage_records WHERE key_id = $1"
        )
        if self.database_url is None:
            return await asyncio.to_thread(self._sqlite_fetch, sql.replace("$1", "?"), key_id)
        import asyncpg

        conn = await asyncpg.connect(self.database_url)
        try:
            return [dict(r) for r in await conn.fetch(sql, key_id)]
        finally:
            await conn.close()

    async def wait_for_rows(self, key_id: str, count: int, timeout: float = 30.0) -> list[Any]:
        """The key's usage rows once there are `count` (the writer flushes every 0.5 s),
        or whatever there is when `timeout` runs out (generous: a loaded machine flushes
        late); then a little longer, so that a row too many would show up too."""
        deadline = asyncio.get_running_loop().time() + timeout
        rows = await self.usage_rows(key_id)
        while len(rows) < count and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.1)
            rows = await self.usage_rows(key_id)
        await asyncio.sleep(0.6)
        return await self.usage_rows(key_id)

    def _sqlite_fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        conn = sqlite3.connect(f"file:{self.sqlite_path}?mode=ro", uri=True, timeout=10)
        try:
            cur = conn.execute(sql, args)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        finally:
            conn.close()

    async def table_values(self) -> list[tuple[str, str, str]]:
        """Every value of every column of every table, as (table, column, text)."""
        if self.database_url is None:
            return await asyncio.to_thread(self._sqlite_values)
        import asyncpg

        conn = await asyncpg.connect(self.database_url)
        try:
            tables = await conn.fetch(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            )
            values = []
            for t in tables:
                for row in await conn.fetch(f'SELECT * FROM "{t["table_name"]}"'):
                    values += [(t["table_name"], k, str(v)) for k, v in row.items()]
            return values
        finally:
            await conn.close()

    def _sqlite_values(self) -> list[tuple[str, str, str]]:
        conn = sqlite3.connect(f"file:{self.sqlite_path}?mode=ro", uri=True, timeout=10)
        try:
            found = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            tables = [r[0] for r in found]
            values = []
            for table in tables:
                cur = conn.execute(f'SELECT * FROM "{table}"')
                names = [d[0] for d in cur.description]
                for row in cur.fetchall():
                    values += [(table, n, str(v)) for n, v in zip(names, row, strict=True)]
            return values
        finally:
            conn.close()

    async def redis_values(self) -> list[str]:
        """Every key name and string value in this deployment's Redis database."""
        if self.redis_url is None:
            return []
        from aiport.limits import open_redis

        client = open_redis(self.redis_url, timeout=5)
        try:
            found: list[str] = []
            async for name in client.scan_iter(count=500):
                found.append(name.decode(errors="replace"))
                if await client.type(name) == b"string":
                    value = await client.get(name)
                    found.append(value.decode(errors="replace") if value else "")
            return found
        finally:
            await client.aclose()

    async def forget_redis_keys(self) -> None:
        """Delete this deployment's limiter state (keys are named by our key ids)."""
        if self.redis_url is None or not self.key_ids:
            return
        from aiport.limits import open_redis

        client = open_redis(self.redis_url, timeout=5)
        try:
            for key_id in self.key_ids:
                names = [n async for n in client.scan_iter(match=f"*{{{key_id}}}*")]
                if names:
                    await client.delete(*names)
        finally:
            await client.aclose()

    def data_files(self) -> list[Path]:
        """Every file under the deployment's directory but the logs (SQLite, WAL, images)."""
        return [p for p in self.workdir.rglob("*") if p.is_file() and not p.name.endswith(".log")]


async def open_deployment(
    kind: str, workdir: Path, upstream: FakeUpstream, redis_db: int, *, redis: bool = True
) -> Deployment:
    """A deployment with no instances yet; `close_deployment` when done."""
    if kind == "sqlite":
        return Deployment(kind, workdir, upstream)
    url, _ = await create_pg_database(service_url("AIPORT_TEST_DATABASE_URL"))
    redis_url = redis_db_url(service_url("AIPORT_TEST_REDIS_URL"), redis_db) if redis else None
    return Deployment(kind, workdir, upstream, database_url=url, redis_url=redis_url)


async def close_deployment(deployment: Deployment) -> None:
    await asyncio.to_thread(deployment.stop)
    await deployment.forget_redis_keys()
    if deployment.database_url is not None:
        name = urlsplit(deployment.database_url).path.lstrip("/")
        await drop_pg_database(service_url("AIPORT_TEST_DATABASE_URL"), name)


# -- secrets that must never be stored or logged ----------------------------------------


def needles(secret: str) -> list[str]:
    """What to look for to find `secret` (or a recognisable piece of it) somewhere.

    The whole of it, and pieces of its random body (the `sk-aiport-` prefix is common to
    all keys, and a key's first 14 characters are its published prefix), so a secret
    found escaped, truncated or split still shows.
    """
    found = [secret] if 12 <= len(secret) <= 512 else []
    for run in re.findall(r"[A-Za-z0-9_-]{16,}", secret.removeprefix("sk-aiport-")):
        if len(run) <= 40:
            found.append(run)
        else:
            found += [run[4:28], run[len(run) // 2 : len(run) // 2 + 24], run[-24:]]
    return list(dict.fromkeys(found))


@dataclass
class LeakReport:
    leaks: list[str] = field(default_factory=list)

    def check(self, where: str, text: str, secret: str, label: str) -> None:
        for needle in needles(secret):
            if needle in text:
                self.leaks.append(f"{label} ({needle[:20]}…) found in {where}")
                return


async def find_leaks(deployment: Deployment, created_keys: Iterable[str] = ()) -> list[str]:
    """Places where a presented or created key (or a created key's hash) shows up.

    The only place a created key leaves a trace is its hash in `api_keys.key_hash`.
    """
    report = LeakReport()
    logs = deployment.logs()
    values = await deployment.table_values()
    redis = "\n".join(await deployment.redis_values())
    files = {str(p): p.read_bytes().decode("latin-1") for p in deployment.data_files()}
    hashes = {hashlib.sha256(k.encode()).hexdigest(): k for k in created_keys}
    for index, secret in enumerate(dict.fromkeys(deployment.secrets)):
        label = f"secret #{index}"
        report.check("the server log", logs, secret, label)
        report.check("Redis", redis, secret, label)
        for table, column, value in values:
            report.check(f"{table}.{column}", value, secret, label)
        for path, content in files.items():
            report.check(path, content, secret, label)
    for key_hash in hashes:
        if key_hash in logs or key_hash in redis:
            report.leaks.append(f"the hash of a key ({key_hash[:8]}…) in logs or Redis")
        for table, column, value in values:
            if key_hash in value and (table, column) != ("api_keys", "key_hash"):
                report.leaks.append(f"the hash of a key ({key_hash[:8]}…) in {table}.{column}")
    return report.leaks


# -- raw HTTP over a socket -------------------------------------------------------------


def raw_http(
    port: int,
    authorization: bytes | None,
    *,
    method: bytes = b"POST",
    path: bytes = CHAT_PATH.encode(),
    body: bytes = b'{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}',
) -> RawResponse:
    """One request written byte for byte (any header bytes at all), read to the close."""
    from email.message import Message

    head = b"%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" % (method, path)
    if method == b"POST":
        head += b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
    if authorization is not None:
        head += b"Authorization: " + authorization + b"\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head + b"\r\n" + (body if method == b"POST" else b""))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    header_block, _, payload = data.partition(b"\r\n\r\n")
    status_line, *header_lines = header_block.decode("latin-1").split("\r\n")
    headers = Message()
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip()] = value.strip()
    return RawResponse(int(status_line.split()[1]), headers, payload)
