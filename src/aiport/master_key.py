"""The admin key: from AIPORT_MASTER_KEY, or generated once and kept in the data dir."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

FILE_NAME = "master_key"


def load_or_create(data_dir: Path, configured: str | None) -> tuple[str, bool]:
    """Return (key, created). A created key is stored with mode 0600 and must be shown once."""
    if configured:
        return configured, False
    path = data_dir / FILE_NAME
    if path.exists():
        return path.read_text().strip(), False
    data_dir.mkdir(parents=True, exist_ok=True)
    key = "sk-aiport-master-" + secrets.token_urlsafe(32)
    # Written whole under a temporary name, then linked into place: two processes starting
    # at once never read a half-written file, and only the one whose link wins prints it.
    temporary = data_dir / f".{FILE_NAME}.{os.getpid()}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(key + "\n")
    try:
        os.link(temporary, path)
    except FileExistsError:
        return path.read_text().strip(), False
    finally:
        temporary.unlink(missing_ok=True)
    return key, True
