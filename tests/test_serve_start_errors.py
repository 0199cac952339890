"""`aiport serve` says "serving on" only once it listens; a port it cannot have or a broken
aiport.yaml is one line on stderr and a non-zero exit, before anything has started."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

import aiport
from tests.support.server import free_port


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AIPORT_"))}
    return env | {"AIPORT_DATA_DIR": str(tmp_path / "data"), "AIPORT_MASTER_KEY": "sk-t-0123456"}


def _serve(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aiport", "serve", *args],
        env=_env(tmp_path) | env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _assert_one_line(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode != 0
    assert "serving on" not in done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr[-2000:]
    assert lines[0].startswith("aiport: ")
    for word in words:
        assert word in lines[0]


@pytest.mark.parametrize(
    ("flag", "workers"), [("--port", "1"), ("--port", "2"), ("--metrics-port", "1")]
)
def test_a_port_in_use_is_one_line_and_no_serving_on(
    tmp_path: Path, flag: str, workers: str
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        args = ["--port", "0", flag, port] if flag != "--port" else [flag, port]
        done = _serve(tmp_path, *args, "--workers", workers)
    _assert_one_line(done, f"cannot listen on 127.0.0.1:{port}", "address already in use")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("models:\n  foo: [unclosed\n", ["aiport.yaml: line 3", "not valid YAML"]),
        ("bogus: 1\n", ["aiport.yaml: `bogus`", "Extra inputs"]),
        ("models:\n  foo: {provider: nope, model: x}\n", ["unknown provider `nope`"]),
        ("\xff\xfe", ["aiport.yaml:", "utf-8"]),
    ],
)
def test_a_broken_config_is_one_line_and_no_serving_on(
    tmp_path: Path, text: str, words: list[str]
) -> None:
    (tmp_path / "aiport.yaml").write_bytes(text.encode("latin-1"))
    _assert_one_line(_serve(tmp_path, "--port", "0"), *words)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--config", "missing.yaml"], ["missing.yaml: No such file"]),
        (["--port", "99999"], ["setting `port`", "less than or equal to 65535"]),
    ],
)
def test_a_wrong_argument_is_one_line(tmp_path: Path, args: list[str], words: list[str]) -> None:
    _assert_one_line(_serve(tmp_path, *args), *words)


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("AIPORT_LOG_LEVEL", "loud", ["setting `log_level`", "DEBUG, INFO"]),
        ("AIPORT_MAX_BODY_BYTES", "-1", ["setting `max_body_bytes`", "greater than or equal"]),
        ("AIPORT_DATABASE_URL", "mysql://x", ["setting `database_url`", "postgresql://"]),
        ("AIPORT_REDIS_URL", "localhost:6379", ["setting `redis_url`", "redis://"]),
        ("AIPORT_CORS_ORIGINS", "https://a.example", ["cors_origins", "JSON list"]),
        ("AIPORT_DATA_DIR", "aiport.yaml/data", ["data directory", "aiport.yaml/data"]),
    ],
)
def test_a_wrong_setting_is_one_line(
    tmp_path: Path, name: str, value: str, words: list[str]
) -> None:
    (tmp_path / "aiport.yaml").write_text("local: {load: first_use}\n")  # a file, not a dir
    _assert_one_line(_serve(tmp_path, "--port", "0", **{name: value}), *words)


def test_a_database_it_cannot_reach_stops_it_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "aiport.yaml").write_text("local: {load: first_use}\n")
    done = _serve(
        tmp_path, "--port", "0", AIPORT_DATABASE_URL=f"postgresql://u@127.0.0.1:{free_port()}/x"
    )
    assert done.returncode == 1
    assert "start-up failed" in done.stderr and "Traceback" not in done.stderr, done.stderr


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.parametrize(
    ("host", "url_host"),
    [
        ("127.0.0.1", "127.0.0.1"),
        pytest.param(
            "::1",
            "[::1]",  # RFC 3986: an IPv6 literal in a URL is bracketed
            marks=pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback here"),
        ),
    ],
)
def test_serving_on_is_said_once_it_answers(tmp_path: Path, host: str, url_host: str) -> None:
    (tmp_path / "aiport.yaml").write_text("local: {load: first_use}\n")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "aiport", "serve", "--host", host, "--port", str(port)],
        env=_env(tmp_path) | {"PYTHONUNBUFFERED": "1"},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line == f"aiport: serving on http://{url_host}:{port}\n"
        # No retry: the line comes after the listener is open, and its address answers.
        url = line.removeprefix("aiport: serving on ").strip()
        with urllib.request.urlopen(f"{url}/health/live", timeout=10) as r:
            assert r.status == 200
    finally:
        process.terminate()
        process.wait(30)


def test_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "aiport", "--version"], capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stdout) == (0, f"aiport {aiport.__version__}\n")


@pytest.mark.parametrize("command", [["keys", "list"], ["usage"]])
def test_an_admin_command_without_its_database_is_one_line(
    tmp_path: Path, command: list[str]
) -> None:
    env = _env(tmp_path) | {"AIPORT_DATABASE_URL": f"postgresql://u@127.0.0.1:{free_port()}/x"}
    done = subprocess.run(
        [sys.executable, "-m", "aiport", *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    _assert_one_line(done, "the database could not be opened", "refused")
