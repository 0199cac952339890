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
    # O_EXCL: two workers starting at once must not both create (and print) a key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip(), False
    with os.fdopen(fd, "w") as file:
        file.write(key + "\n")
    return key, True
