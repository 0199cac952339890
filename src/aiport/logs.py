"""Structured logs: one JSON object per line on stderr, carrying the request id."""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import TextIO

import orjson

EXTRA_FIELDS = ("request_id", "key_id", "model", "backend")


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in EXTRA_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class BatchingHandler(logging.Handler):
    """Writes log lines in batches: one write per `interval` (or per `max_lines`) instead of
    one per line, since the access log otherwise costs a syscall per request. Warnings and
    worse are written at once."""

    def __init__(self, stream: TextIO, interval: float = 0.2, max_lines: int = 512) -> None:
        super().__init__()
        self.stream = stream
        self.max_lines = max_lines
        self._lines: list[str] = []
        self._interval = interval
        flusher = threading.Thread(target=self._flush_forever, name="log-flush", daemon=True)
        flusher.start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self._lines.append(line)
        if len(self._lines) >= self.max_lines or record.levelno >= logging.WARNING:
            self.flush()

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            lines, self._lines = self._lines, []
            if lines:
                self.stream.write("\n".join(lines) + "\n")
                self.stream.flush()

    def _flush_forever(self) -> None:
        while True:
            time.sleep(self._interval)
            self.flush()


def configure(level: str = "INFO") -> None:
    handler = BatchingHandler(sys.stderr)
    handler.setFormatter(JSONFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("aiohttp.access").disabled = True
