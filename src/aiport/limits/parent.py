"""Exact limits for the workers of one `aiport serve --workers N` without Redis.

The supervising process owns the only `LocalLimiter` (`LimiterService`, on a thread of its
own) and serves it on a Unix socket in a private 0700 directory; each worker's limiter is a
`SocketLimiter` that asks it. So N workers enforce one limit and one budget, exactly as one
process would. The protocol is one JSON object per line, answered by `id` (in any order):

    {"id": 7, "op": "admit", "key": {...}, "tokens": 1034, "nanos": 2585000, "rate": 1034}
    -> {"id": 7, "outcome": ["ok", 5.9, 0.0, 0.0, 0.0]}   (or {"id": 7, "error": "..."})
    {"id": 8, "op": "settle", "key": {...}, "tokens": -12, "nanos": -30000, "rate": -12}
    -> {"id": 8}

`key` carries the limits (`id`, `rpm`, `tpm`, `max_tokens_total`, `max_budget_usd`) and
the version of its budget totals (`budget_since`); the service reads a key's spend from the
database on its first budgeted request (and again once a budget was set on it afresh). A
worker that cannot reach the service refuses limited keys with 503 until it can again.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import shutil
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import astuple
from pathlib import Path
from typing import Any

import orjson

from aiport.errors import Overloaded
from aiport.limits.base import Admission, Limiter, Outcome, admission_or_raise, nano_usd
from aiport.limits.local import LocalLimiter
from aiport.store.database import Database, open_database
from aiport.store.keys import KeyRecord, KeyStore

log = logging.getLogger(__name__)

SOCKET_ENV = "AIPORT_LIMITER_SOCKET"
_LIMIT_FIELDS = ("rpm", "tpm", "max_tokens_total", "max_budget_usd", "budget_since")
_UNAVAILABLE = "Rate limiting is temporarily unavailable; please retry shortly."


def _key_fields(key: KeyRecord) -> dict[str, Any]:
    return {"id": key.id, **{name: getattr(key, name) for name in _LIMIT_FIELDS}}


def _key_from(fields: Mapping[str, Any]) -> KeyRecord:
    return KeyRecord(
        id=str(fields["id"]),
        name="",
        prefix="",
        key_hash="",
        rpm=fields.get("rpm"),
        tpm=fields.get("tpm"),
        max_tokens_total=fields.get("max_tokens_total"),
        max_budget_usd=fields.get("max_budget_usd"),
        budget_since=float(fields.get("budget_since") or 0.0),
    )


class LimiterService:
    """The supervisor's limiter, served on a Unix socket from a thread of its own."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._dir = Path(tempfile.mkdtemp(prefix="aiport-limits-"))  # mode 0700
        self.path = str(self._dir / "limits.sock")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="aiport-limits", daemon=True)

    @property
    def env(self) -> dict[str, str]:
        """What a worker's environment needs to use this service."""
        return {SOCKET_ENV: self.path}

    def start(self) -> LimiterService:
        self._thread.start()
        self._ready.wait()
        if self._failure is not None:
            raise RuntimeError(f"the limiter service did not start: {self._failure}")
        return self

    def stop(self) -> None:
        """Stop serving (after the workers are gone: their last settlements come here)."""
        loop, stopping = self._loop, self._stopping
        if self._thread.is_alive() and loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):  # its loop is closing already
                loop.call_soon_threadsafe(stopping.set)
            self._thread.join(timeout=10)
        shutil.rmtree(self._dir, ignore_errors=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to start(), or logged once running
            if not self._ready.is_set():
                self._failure = exc
            else:
                log.exception("the limiter service stopped")
        finally:
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        db = open_database(self.database_url)
        await db.connect()
        try:
            limiter = LocalLimiter(spend_loader=KeyStore(db).spend)
            server = await asyncio.start_unix_server(
                lambda r, w: self._client(limiter, r, w), path=self.path
            )
            self._ready.set()
            async with server:
                await self._stopping.wait()
        finally:
            await _close(db)

    async def _client(
        self, limiter: LocalLimiter, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        answering: set[asyncio.Task[None]] = set()
        try:
            while line := await reader.readline():
                # Each request on its own: one waiting for a key's spend holds up no other.
                task = asyncio.create_task(self._answer(limiter, orjson.loads(line), writer))
                answering.add(task)
                task.add_done_callback(answering.discard)
        except (ConnectionError, orjson.JSONDecodeError) as exc:
            log.warning("a worker's limiter connection failed: %s", exc)
        finally:
            await asyncio.gather(*answering, return_exceptions=True)
            writer.close()

    @staticmethod
    async def _answer(
        limiter: LocalLimiter, message: dict[str, Any], writer: asyncio.StreamWriter
    ) -> None:
        reply: dict[str, Any] = {"id": message.get("id")}
        try:
            key = _key_from(message["key"])
            if message["op"] == "admit":
                tokens, nanos, rate = (int(message[n]) for n in ("tokens", "nanos", "rate"))
                reply["outcome"] = astuple(await limiter.decide(key, tokens, nanos, rate))
            else:
                tokens, nanos, rate = (int(message[n]) for n in ("tokens", "nanos", "rate"))
                await limiter._settle(key, tokens, nanos, rate)
        except Exception as exc:  # the worker answers 503, and the reason is logged here
            log.warning("limiter request failed: %s", exc)
            reply["error"] = str(exc)
        with contextlib.suppress(ConnectionError):
            writer.write(orjson.dumps(reply) + b"\n")


class SocketLimiter(Limiter):
    """A worker's limiter: every decision is the supervisor's (`LimiterService`)."""

    backend = "supervisor"

    def __init__(self, path: str) -> None:
        self.path = path
        self._ids = itertools.count()
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._writer: asyncio.StreamWriter | None = None
        self._reading: asyncio.Task[None] | None = None
        self._connecting = asyncio.Lock()

    async def _admit(self, key: KeyRecord, tokens: int, cost_usd: float, rate: int) -> Admission:
        reply = await self._ask("admit", key, tokens, nano_usd(cost_usd), rate)
        out = Outcome(*reply["outcome"])
        return admission_or_raise(key, tokens, cost_usd, out, self.backend, rate)

    async def _settle(
        self, key: KeyRecord, delta_tokens: int, delta_nano_usd: int, delta_rate: int
    ) -> None:
        await self._ask("settle", key, delta_tokens, delta_nano_usd, delta_rate)

    async def close(self) -> None:
        if self._reading is not None:
            self._reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reading
        if self._writer is not None:
            self._writer.close()

    async def _ask(
        self, op: str, key: KeyRecord, tokens: int, nanos: int, rate: int
    ) -> dict[str, Any]:
        writer = await self._connected()
        ident = next(self._ids)
        answer = asyncio.get_running_loop().create_future()
        self._waiting[ident] = answer
        message = {"id": ident, "op": op, "key": _key_fields(key), "tokens": tokens}
        try:
            writer.write(orjson.dumps({**message, "nanos": nanos, "rate": rate}) + b"\n")
            reply = await answer
        except OSError as exc:  # the supervisor went away between two requests
            writer.close()
            raise Overloaded(_UNAVAILABLE, headers={"retry-after": "1"}) from exc
        finally:
            self._waiting.pop(ident, None)
        if "error" in reply:
            raise Overloaded(_UNAVAILABLE, headers={"retry-after": "1"})
        return reply

    async def _connected(self) -> asyncio.StreamWriter:
        async with self._connecting:
            if self._writer is None or self._writer.is_closing():
                try:
                    reader, self._writer = await asyncio.open_unix_connection(self.path)
                except OSError as exc:
                    log.warning("cannot reach the supervisor's limiter: %s", exc)
                    raise Overloaded(_UNAVAILABLE, headers={"retry-after": "1"}) from exc
                self._reading = asyncio.create_task(self._read(reader), name="limits-reader")
            return self._writer

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while line := await reader.readline():
                reply = orjson.loads(line)
                answer = self._waiting.get(reply["id"])
                if answer is not None and not answer.done():
                    answer.set_result(reply)
        except OSError as exc:
            log.warning("the supervisor's limiter connection broke: %s", exc)
        finally:
            # The supervisor went away: whoever still waits gets a 503.
            if self._writer is not None:
                self._writer.close()
            for answer in self._waiting.values():
                if not answer.done():
                    answer.set_result({"error": "the supervisor's limiter went away"})


async def _close(db: Database) -> None:
    with contextlib.suppress(Exception):
        await db.close()
