"""Without AIPORT_MASTER_KEY, the first start makes a key, keeps it private, shows it once."""

from __future__ import annotations

import re
import stat
from pathlib import Path

from tests.support.server import AiportProcess, raw_request

NO_BACKENDS = {"local": {"enabled": False}}


def serve_without_master_key(workdir: Path) -> AiportProcess:
    # None removes the variable the fixture would otherwise set.
    env: dict[str, str] = {"AIPORT_MASTER_KEY": None}  # type: ignore[dict-item]
    return AiportProcess(workdir, config=NO_BACKENDS, env=env).start()


def test_generated_key_is_stored_private_shown_once_and_kept(tmp_path: Path) -> None:
    first = serve_without_master_key(tmp_path)
    try:
        shown = re.findall(r"sk-aiport-master-[A-Za-z0-9_-]+", first.log())
        assert len(shown) == 1, first.log()
        key = shown[0]
        stored = tmp_path / "data" / "master_key"
        assert stored.read_text().strip() == key
        assert stat.S_IMODE(stored.stat().st_mode) == 0o600
        assert raw_request(first.base_url + "/v1/models", key=key).status == 200
        for presented in (None, "sk-aiport-master-", key + "x"):
            assert raw_request(first.base_url + "/v1/models", key=presented).status == 401
    finally:
        first.stop()

    second = serve_without_master_key(tmp_path)
    try:
        assert key not in second.log()
        assert "generated" not in second.log()
        assert raw_request(second.base_url + "/v1/models", key=key).status == 200
        assert raw_request(second.base_url + "/v1/models", key="sk-wrong").status == 401
    finally:
        second.stop()
    assert stored.read_text().strip() == key
