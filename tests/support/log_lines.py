"""Finding a request's JSON log lines in a running aiport's log (written every 0.2 s)."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.support.server import AiportProcess


def wait_for_line(server: AiportProcess, request_id: str, kind: str) -> dict[str, Any]:
    """The first log line holding `request_id` and `kind` (e.g. `"logger":"aiport.access"`)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for text in server.log().splitlines():
            if request_id in text and kind in text:
                return dict(json.loads(text))
        time.sleep(0.05)
    raise AssertionError(f"no {kind} line for {request_id}")
