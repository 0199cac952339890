"""Pictures drawn here, kept in the data dir and served under unguessable, expiring URLs.

The URL's name is 32 random bytes (so it cannot be guessed or listed) and the file's age
decides whether it is still served: older than the TTL answers 404 and is deleted.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from pathlib import Path

log = logging.getLogger(__name__)

ROUTE_PREFIX = "/images/files/"
_NAME_LENGTH = 43  # token_urlsafe(32)


class ImageStore:
    def __init__(self, directory: Path, ttl_seconds: int) -> None:
        self.directory = directory
        self.ttl = ttl_seconds

    def save(self, png: bytes) -> str:
        """Store a PNG; return its file name (the secret part of its URL)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        name = secrets.token_urlsafe(32) + ".png"
        path = self.directory / name
        try:
            path.write_bytes(png)
        except OSError:
            path.unlink(missing_ok=True)  # never serve half a picture (the disk may be full)
            raise
        return name

    def path_of(self, name: str) -> Path | None:
        """The stored file for `name`, or None if it is unknown or expired."""
        stem = name.removesuffix(".png")
        if len(stem) != _NAME_LENGTH or not all(c.isalnum() or c in "-_" for c in stem):
            return None
        path = self.directory / name
        try:
            age = time.time() - path.stat().st_mtime
        except FileNotFoundError:
            return None
        if age > self.ttl:
            path.unlink(missing_ok=True)
            return None
        return path

    def remove_expired(self) -> int:
        if not self.directory.exists():
            return 0
        cutoff = time.time() - self.ttl
        removed = 0
        for path in self.directory.glob("*.png"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    async def sweep_forever(self, every: float = 300.0) -> None:
        while True:
            removed = await asyncio.to_thread(self.remove_expired)
            if removed:
                log.info("removed %d expired images", removed)
            await asyncio.sleep(every)
