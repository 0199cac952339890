"""Structured logs: one JSON object per line on stderr, carrying the request id."""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import TextIO

import orjson

EXTRA_FIELDS = ("request_id", "key_id", "model", "backend", "body", "truncated")


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
        self.write_line(line, urgent=record.levelno >= logging.WARNING)

    def write_line(self, line: str, urgent: bool = False) -> None:
        self._lines.append(line)
        if urgent or len(self._lines) >= self.max_lines:
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


class AccessLog:
    """One line per request, the same JSON as every other log line, written straight to
    the batching handler: building a `LogRecord` per request cost more than the rest of a
    proxied request's bookkeeping. Without that handler (aiport used as a library), it
    goes through `logging` like any other line."""

    def __init__(self) -> None:
        self.logger = logging.getLogger("aiport.access")
        handlers = logging.getLogger().handlers
        self.handler = next((h for h in handlers if isinstance(h, BatchingHandler)), None)
        self._second = -1
        self._second_text = ""  # that second, formatted once (most lines share it)

    def write(self, message: str, fields: dict[str, object]) -> None:
        if self.handler is None or not self.logger.isEnabledFor(logging.INFO):
            self.logger.info(message, extra=fields)
            return
        millis = int(time.time() * 1000)
        second = millis // 1000
        if second != self._second:
            self._second = second
            self._second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        entry: dict[str, object] = {
            "ts": f"{self._second_text}.{millis % 1000:03d}Z",
            "level": "info",
            "logger": "aiport.access",
            "msg": message,
        }
        for name, value in fields.items():
            if value is not None:
                entry[name] = value
        self.handler.write_line(orjson.dumps(entry).decode())


def configure(level: str = "INFO") -> None:
    handler = BatchingHandler(sys.stderr)
    handler.setFormatter(JSONFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("aiohttp.access").disabled = True
