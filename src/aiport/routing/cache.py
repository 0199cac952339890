"""The response cache: when a request may be answered from it, under which key, and storing.

A request is looked up only for a model with `cache:` (or with `cache.enabled` for all),
and only when its answer is determined by the request: embeddings and moderations always;
chat when `temperature` is 0 or a `seed` is given, or for a model that opts in with
`any_temperature`. The key is a SHA-256 of the endpoint, the public model name and the
request's fields (keys sorted; `stream` included, so a stream replays as a stream; `user`,
`metadata`, `store` and `stream_options` left out), prefixed by the caller's
key id unless `cache.scope` is `shared`. `Cache-Control: no-cache` skips the look-up (the
answer is still stored), `no-store` skips both.

With `semantic` on a chat model, a miss asks the semantic index for an earlier request
that differs only in the wording of its last user message (see `semantic.py`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from aiport.backends.base import Backend, Call
from aiport.protocol.embeddings import EmbeddingRequest
from aiport.routing.cache_store import CachedAnswer, CacheStore, MemoryStore, RedisStore
from aiport.routing.config import CacheConfig, ConfigError, ModelCacheConfig, ModelConfig
from aiport.routing.semantic import SemanticIndex

log = logging.getLogger(__name__)

IGNORED_FIELDS = frozenset({"user", "metadata", "store", "stream_options"})
ALWAYS_CACHEABLE = frozenset({"embeddings", "moderations"})

State = Literal["hit", "miss", "bypass"]


@dataclass(slots=True)
class Lookup:
    state: State
    key: str = ""
    ttl: float = 0.0
    answer: CachedAnswer | None = None
    store: bool = False  # whether the answer to this request should be kept
    semantic: Any = None  # a pending semantic index entry, added once the answer is stored


def deterministic(endpoint: str, body: dict[str, Any]) -> bool:
    if endpoint in ALWAYS_CACHEABLE:
        return True
    return body.get("temperature") == 0 or body.get("seed") is not None


def request_key(scope: str, endpoint: str, model: str, body: dict[str, Any]) -> str:
    fields = body
    if not IGNORED_FIELDS.isdisjoint(body):
        fields = {k: v for k, v in body.items() if k not in IGNORED_FIELDS}
    # The public model name, whatever the body says (the model field is the same name).
    canonical = orjson.dumps([scope, endpoint, model, fields], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


class ResponseCache:
    def __init__(
        self, config: CacheConfig, store: CacheStore, semantic: SemanticIndex | None = None
    ) -> None:
        self.config = config
        self.store = store
        self.memory = store if isinstance(store, MemoryStore) else None
        self.semantic = semantic
        self._storing: set[asyncio.Future[None]] = set()

    async def lookup(
        self,
        model_cache: ModelCacheConfig | None,
        endpoint: str,
        model: str,
        body: dict[str, Any],
        key_id: str | None,
        cache_control: str | None,
    ) -> Lookup | None:
        """None when the cache is not consulted for this model at all."""
        if model_cache is None:
            return None
        directives = cache_control.lower() if cache_control else ""
        if "no-store" in directives:
            return Lookup("bypass")
        if not (model_cache.any_temperature or deterministic(endpoint, body)):
            return Lookup("bypass")
        scope = "*" if self.config.scope == "shared" else (key_id or "-")
        key = request_key(scope, endpoint, model, body)
        ttl = model_cache.ttl or self.config.ttl
        if "no-cache" in directives:
            return Lookup("bypass", key, ttl, None, True)  # stored, not looked up
        memory = self.memory  # (not its truth: an empty store is falsy)
        answer = memory.get_now(key) if memory is not None else await self.store.get(key)
        if answer is not None:
            return Lookup("hit", key, ttl, answer)
        pending = None
        if model_cache.semantic is not None and self.semantic is not None and endpoint == "chat":
            found, pending = await self.semantic.find(
                scope, model, body, model_cache.semantic.threshold
            )
            if found is not None:
                answer = await self.store.get(found)
                if answer is not None:
                    return Lookup("hit", found, ttl, answer)
        return Lookup("miss", key, ttl, None, True, pending)  # (keywords cost a dict)

    def keep(self, lookup: Lookup, answer: CachedAnswer) -> None:
        """Store an answer: at once in memory; in Redis in the background (the client need
        not wait for it)."""
        if not lookup.store:
            return
        size = answer.size
        if size > self.config.max_entry_bytes:
            return
        if self.memory is not None:
            self.memory.put(lookup.key, answer, lookup.ttl, size)
        else:
            task = asyncio.ensure_future(self.store.set(lookup.key, answer, lookup.ttl))
            self._storing.add(task)
            task.add_done_callback(self._storing.discard)
        if lookup.semantic is not None and self.semantic is not None:
            self.semantic.add(lookup.semantic, lookup.key, lookup.ttl)


def build_cache(
    config: CacheConfig, models: Mapping[str, ModelConfig], redis: Any, engines: dict[str, Backend]
) -> ResponseCache | None:
    """The response cache, when any model (or `cache.enabled`) asks for one: in Redis when
    it is configured (or `backend: redis`), else in memory; with a semantic index when a
    model wants one (which needs the embedded embeddings engine)."""
    if not config.enabled and not any(m.cache for m in models.values()):
        return None
    store: CacheStore
    if config.backend == "redis" or (config.backend == "auto" and redis is not None):
        if redis is None:
            raise ConfigError("cache.backend is redis, but AIPORT_REDIS_URL is not set")
        store = RedisStore(redis)
    else:
        store = MemoryStore(config.max_bytes)
    engine = engines.get("embeddings")
    semantic = None
    wanting = [name for name, m in models.items() if m.cache and m.cache.semantic]
    if wanting and engine is None:
        raise ConfigError(
            f"model `{wanting[0]}` wants a semantic cache, which needs the embedded"
            " embeddings engine (local.engines.embeddings is off)"
        )
    if engine is not None and wanting:
        semantic = SemanticIndex(embedder(engine))
    return ResponseCache(config, store, semantic)


def embedder(engine: Backend) -> Callable[[str], Awaitable[list[float] | None]]:
    """A text's embedding from a local engine, for the semantic cache (None if it fails)."""
    card = engine.models()[0].id

    async def embed(text: str) -> list[float] | None:
        body = {"input": [text], "model": card}
        call = Call.from_body(EmbeddingRequest, body, card, request_id="semantic-cache")
        try:
            result = await engine.embeddings(call)
            return list(result.data["data"][0]["embedding"])
        except Exception as exc:
            log.warning("semantic cache: no embedding (%s)", exc)
            return None

    return embed
