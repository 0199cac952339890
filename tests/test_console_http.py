"""The console's HTTP side: its pages and their security headers, and the small admin API it
needs (`/me`, `/me/usage`, `/admin/usage/series`, `PATCH /admin/keys/{id}`), through a real
`aiport serve` (the shared proxy instance)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import openai
import pytest

from tests.support.server import MASTER_KEY, AiportProcess, assert_openai_error, raw_request

REPO = Path(__file__).resolve().parents[1]


def admin(
    proxy: AiportProcess, method: str, path: str, body: dict | None = None, key: str = MASTER_KEY
):
    return raw_request(proxy.base_url + path, body, method=method, key=key)


def eventually(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """`check()`'s first truthy answer (usage rows are written in batches every 0.5 s)."""
    deadline = time.monotonic() + timeout
    while (answer := check()) is None or answer is False:
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return answer


def listed_key(proxy: AiportProcess, key_id: str, needs: str) -> dict | None:
    key = next(k for k in admin(proxy, "GET", "/admin/keys").json()["data"] if k["id"] == key_id)
    return key if key[needs] is not None else None


def test_committed_bundle_matches_its_sources() -> None:
    """`pip install` from git serves the committed bundle: it must be what the sources build."""
    result = subprocess.run(
        ["node", "build.mjs", "--check"], cwd=REPO / "console", capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_money_is_shown_as_aiport_usage_prints_it() -> None:
    """The console's dollars are `aiport usage`'s: the server's figure rounded to 6 decimals
    as Python's `format(x, ".6f")` rounds it (a tie, such as 1/128 exactly, to the even
    digit, where JavaScript's toFixed rounds up), shown with at least 2 decimals."""
    values = [
        0,
        0.5,
        12,
        0.0032375,
        0.0004375,
        0.0078125,
        0.0234375,
        1.0390625,
        0.02765352,
        1234.5678915,
        0.0000004,
        0.0000005,
        0.1 + 0.2,
        2.675,
        99999.9999995,
    ]
    script = (
        "import { usd } from './src/money.js';"
        "console.log(JSON.stringify(JSON.parse(process.argv[1]).map(usd)))"
    )
    result = subprocess.run(
        ["node", "--input-type=module", "-e", script, json.dumps(values)],
        cwd=REPO / "console",
        capture_output=True,
        text=True,
        check=True,
    )
    shown = json.loads(result.stdout)
    printed = [f"{value:.6f}" for value in values]  # cli_admin's `USD` column
    assert [Decimal(s.removeprefix("$")) for s in shown] == [Decimal(p) for p in printed]
    assert shown[:3] == ["$0.00", "$0.50", "$12.00"]
    assert shown[5] == "$0.007812"  # half-even, as Python; toFixed(6) says 0.007813


def test_console_pages_need_no_key_and_carry_a_strict_policy(proxy: AiportProcess) -> None:
    redirect = raw_request(proxy.base_url + "/console", key=None)
    assert redirect.status == 200  # urllib followed the 308 to /console/
    page = raw_request(proxy.base_url + "/console/", key=None)
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    for directive in (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ):
        assert directive in policy
    assert "unsafe" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert b'<script src="assets/console.js"' in page.body and b"http" not in page.body
    script = raw_request(proxy.base_url + "/console/assets/console.js", key=None)
    assert script.status == 200 and script.headers["content-type"].startswith("text/javascript")
    assert "content-security-policy" in script.headers
    again = raw_request(
        proxy.base_url + "/console/assets/console.js",
        key=None,
        headers={"If-None-Match": script.headers["etag"]},
    )
    assert again.status == 304
    for missing in (
        "/console/assets/nope.js",
        "/console/assets/..%2F..%2Fsettings.py",
        "/console/assets/index.html",
    ):
        assert_openai_error(raw_request(proxy.base_url + missing, key=None), 404)


def test_me_tells_master_from_caller_and_shows_a_caller_its_own_record(
    proxy: AiportProcess,
) -> None:
    assert admin(proxy, "GET", "/me").json() == {"object": "caller", "id": "master", "admin": True}
    created = admin(proxy, "POST", "/admin/keys", {"name": "me-test", "rpm": 50}).json()
    mine = admin(proxy, "GET", "/me", key=created["key"]).json()
    assert mine["admin"] is False and mine["id"] == created["id"] and mine["rpm"] == 50
    assert mine["spend_usd"] == 0 and "key" not in mine and "key_hash" not in mine
    assert_openai_error(admin(proxy, "GET", "/me", key="sk-aiport-" + "x" * 43), 401)
    assert_openai_error(raw_request(proxy.base_url + "/me", key=None), 401)


def test_usage_series_totals_are_what_aiport_usage_sums(proxy: AiportProcess) -> None:
    """The console's totals table shows the series' `totals`: `/admin/usage`'s sums for the
    same range (every usage row counted; the console's own /me calls are none), which is
    what `aiport usage` prints; summing the chart's buckets in the browser would not be."""
    created = admin(proxy, "POST", "/admin/keys", {"name": "totals"}).json()
    client = proxy.client(created["key"])
    for _ in range(3):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    client.embeddings.create(model="text-embedding-3-small", input="priced")
    admin(proxy, "GET", "/me", key=created["key"])
    query = f"since=1h&key={created['id']}"

    def all_written() -> list[dict] | None:
        rows = admin(proxy, "GET", f"/admin/usage?{query}").json()["data"]
        return rows if sum(r["requests"] for r in rows) == 4 else None

    expected = eventually(all_written)
    assert [r["model"] for r in expected] == ["gpt-4o", "text-embedding-3-small"]
    assert expected[0]["cost_usd"] > 0
    series = admin(proxy, "GET", f"/admin/usage/series?{query}").json()
    assert series["totals"] == expected
    assert sum(r["requests"] for r in series["data"]) == 4
    cli = [sys.executable, "-m", "aiport", "usage", "--since", "1h", "--key", created["id"]]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIPORT_")}
    env["AIPORT_DATA_DIR"] = str(proxy.workdir / "data")
    printed = subprocess.run(
        [*cli, "--json"], env=env, capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(printed.stdout) == expected
    mine = admin(proxy, "GET", "/me/usage?since=1h", key=created["key"]).json()
    assert mine["totals"] == expected


def test_a_caller_sees_only_its_own_usage_series(proxy: AiportProcess) -> None:
    first = admin(proxy, "POST", "/admin/keys", {"name": "series-a"}).json()
    other = admin(proxy, "POST", "/admin/keys", {"name": "series-b"}).json()
    for created in (first, other):
        client = proxy.client(created["key"])
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])

    def both_seen() -> dict | None:
        series = admin(proxy, "GET", "/admin/usage/series?since=1h").json()
        seen = {r["key_id"] for r in series["data"]}
        return series if {first["id"], other["id"]} <= seen else None

    series = eventually(both_seen)
    assert series["bucket_seconds"] == 60
    mine = admin(proxy, "GET", "/me/usage?since=1h", key=first["key"]).json()
    assert {r["key_id"] for r in mine["data"]} == {first["id"]}
    assert sum(r["requests"] for r in mine["data"]) == 1  # its /me/usage call is not counted
    assert_openai_error(admin(proxy, "GET", "/admin/usage/series", key=first["key"]), 403)
    assert_openai_error(admin(proxy, "GET", "/admin/usage/series?since=someday"), 400)
    assert_openai_error(
        admin(proxy, "GET", "/admin/usage/series?since=30d&bucket=1"), 400, "bucket"
    )
    assert_openai_error(admin(proxy, "GET", "/admin/usage/series?bucket=abc"), 400, "bucket")


