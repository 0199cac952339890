"""Keys are stored hashed, validated on the way in, and safe against hostile input."""

from __future__ import annotations

import time

import pytest

from aiport.errors import InvalidRequest
from aiport.store.database import Database
from aiport.store.keys import (
    KEY_PREFIX,
    KeyStore,
    generate_key,
    hash_key,
    is_key_id,
    looks_like_key,
)

pytest_plugins = ["tests.support.store_fixtures"]
pytestmark = pytest.mark.asyncio(loop_scope="session")

HOSTILE_NAMES = [
    "Robert'); DROP TABLE api_keys;--",
    '" OR 1=1 --',
    "$1 $2 ?1 %s {name}",
    "名前 🔑 Ωmega",
]


async def test_generated_keys_are_long_random_and_well_formed() -> None:
    keys = {generate_key() for _ in range(1000)}
    assert len(keys) == 1000
    for key in list(keys)[:50]:
        assert key.startswith(KEY_PREFIX) and len(key) == len(KEY_PREFIX) + 43
        assert looks_like_key(key)
        assert len(hash_key(key)) == 64


async def test_create_stores_only_hash_and_prefix(db: Database) -> None:
    store = KeyStore(db)
    record, key = await store.create(
        "svc", models=["gpt-4o", "gpt-4o-mini"], rpm=10, tpm=1000, max_budget_usd=5
    )
    assert is_key_id(record.id)
    assert record.prefix == key[:14] and key.startswith(record.prefix)
    assert record.key_hash == hash_key(key)
    assert record.models == ("gpt-4o", "gpt-4o-mini")
    assert record.allows_model("gpt-4o") and not record.allows_model("dall-e-3")
    for row in await db.fetch("SELECT * FROM api_keys"):
        assert key not in " ".join(str(v) for v in row.values())
    assert await store.lookup_by_hash(hash_key(key)) == record
    assert await store.get(record.id) == record
    public = record.public()
    assert "key_hash" not in public and key not in str(public)


async def test_list_and_revoke(db: Database) -> None:
    store = KeyStore(db)
    first, _ = await store.create("first")
    second, _ = await store.create("second", expires_at=time.time() + 3600)
    assert [r.id for r in await store.list()] == [first.id, second.id]
    version = await store.keys_version()
    revoked = await store.revoke(first.id)
    assert revoked is not None and revoked.revoked_at is not None
    assert revoked.status() == "revoked"
    assert await store.keys_version() == version + 1
    again = await store.revoke(first.id)
    assert again is not None and again.revoked_at == revoked.revoked_at
    assert await store.revoke("key_" + "0" * 24) is None
    assert (await store.get(second.id)).status() == "active"  # type: ignore[union-attr]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
async def test_hostile_names_are_stored_verbatim(db: Database, name: str) -> None:
    store = KeyStore(db)
    record, _ = await store.create(name, models=[name])
    fetched = await store.get(record.id)
    assert fetched is not None and fetched.name == name and fetched.models == (name,)
    assert await db.fetchval("SELECT COUNT(*) FROM api_keys") == 1


@pytest.mark.parametrize(
    "bad_id",
    ["' OR '1'='1", "key_\x00", "key_" + "a" * 10_000, "ключ", "", "key_0; DROP TABLE x"],
)
async def test_hostile_ids_find_nothing(db: Database, bad_id: str) -> None:
    store = KeyStore(db)
    await store.create("real")
    assert await store.get(bad_id) is None
    assert await store.revoke(bad_id) is None


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"name": ""}, "name"),
        ({"name": "a\x00b"}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "ok", "models": []}, "models"),
        ({"name": "ok", "models": ["a\x00"]}, "models"),
        ({"name": "ok", "rpm": 0}, "rpm"),
        ({"name": "ok", "tpm": -5}, "tpm"),
        ({"name": "ok", "rpm": True}, "rpm"),
        ({"name": "ok", "max_tokens_total": 2**60}, "max_tokens_total"),
        ({"name": "ok", "max_budget_usd": -1}, "max_budget_usd"),
        ({"name": "ok", "max_budget_usd": float("nan")}, "max_budget_usd"),
        ({"name": "ok", "expires_at": time.time() - 1}, "expires_at"),
    ],
)
async def test_invalid_key_settings_are_refused(
    db: Database, kwargs: dict[str, object], param: str
) -> None:
    store = KeyStore(db)
    options = dict(kwargs)
    name = options.pop("name")
    with pytest.raises(InvalidRequest) as caught:
        await store.create(name, **options)  # type: ignore[arg-type]
    assert caught.value.param == param
    assert await db.fetchval("SELECT COUNT(*) FROM api_keys") == 0


@pytest.mark.parametrize(
    "presented",
    [
        "sk-aiport-" + "A" * 10_000,
        "sk-aiport-AAAAAAAAAAAAAAAAAAAAAAAA\x00",
        "sk-aiport-ÄÖÜäöüßÄÖÜäöüßÄÖÜäöüßÄÖÜ",
        "sk-aiport-' OR '1'='1' --AAAAAAAAAAAAAAAA",
        "sk-other-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "",
        None,
        12345,
    ],
)
async def test_impossible_keys_are_recognised_without_a_query(presented: object) -> None:
    assert not looks_like_key(presented)
