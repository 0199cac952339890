"""Per-caller keys through a real `aiport serve`: admin API, scopes, limits, budgets, CLI.

One instance per database kind: SQLite (the default; limits in process) and PostgreSQL
with Redis (limits in Redis). Clients are the official SDK (no retries) and raw HTTP.
The last test scans the server's log, every table, the data files and Redis for each key
presented or created during the module.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import openai
import pytest

from tests.support.accounts_e2e import (
    CHAT_PATH,
    MESSAGES,
    Deployment,
    close_deployment,
    find_leaks,
    open_deployment,
    raw_http,
)
from tests.support.fake_upstream import FakeUpstream
from tests.support.server import MASTER_KEY, UPSTREAM_KEY, assert_openai_error, raw_request

pytestmark = pytest.mark.asyncio(loop_scope="session")

DURATION = re.compile(r"^(\d+h)?(\d+m)?(\d+(\.\d+)?s|\d+ms)$")  # OpenAI's reset format


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def dep(
    request: pytest.FixtureRequest,
    upstream: FakeUpstream,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Deployment]:
    deployment = await open_deployment(
        request.param, tmp_path_factory.mktemp(f"keys-{request.param}"), upstream, redis_db=11
    )
    try:
        await asyncio.to_thread(deployment.add_instance)
        yield deployment
    finally:
        await close_deployment(deployment)


def sdk(dep: Deployment, key: str, max_retries: int = 0) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        base_url=dep.first.base_url + "/v1", api_key=key, max_retries=max_retries
    )


async def chat(dep: Deployment, key: str, model: str = "gpt-4o", **extra: Any) -> Any:
    """A chat completion through the SDK; the raw response (headers) with the parsed body."""
    async with sdk(dep, key) as client:
        return await client.chat.completions.with_raw_response.create(
            model=model,
            messages=MESSAGES,  # type: ignore[arg-type]
            **extra,
        )


async def post_chat(
    session: aiohttp.ClientSession, dep: Deployment, key: str, **body: Any
) -> tuple[int, Any, Any]:
    body = {"model": "gpt-4o", "messages": MESSAGES, **body}
    async with session.post(
        dep.first.base_url + CHAT_PATH, json=body, headers={"Authorization": f"Bearer {key}"}
    ) as response:
        return response.status, response.headers.copy(), await response.json()


# -- creating keys ------------------------------------------------------------------------


async def test_admin_api_creates_a_key_shown_once(dep: Deployment) -> None:
    created = dep.create_key(name="billing", models=["gpt-4o"], rpm=60, tpm=100_000)
    key = created["key"]
    assert key.startswith("sk-aiport-") and len(key) >= 40
    assert created["id"].startswith("key_") and created["prefix"] == key[:14]
    assert created["status"] == "active" and created["rpm"] == 60

    listing = dep.admin("GET", "/admin/keys")
    assert listing.status == 200
    [listed] = [k for k in listing.json()["data"] if k["id"] == created["id"]]
    assert listed["prefix"] == created["prefix"] and listed["models"] == ["gpt-4o"]
    assert "key" not in listed and "key_hash" not in listed
    assert key.encode() not in listing.body
    assert hashlib.sha256(key.encode()).hexdigest().encode() not in listing.body

    # Bad settings are refused naming the field; nothing is created.
    before = len(listing.json()["data"])
    assert_openai_error(dep.admin("POST", "/admin/keys", {"name": "x", "rpm": 0}), 400, "rpm")
    past = time.time() - 60
    assert_openai_error(
        dep.admin("POST", "/admin/keys", {"name": "x", "expires": past}), 400, "expires"
    )
    assert len(dep.admin("GET", "/admin/keys").json()["data"]) == before
    unknown = dep.admin("POST", "/admin/keys/key_000000000000000000000000/revoke")
    assert_openai_error(unknown, 404)
    for hostile in ("%27%20OR%201%3D1%20--", "key_%25", "*"):  # ' OR 1=1 --, key_%
        assert_openai_error(dep.admin("DELETE", f"/admin/keys/{hostile}"), 404)
    assert dep.key_info(created["id"])["status"] == "active"

    # Expiry as a duration, the CLI's way.
    month = dep.create_key(expires="30d")
    assert abs(month["expires_at"] - (time.time() + 30 * 86400)) < 60


OUT_OF_RANGE = [
    ("expires", "9" * 400 + "d"),  # once stored as infinity: listing keys was a 500
    ("expires", 1e300),
    ("expires", "10000-01-01"),
    ("expires", "7" * 10_000),
    ("expires", 2**64),
    ("rpm", 0),
    ("rpm", 2**31),
    ("tpm", 2**63),
    ("max_tokens_total", 2**60),
    ("max_budget", 0),
    ("max_budget", 1e300),
    ("name", "n" * 201),
    ("name", "a\x00b"),
    ("models", []),
    ("models", ["m" * 201]),
    ("models", [f"model-{i}" for i in range(1001)]),
]


async def test_every_admin_field_is_range_checked_and_nothing_is_stored(
    dep: Deployment,
) -> None:
    before = _key_settings(dep)
    for field, value in OUT_OF_RANGE:
        response = dep.admin("POST", "/admin/keys", {"name": "ranges", field: value})
        assert_openai_error(response, 400, field)
    assert _key_settings(dep) == before
    # The same through the CLI: a message naming the option's field, exit status 1.
    refused = dep.cli("keys", "create", "--name", "ranges", "--expires", "9" * 400 + "d")
    assert refused.returncode == 1 and "expires" in refused.stderr, refused
    assert "sk-aiport-" not in refused.stdout
    listing = dep.cli("keys", "list", "--json")
    assert listing.returncode == 0, listing.stderr
    assert len(json.loads(listing.stdout)) == len(before)
    # And the usage report's time.
    assert_openai_error(dep.admin("GET", "/admin/usage?since=" + "9" * 400 + "d"), 400, "since")


async def test_the_usage_report_filters_by_key_and_time(dep: Deployment) -> None:
    mine, other = dep.create_key(), dep.create_key()
    for key in (mine["key"], mine["key"], other["key"]):
        await chat(dep, key)
    await dep.wait_for_rows(mine["id"], 2)
    recent = dep.admin("GET", f"/admin/usage?key={mine['id']}&since=1h")
    [row] = recent.json()["data"]
    assert row["key_id"] == mine["id"] and row["key_prefix"] == mine["prefix"]
    assert row["requests"] == 2 and row["total_tokens"] == 2 * 17 and row["cost_usd"] > 0
    later = dep.admin("GET", f"/admin/usage?key={mine['id']}&since=2099-01-01")
    assert later.status == 200 and later.json()["data"] == []
    everyone = {r["key_id"] for r in dep.admin("GET", "/admin/usage").json()["data"]}
    assert {mine["id"], other["id"]} <= everyone
    assert_openai_error(dep.admin("GET", "/admin/usage?since=yesterday"), 400)
    hostile = dep.admin("GET", "/admin/usage?key=%27%20OR%20%271%27%3D%271")  # ' OR '1'='1
    assert hostile.status == 200 and hostile.json()["data"] == []


async def test_only_model_calls_and_admin_changes_are_usage_rows(dep: Deployment) -> None:
    """The console's health page polls /admin/deployments and /admin/storage every 10 s:
    each poll was a $0 usage row (~720 an hour) in every report. Read-only admin, console
    and health requests are in the access log only; key changes stay rows (the trail of
    who changed what), and so does every model call."""
    created = dep.create_key()
    key, key_id = created["key"], created["id"]
    reads = [
        *(dep.admin("GET", path) for path in ("/admin/keys", "/admin/usage", "/admin/storage")),
        dep.admin("GET", "/admin/usage/series?since=1h"),
        dep.admin("GET", "/admin/deployments"),
        dep.admin("GET", "/health"),
        dep.admin("GET", "/health/ready"),
        dep.admin("GET", "/me"),
        dep.admin("GET", "/me", key=key),
        dep.admin("GET", "/me/usage", key=key),
        dep.admin("GET", "/admin/keys", key=key),  # refused (403): read-only all the same
    ]
    assert [r.status for r in reads] == [200] * 10 + [403]
    changes = [
        dep.admin("PATCH", f"/admin/keys/{key_id}", {"rpm": 100}),
        dep.admin("POST", "/admin/keys", {"name": "x", "rpm": 0}),  # refused (400)
    ]
    assert [r.status for r in changes] == [200, 400]
    await chat(dep, key)
    [row] = await dep.wait_for_rows(key_id, 1)  # written after every request above
    assert (row["endpoint"], row["status"]) == (CHAT_PATH, 200)
    master_rows = {r["request_id"]: r for r in await dep.usage_rows("master")}
    assert not {r.headers["x-request-id"] for r in reads} & master_rows.keys()
    for change in changes:
        logged = master_rows[change.headers["x-request-id"]]
        assert logged["status"] == change.status and logged["cost_usd"] == 0
    report = await asyncio.to_thread(dep.cli, "usage", "--json", "--key", key_id)
    [total] = json.loads(report.stdout)
    assert total["requests"] == 1 and total["total_tokens"] == 17


async def test_a_key_gets_rate_limit_headers(dep: Deployment) -> None:
    both = dep.create_key(rpm=60, tpm=100_000)["key"]
    raw = await chat(dep, both, max_tokens=20)
    assert raw.parse().choices[0].message.content
    h = raw.headers
    assert h["x-ratelimit-limit-requests"] == "60"
    assert h["x-ratelimit-remaining-requests"] == "59"
    assert DURATION.match(h["x-ratelimit-reset-requests"]), h["x-ratelimit-reset-requests"]
    assert h["x-ratelimit-limit-tokens"] == "100000"
    assert 0 < int(h["x-ratelimit-remaining-tokens"]) < 100_000
    assert DURATION.match(h["x-ratelimit-reset-tokens"]), h["x-ratelimit-reset-tokens"]
    assert h["x-request-id"].startswith("req_")

    # A stream carries them on its response head too.
    async with (
        sdk(dep, both) as client,
        client.chat.completions.with_streaming_response.create(
            model="gpt-4o",
            messages=MESSAGES,  # type: ignore[arg-type]
            stream=True,
        ) as streamed,
    ):
        assert streamed.headers["x-ratelimit-remaining-requests"] == "58"
        assert "x-ratelimit-remaining-tokens" in streamed.headers
        chunks = await streamed.parse()
        assert [c async for c in chunks]  # type: ignore[union-attr]

    rpm_only = dep.create_key(rpm=7)["key"]
    h = (await chat(dep, rpm_only)).headers
    assert h["x-ratelimit-limit-requests"] == "7"
    assert not any(name.endswith("-tokens") for name in h if name.startswith("x-ratelimit"))

    unlimited = dep.create_key()["key"]
    assert not any(n.startswith("x-ratelimit") for n in (await chat(dep, unlimited)).headers)


async def test_models_outside_the_key_do_not_exist_for_it(dep: Deployment) -> None:
    key = dep.create_key(models=["gpt-4o", "my-llama"])["key"]
    async with sdk(dep, key) as client:
        with pytest.raises(openai.NotFoundError) as caught:
            await client.chat.completions.create(
                model="gpt-4o-mini",
                messages=MESSAGES,  # type: ignore[arg-type]
            )
        assert caught.value.code == "model_not_found"
        assert caught.value.body["param"] == "model"  # type: ignore[index]
        with pytest.raises(openai.NotFoundError):
            await client.embeddings.create(model="text-embedding-3-small", input="x")
        with pytest.raises(openai.NotFoundError):
            await client.models.retrieve("gpt-4o-mini")
        listed = {m.id async for m in client.models.list()}
        assert listed == {"gpt-4o", "my-llama"}
        assert (await client.models.retrieve("gpt-4o")).id == "gpt-4o"
        allowed = await client.chat.completions.create(
            model="my-llama",
            messages=MESSAGES,  # type: ignore[arg-type]
        )
        assert allowed.choices[0].message.content
    async with sdk(dep, MASTER_KEY) as admin:
        assert "gpt-4o-mini" in {m.id async for m in admin.models.list()}


async def test_a_per_caller_key_cannot_use_the_admin_api(dep: Deployment) -> None:
    created = dep.create_key(rpm=5)
    key, key_id = created["key"], created["id"]
    before = _key_settings(dep)
    attempts = [
        ("GET", "/admin/keys", None),
        ("POST", "/admin/keys", {"name": "mine"}),
        ("POST", "/admin/keys", {"name": "wider", "rpm": 100_000}),
        ("DELETE", f"/admin/keys/{key_id}", None),
        ("POST", f"/admin/keys/{key_id}/revoke", None),
        ("GET", f"/admin/usage?key={key_id}", None),
        ("GET", "/admin/usage", None),
    ]
    for method, path, body in attempts:
        error = assert_openai_error(dep.admin(method, path, body, key=key), 403)
        assert error["code"] == "permission_denied", (method, path)
    assert _key_settings(dep) == before
    assert (await chat(dep, key)).headers["x-ratelimit-limit-requests"] == "5"


def _key_settings(dep: Deployment) -> list[dict[str, object]]:
    """Every key as the admin API lists it, without the usage figures (tokens, spend, last
    use): other tests' usage rows are written in the background and may land between two
    listings (seen in CI: a key's last_used_at went from None to set)."""
    keys = dep.admin("GET", "/admin/keys").json()["data"]
    return [{k: v for k, v in key.items() if k not in USAGE_FIELDS} for key in keys]


USAGE_FIELDS = ("tokens_used", "spend_usd", "last_used_at")


# A cached key stays fresh for 30 s: refused sooner, the revocation itself reached the
# server (the deadline is generous for a loaded machine, and still shorter than that).
REVOCATION_DEADLINE = 20.0


async def test_a_revoked_key_gets_401_before_its_cache_entry_expires(dep: Deployment) -> None:
    for how in ("POST", "DELETE"):
        created = dep.create_key()
        assert (await chat(dep, created["key"])).http_response.status_code == 200  # cached now
        path = f"/admin/keys/{created['id']}" + ("/revoke" if how == "POST" else "")
        revoked = dep.admin(how, path)
        assert revoked.status == 200 and revoked.json()["status"] == "revoked"
        started = time.monotonic()
        async with sdk(dep, created["key"]) as client:
            while True:
                try:
                    await client.models.list()
                except openai.AuthenticationError as exc:
                    assert "revoked" in exc.message
                    break
                assert time.monotonic() - started < REVOCATION_DEADLINE, "revocation unheard"
                await asyncio.sleep(0.05)
        assert dep.admin(how, path).status == 200  # revoking again is not an error


async def test_an_expired_key_gets_401_saying_so(dep: Deployment) -> None:
    expires = time.time() + 1.5
    created = dep.create_key(expires=expires)
    assert created["expires_at"] == int(expires)
    assert (await chat(dep, created["key"])).http_response.status_code == 200
    await asyncio.sleep(max(0.0, expires - time.time()) + 0.1)
    async with sdk(dep, created["key"]) as client:
        with pytest.raises(openai.AuthenticationError) as caught:
            await client.chat.completions.create(
                model="gpt-4o",
                messages=MESSAGES,  # type: ignore[arg-type]
            )
    assert "expired" in caught.value.message
    assert caught.value.code == "invalid_api_key"
    assert dep.key_info(created["id"])["status"] == "expired"


# -- limits and budgets -------------------------------------------------------------------


async def spend_until_refused(dep: Deployment, key: str, limit: int = 40) -> tuple[int, Any]:
    """Send requests one by one until one is refused; (number admitted, the refusal)."""
    async with sdk(dep, key) as client:
        for admitted in range(limit):
            try:
                await client.chat.completions.create(
                    model="gpt-4o",
                    messages=MESSAGES,  # type: ignore[arg-type]
                    max_tokens=10,
                )
            except openai.RateLimitError as exc:
                return admitted, exc
            await asyncio.sleep(0.05)  # let the reservation settle with the real count
    raise AssertionError(f"still admitted after {limit} requests")


async def test_a_spent_token_budget_gets_429_insufficient_quota(dep: Deployment) -> None:
    created = dep.create_key(max_tokens_total=100)
    admitted, refusal = await spend_until_refused(dep, created["key"])
    # 17 tokens a request (the fake upstream's usage); each reserves more than that.
    assert 3 <= admitted <= 5
    assert refusal.code == "insufficient_quota" and refusal.type == "insufficient_quota"
    assert refusal.response.headers["x-should-retry"] == "false"

    # The SDK believes it: even allowed to retry, it asks once (one 429 row more, not four).
    async with sdk(dep, created["key"], max_retries=3) as client:
        with pytest.raises(openai.RateLimitError):
            await client.chat.completions.create(
                model="gpt-4o",
                messages=MESSAGES,  # type: ignore[arg-type]
                max_tokens=10,
            )
    rows = await dep.wait_for_rows(created["id"], admitted + 2)
    assert len(rows) == admitted + 2
    # The refused requests used nothing, so the report never shows more than the budget.
    refused = [r for r in rows if r["status"] == 429]
    assert len(refused) == 2
    assert all(r["prompt_tokens"] == r["completion_tokens"] == 0 for r in refused)
    assert all(r["cost_usd"] == 0 for r in refused)
    usage = dep.usage(created["id"])
    assert usage["total_tokens"] == 17 * admitted <= 100
    assert usage["requests"] == admitted + 2 and usage["errors"] == 2


async def test_a_spent_money_budget_gets_429_insufficient_quota(dep: Deployment) -> None:
    budget = 0.0005  # gpt-4o: one answer here costs $0.0000875
    created = dep.create_key(max_budget=budget)
    admitted, refusal = await spend_until_refused(dep, created["key"])
    assert 2 <= admitted <= 6
    assert refusal.code == "insufficient_quota"
    assert "budget" in refusal.message
    assert refusal.response.headers["x-should-retry"] == "false"
    await dep.wait_for_rows(created["id"], admitted + 1)
    usage = dep.usage(created["id"])
    assert 0 < usage["cost_usd"] <= budget
    assert usage["requests"] == admitted + 1


async def test_rpm_exceeded_gives_429_with_a_true_retry_after(dep: Deployment) -> None:
    key = dep.create_key(rpm=60)["key"]
    connector = aiohttp.TCPConnector(limit=20)
    async with aiohttp.ClientSession(connector=connector) as session:
        # The whole minute's allowance at once: 60, and maybe one more that refilled.
        burst = await asyncio.gather(*(post_chat(session, dep, key) for _ in range(60)))
        assert [status for status, _, _ in burst] == [200] * 60
        for _ in range(3):
            status, headers, body = await post_chat(session, dep, key)
            if status == 429:
                break
        assert status == 429, "rpm 60 admitted 63 requests in a row"
        assert body["error"]["code"] == "rate_limit_exceeded"
        assert body["error"]["type"] == "requests"
        assert set(body["error"]) == {"message", "type", "param", "code"}
        assert headers["x-ratelimit-remaining-requests"] == "0"
        retry_after = int(headers["retry-after"])
        assert retry_after == 1  # one request back every second
        assert 0 < int(headers["retry-after-ms"]) <= 1000

        # Not before (an immediate retry is refused again, unless the slot was due) ...
        if int(headers["retry-after-ms"]) > 200:
            assert (await post_chat(session, dep, key))[0] == 429
        # ... but after that many seconds, it goes through.
        await asyncio.sleep(retry_after)
        status, headers, _ = await post_chat(session, dep, key)
        assert status == 200, headers


# -- what a key can never do: be guessed, leak, or break the server -----------------------


def bad_authorizations(dep: Deployment) -> list[tuple[str, bytes | None, int]]:
    """(what, Authorization header bytes, expected status); the secrets are remembered."""
    tag = secrets.token_urlsafe(18)
    real = dep.create_key()["key"]
    keys = {
        "SQL metacharacters": f"sk-aiport-{tag}' OR '1'='1'; DROP TABLE api_keys; --",
        "shell metacharacters": f"sk-aiport-$(rm -rf /){tag}`id`",
        "10 KB key": "sk-aiport-" + secrets.token_urlsafe(7_600),
        "unicode key": f"sk-aiport-ключ-{tag}-🔑",
        "well-formed unknown key": "sk-aiport-" + secrets.token_urlsafe(32),
        "a real key and a quote": real + "'",
        "a real key cut short": real[:-1],
        "the master key as a prefix": MASTER_KEY + tag,
    }
    cases: list[tuple[str, bytes | None, int]] = [
        (what, b"Bearer " + k.encode(), 401) for what, k in keys.items()
    ]
    dep.secrets += keys.values()
    nul = f"sk-aiport-{secrets.token_urlsafe(18)}\x00{secrets.token_urlsafe(18)}"
    dep.secrets.append(nul)
    huge = "sk-aiport-" + secrets.token_urlsafe(15_000)  # over the 16 KB a header may have
    dep.secrets.append(huge)
    return [
        *cases,
        ("Bearer and nothing", b"Bearer ", 401),
        ("Bearer alone", b"Bearer", 401),
        ("no scheme", real.encode(), 401),
        ("Basic auth", b"Basic " + real.encode(), 401),
        ("latin-1 bytes", b"Bearer sk-aiport-\xff\xfe" + tag.encode(), 401),
        ("empty header", b"", 401),
        ("no header", None, 401),
        # Bytes HTTP forbids in a header, or more than a header may hold: the HTTP layer
        # refuses them before any handler (400, plain text), and logs no byte of them.
        ("NUL byte", b"Bearer " + nul.encode(), 400),
        ("20 KB key", b"Bearer " + huge.encode(), 400),
    ]


async def test_bad_keys_get_clean_401s_never_500(dep: Deployment) -> None:
    port = dep.first.port
    for what, authorization, expected in bad_authorizations(dep):
        for method, path in ((b"POST", CHAT_PATH.encode()), (b"GET", b"/v1/models")):
            response = await asyncio.to_thread(
                raw_http, port, authorization, method=method, path=path
            )
            assert response.status == expected, (what, method, response.body[:200])
            if expected == 401:
                error = assert_openai_error(response, 401)
                assert error["code"] == "invalid_api_key", what
                assert error["type"] == "invalid_request_error"
                assert "sk-aiport" not in error["message"], what  # never echoed
            assert response.headers.get("x-request-id") or expected == 400
    # The SDK sees the same as an AuthenticationError.
    async with sdk(dep, "sk-aiport-" + "0" * 43) as client:
        with pytest.raises(openai.AuthenticationError):
            await client.models.list()
    # And the server is fine.
    assert (await chat(dep, MASTER_KEY)).http_response.status_code == 200


async def test_cli_creates_a_key_the_server_accepts_and_reports_its_usage(dep: Deployment) -> None:
    made = await asyncio.to_thread(dep.cli, "keys", "create", "--name", "x", "--rpm", "5")
    assert made.returncode == 0, made.stderr
    lines = made.stdout.strip().splitlines()
    key = lines[-1]
    dep.secrets.append(key)
    assert re.fullmatch(r"sk-aiport-[A-Za-z0-9_-]{43}", key)
    assert not any(key in line for line in lines[:-1])
    key_id = re.search(r"key_[0-9a-f]{24}", made.stdout)[0]  # type: ignore[index]
    dep.key_ids.append(key_id)

    for _ in range(3):
        raw = await chat(dep, key)
        assert raw.headers["x-ratelimit-limit-requests"] == "5"
    await dep.wait_for_rows(key_id, 3)
    report = await asyncio.to_thread(dep.cli, "usage", "--json", "--key", key_id)
    assert report.returncode == 0, report.stderr
    [row] = json.loads(report.stdout)
    assert row["key_id"] == key_id and row["model"] == "gpt-4o"
    assert row["requests"] == 3 and row["total_tokens"] == 3 * 17
    assert key not in report.stdout

    listed = await asyncio.to_thread(dep.cli, "keys", "list", "--json")
    assert key_id in listed.stdout and key not in listed.stdout
    upgraded = await asyncio.to_thread(dep.cli, "db", "upgrade")
    assert upgraded.returncode == 0 and "up to date" in upgraded.stdout, upgraded

    # Revoked from the CLI, the running server hears of it (its poll reads the database).
    revoked = await asyncio.to_thread(dep.cli, "keys", "revoke", key_id)
    assert revoked.returncode == 0, revoked.stderr
    started = time.monotonic()
    while raw_request(dep.first.base_url + "/v1/models", key=key).status != 401:
        assert time.monotonic() - started < REVOCATION_DEADLINE, "`keys revoke` unheard"
        await asyncio.sleep(0.05)


async def test_no_key_is_ever_stored_or_logged(dep: Deployment) -> None:
    """Run last: every key presented or created in this module, looked for everywhere."""
    for _, authorization, _ in bad_authorizations(dep):  # again, whatever ran before
        await asyncio.to_thread(raw_http, dep.first.port, authorization)
    dep.secrets += [MASTER_KEY, UPSTREAM_KEY]  # the server's own keys, likewise
    created = dep.create_key(rpm=10)
    await chat(dep, created["key"])
    await asyncio.sleep(0.7)  # usage rows flushed
    created_keys = [s for s in dep.secrets if re.fullmatch(r"sk-aiport-[A-Za-z0-9_-]{43}", s)]
    leaks = await find_leaks(dep, created_keys)
    assert not leaks, "\n".join(leaks)
    log = dep.logs()
    assert '"level":"error"' not in log, [line for line in log.splitlines() if "error" in line][:3]
    # Unparsable requests are logged as such, without their bytes.
    assert "refused a malformed HTTP request" in log
    # Keys are known in the log by their id only.
    assert f'"key_id":"{created["id"]}"' in log
