"""Helpers for the routing tests: what a running aiport logged and stored."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from tests.support.server import AiportProcess, raw_request


def access_lines(server: AiportProcess, request_id: str | None = None) -> list[dict[str, Any]]:
    """The access log's lines (JSON), optionally of one request."""
    lines = []
    for line in server.log().splitlines():
        if '"aiport.access"' not in line:
            continue
        entry = json.loads(line)
        if request_id is None or entry.get("request_id") == request_id:
            lines.append(entry)
    return lines


def access_line(server: AiportProcess, request_id: str, timeout: float = 5.0) -> dict[str, Any]:
    """One request's access log line, once it was written (lines leave in batches)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = access_lines(server, request_id)
        if lines or time.monotonic() > deadline:
            assert lines, f"no access log line for {request_id}"
            return lines[0]
        time.sleep(0.05)


def usage_row(server: AiportProcess, request_id: str, timeout: float = 5.0) -> dict[str, Any]:
    """One request's usage row in the server's SQLite database, once written."""
    deadline = time.monotonic() + timeout
    while True:
        rows = usage_rows(server, "WHERE request_id = ?", request_id)
        if rows or time.monotonic() > deadline:
            assert rows, f"no usage row for {request_id}"
            return rows[0]
        time.sleep(0.05)


def usage_rows(server: AiportProcess, where: str = "", *args: Any) -> list[dict[str, Any]]:
    path = server.workdir / "data" / "aiport.db"
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        cursor = conn.execute(f"SELECT * FROM usage_records {where}", args)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        conn.close()


def create_key(server: AiportProcess, **fields: Any) -> str:
    fields.setdefault("name", "routing test")
    response = raw_request(server.base_url + "/admin/keys", fields, method="POST")
    assert response.status == 201, response.body[:300]
    key: str = response.json()["key"]
    return key


def deployments(server: AiportProcess) -> dict[str, dict[str, Any]]:
    """`GET /admin/deployments`, by deployment id."""
    response = raw_request(server.base_url + "/admin/deployments")
    assert response.status == 200, response.body[:300]
    return {d["id"]: d for g in response.json()["data"] for d in g["deployments"]}
