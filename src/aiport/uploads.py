"""Where uploads are spooled while a request is read, and the sweep of what a dead process
left behind.

Each process spools into a folder of its own, `<data_dir>/uploads/<id>/`, and holds an
exclusive lock on `<id>.lock` beside it for as long as it lives (the kernel drops the lock
when the process dies, however it dies). So at start a process can tell a leftover from a
live upload of another worker or instance sharing the data dir: a folder whose lock it can
take belongs to a dead process and is removed whole. Every failure path of a request
removes its own file (`api.bodies.read_form`, the upload handlers); this sweep is for
crashes and kills. A clean shutdown removes its own folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
import shutil
from pathlib import Path

log = logging.getLogger(__name__)

LOCK_SUFFIX = ".lock"
_CLAIMING = "claiming-"  # a lock file not yet locked by its process: never swept


class UploadSpool:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._directory: Path | None = None
        self._lock_fd: int | None = None

    @property
    def directory(self) -> Path:
        if self._directory is None:
            raise RuntimeError("UploadSpool used before open()")
        return self._directory

    def open(self) -> int:
        """Sweep what dead processes left, then claim a folder; returns the files removed."""
        self.root.mkdir(parents=True, exist_ok=True)
        removed = self._sweep()
        if removed:
            log.warning("removed %d spooled uploads left by a process that died", removed)
        name = secrets.token_hex(8)
        # Locked under a temporary name, then renamed: a sweeper never sees it unlocked.
        claiming = self.root / f"{_CLAIMING}{name}{LOCK_SUFFIX}"
        fd = os.open(claiming, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.rename(claiming, self.root / f"{name}{LOCK_SUFFIX}")
        self._lock_fd = fd
        self._directory = self.root / name
        self._directory.mkdir(mode=0o700)
        return removed

    def close(self) -> None:
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            (self.root / f"{self._directory.name}{LOCK_SUFFIX}").unlink(missing_ok=True)
            self._directory = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _sweep(self) -> int:
        live = set()
        removed = 0
        for lock in self.root.glob(f"*{LOCK_SUFFIX}"):
            if lock.name.startswith(_CLAIMING) or _held(lock):
                live.add(lock.name.removeprefix(_CLAIMING).removesuffix(LOCK_SUFFIX))
        for entry in self.root.iterdir():
            if entry.name.removesuffix(LOCK_SUFFIX) in live or entry.name.startswith(_CLAIMING):
                continue
            if entry.is_dir():
                removed += sum(1 for _ in entry.iterdir())
                shutil.rmtree(entry, ignore_errors=True)
            else:
                removed += not entry.name.endswith(LOCK_SUFFIX)
                entry.unlink(missing_ok=True)
        return removed


def _held(lock: Path) -> bool:
    """Whether a live process holds `lock` (taking it for a moment if not)."""
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        return True  # gone meanwhile: its owner cleaned up
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)
    return False
