"""Shared fixtures: a fake upstream on loopback and real `aiport serve` processes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fake_upstream import FakeUpstream
from tests.support.server import UPSTREAM_KEY, AiportProcess, proxy_config


@pytest.fixture(scope="session")
def upstream() -> Iterator[FakeUpstream]:
    server = FakeUpstream().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def proxy(
    upstream: FakeUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AiportProcess]:
    """aiport in front of the fake upstream, as `OPENAI_API_KEY` users run it."""
    server = AiportProcess(
        tmp_path_factory.mktemp("proxy"),
        config=proxy_config(upstream),
        env={"OPENAI_API_KEY": UPSTREAM_KEY},
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AiportProcess]:
    """aiport on its embedded models, as `make serve` runs it (no OpenAI key), shared by
    the tests of the protocols on local engines."""
    server = AiportProcess(tmp_path_factory.mktemp("local-protocols")).start(timeout=180)
    yield server
    server.stop()