def test_patch_changes_a_keys_limits_at_once(proxy: AiportProcess) -> None:
    created = admin(proxy, "POST", "/admin/keys", {"name": "edit-me", "rpm": 1}).json()
    client = proxy.client(created["key"])
    ask = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    client.chat.completions.create(**ask)
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(**ask)

    edited = admin(
        proxy,
        "PATCH",
        f"/admin/keys/{created['id']}",
        {"rpm": None, "tpm": 5000, "max_budget": 2.5},
    )
    assert edited.status == 200
    body = edited.json()
    assert (body["rpm"], body["tpm"], body["max_budget_usd"], body["name"]) == (
        None,
        5000,
        2.5,
        "edit-me",
    )
    client.chat.completions.create(**ask)  # no rpm limit any more, on this instance at once
    listed = eventually(lambda: listed_key(proxy, created["id"], "last_used_at"))
    assert listed["tpm"] == 5000 and listed["last_used_at"] >= created["created_at"]


def test_patch_refuses_bad_input_and_callers(proxy: AiportProcess) -> None:
    created = admin(proxy, "POST", "/admin/keys", {"name": "guarded"}).json()
    path = f"/admin/keys/{created['id']}"
    assert_openai_error(admin(proxy, "PATCH", path, {"rpm": 0}), 400, "rpm")
    assert_openai_error(admin(proxy, "PATCH", path, {"rpm": "ten"}), 400, "rpm")
    assert_openai_error(admin(proxy, "PATCH", path, {"is_admin": True}), 400, "is_admin")
    assert_openai_error(admin(proxy, "PATCH", path, {"expires": "yesterday"}), 400)
    assert_openai_error(
        admin(proxy, "PATCH", "/admin/keys/key_000000000000000000000000", {"rpm": 5}), 404
    )
    assert_openai_error(admin(proxy, "PATCH", path, {"rpm": 100_000}, key=created["key"]), 403)
    assert admin(proxy, "PATCH", path, {"expires": "30d"}).json()["expires_at"] > time.time()


def test_storage_reports_the_database_and_redis_to_the_master_key_only(
    proxy: AiportProcess,
) -> None:
    report = admin(proxy, "GET", "/admin/storage").json()
    assert report["database"]["state"] == "up" and report["database"]["kind"] == "sqlite"
    assert report["database"]["usage_rows_dropped"] == 0
    assert report["redis"]["state"] == "not configured"
    created = admin(proxy, "POST", "/admin/keys", {"name": "nosy"}).json()
    assert_openai_error(admin(proxy, "GET", "/admin/storage", key=created["key"]), 403)
