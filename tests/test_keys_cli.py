"""`aiport keys|usage|db` handlers: the key is printed once, last; nothing else leaks it."""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import pytest

from aiport.cli_admin import add_cli_commands
from aiport.errors import InvalidRequest
from aiport.keyservice import parse_time
from aiport.store.database import open_database
from aiport.store.keys import hash_key, looks_like_key
from aiport.store.usage import UsageRecord, UsageWriter

pytest_plugins = ["tests.support.store_fixtures"]


def cli(db_url: str, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="aiport")
    commands = parser.add_subparsers()
    add_cli_commands(commands)
    args = parser.parse_args(argv)
    code = args.handler(args, db_url)
    out, err = capsys.readouterr()
    return code, out, err


def test_keys_create_list_revoke_and_usage(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(
        db_url,
        capsys,
        "keys",
        "create",
        "--name",
        "billing svc",
        "--models",
        "gpt-4o,tts-1",
        "--rpm",
        "10",
        "--tpm",
        "5000",
        "--max-budget",
        "2.5",
        "--expires",
        "2099-01-01",
    )
    assert code == 0
    lines = out.strip().splitlines()
    key = lines[-1]
    assert looks_like_key(key)
    assert all(key not in line for line in lines[:-1])
    assert "2099-01-01T00:00:00+00:00" in out and "gpt-4o, tts-1" in out

    code, out, _ = cli(db_url, capsys, "keys", "list", "--json")
    [listed] = json.loads(out)
    assert code == 0 and listed["name"] == "billing svc" and listed["prefix"] == key[:14]
    assert listed["rpm"] == 10 and listed["spend_usd"] == 0.0 and listed["status"] == "active"
    assert key not in out and hash_key(key) not in out

    code, out, _ = cli(db_url, capsys, "keys", "list")
    assert code == 0 and listed["id"] in out and key not in out and hash_key(key) not in out

    asyncio.run(_write_usage(db_url, listed["id"]))
    code, out, _ = cli(db_url, capsys, "usage", "--json", "--key", listed["id"], "--since", "1h")
    [row] = json.loads(out)
    assert (row["requests"], row["prompt_tokens"], row["key_prefix"]) == (1, 12, key[:14])
    code, out, _ = cli(db_url, capsys, "usage")
    assert code == 0 and "gpt-4o" in out and key not in out

    code, out, _ = cli(db_url, capsys, "keys", "revoke", listed["id"])
    assert code == 0 and "revoked" in out
    code, out, _ = cli(db_url, capsys, "keys", "list", "--json")
    assert json.loads(out)[0]["status"] == "revoked"
    code, _, err = cli(db_url, capsys, "keys", "revoke", "key_" + "0" * 24)
    assert code == 1 and "No API key" in err


async def _write_usage(db_url: str, key_id: str) -> None:
    db = open_database(db_url)
    await db.connect()
    writer = UsageWriter(db)
    writer.record(
        UsageRecord(
            "req_cli",
            "/v1/chat/completions",
            200,
            key_id=key_id,
            model_requested="gpt-4o",
            prompt_tokens=12,
            cost_usd=0.01,
        )
    )
    await writer.close()
    await db.close()


@pytest.mark.parametrize(
    "argv",
    [
        ("--rpm", "0"),
        ("--max-budget", "-1"),
        ("--expires", "2001-01-01"),
        ("--expires", "someday"),
        ("--models", ","),
    ],
)
def test_bad_create_options_fail_cleanly(
    tmp_path: object, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    db_url = f"sqlite:///{tmp_path}/a.db"
    code, out, err = cli(db_url, capsys, "keys", "create", "--name", "x", *argv)
    assert code == 1 and err.startswith("aiport: ") and "sk-aiport-" not in out


def test_usage_until_before_since_is_one_error_line_and_exit_2(
    tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    db_url = f"sqlite:///{tmp_path}/c.db"
    code, out, err = cli(db_url, capsys, "usage", "--since", "1h", "--until", "2d")
    assert (code, out) == (2, "")
    assert err.startswith("aiport: ") and "`until`" in err and len(err.splitlines()) == 1


def test_db_upgrade_reports_what_it_did(
    tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    db_url = f"sqlite:///{tmp_path}/b.db"
    assert cli(db_url, capsys, "db", "upgrade")[1].startswith("applied migrations [1")
    assert cli(db_url, capsys, "db", "upgrade")[1].strip() == "schema is up to date"


def test_times_parse_as_iso_or_durations() -> None:
    now = 1_000_000.0
    assert parse_time("1h", now=now) == now - 3600
    assert parse_time("7d", now=now) == now - 7 * 86400
    assert parse_time("30d", now=now, future=True) == now + 30 * 86400
    assert parse_time("2027-01-01") == 1798761600.0
    assert parse_time("2027-01-01T02:00:00+02:00") == 1798761600.0
    with pytest.raises(InvalidRequest):
        parse_time("\x00yesterday")
    assert time.time() - parse_time("90s") == pytest.approx(90, abs=1)
