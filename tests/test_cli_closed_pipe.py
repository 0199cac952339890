"""Every `aiport` command whose reader has gone (`aiport usage --json | head -1`) stops
quietly, as a Unix tool does: a SIGPIPE's status (141) and nothing on stderr — before, a
BrokenPipeError traceback and status 1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from aiport.cli import main


def test_every_command_stops_quietly_when_its_reader_has_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AIPORT_"))}
    env["AIPORT_DATA_DIR"] = str(tmp_path / "data")
    monkeypatch.setenv("AIPORT_DATA_DIR", env["AIPORT_DATA_DIR"])
    monkeypatch.chdir(tmp_path)  # no ./aiport.yaml of the checkout
    with pytest.raises(SystemExit) as exited:  # a key to revoke, in a database of its own
        main(["keys", "create", "--name", "to revoke"])
    assert exited.value.code == 0
    key_id = capsys.readouterr().out.split()[2]  # "created key <id> (...)"
    commands = [
        ["--help"],
        ["models"],
        ["keys", "create", "--name", "piped"],
        ["keys", "list"],
        ["keys", "revoke", key_id],
        ["usage", "--json"],
        ["db", "upgrade"],
    ]
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte is written
    try:
        running = [
            subprocess.Popen(
                [sys.executable, "-m", "aiport", *command],
                env=env,
                cwd=tmp_path,
                stdout=write_end,
                stderr=subprocess.PIPE,
                text=True,
            )
            for command in commands
        ]
    finally:
        os.close(write_end)
    outcomes = {}
    for command, proc in zip(commands, running, strict=True):
        _, stderr = proc.communicate(timeout=60)
        outcomes[" ".join(command)] = (proc.returncode, stderr)
    # argparse's help ignores a closed pipe itself (status 0); every other command says
    # that its output was cut short.
    assert outcomes.pop("--help") == (0, "")
    assert outcomes == dict.fromkeys(outcomes, (141, ""))
