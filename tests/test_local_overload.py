"""A local engine's full queue answers 503 `server_is_overloaded` with `retry-after` at
once, through HTTP, while the requests it admitted still succeed."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.server import MASTER_KEY, AiportProcess

OFF = {"enabled": False}


@pytest.mark.slow
async def test_a_full_image_queue_is_refused_quickly(tmp_path: Path) -> None:
    config = {
        "local": {
            "engines": {
                "chat": OFF,
                "embeddings": OFF,
                "speech": OFF,
                "transcription": OFF,
                "moderation": OFF,
                "images": {"concurrency": 1, "queue_size": 1},
            }
        }
    }
    server = AiportProcess(tmp_path, config=config).start(timeout=120)
    body = {
        "prompt": "a busy city at night with five cars, three trees and a sign 'Overload'",
        "size": "1792x1024",
        "quality": "hd",
        "response_format": "b64_json",
    }
    headers = {"Authorization": f"Bearer {MASTER_KEY}"}
    try:
        async with aiohttp.ClientSession() as session:

            async def one() -> tuple[int, Any, dict[str, object]]:
                url = server.base_url + "/v1/images/generations"
                async with session.post(url, json=body, headers=headers) as response:
                    return response.status, response.headers.copy(), await response.json()

            answers = await asyncio.gather(*(one() for _ in range(8)))
    finally:
        server.stop()
    statuses = sorted(status for status, _, _ in answers)
    assert statuses.count(200) >= 2 and statuses.count(503) >= 1, statuses
    for status, response_headers, payload in answers:
        if status == 503:
            assert response_headers["retry-after"] == "1"
            assert payload["error"]["code"] == "server_is_overloaded"  # type: ignore[index]
