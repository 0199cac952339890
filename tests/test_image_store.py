"""Pictures behind `url` answers: unguessable names, served until they expire, then gone.
(Serving a fresh one over HTTP is in test_local_server_sdk.py.)"""

from __future__ import annotations

import os
import time
from pathlib import Path

from aiport.imagestore import ImageStore

PNG = b"\x89PNG\r\n\x1a\n-not-really-a-picture"


def test_a_saved_picture_is_found_by_its_long_random_name(tmp_path: Path) -> None:
    store = ImageStore(tmp_path, ttl_seconds=60)
    names = {store.save(PNG) for _ in range(20)}
    assert len(names) == 20 and all(len(name) == 43 + 4 for name in names)
    path = store.path_of(names.pop())
    assert path is not None and path.read_bytes() == PNG


def test_an_expired_picture_is_not_served_and_is_deleted(tmp_path: Path) -> None:
    store = ImageStore(tmp_path, ttl_seconds=60)
    name = store.save(PNG)
    old = time.time() - 61
    os.utime(tmp_path / name, (old, old))
    assert store.path_of(name) is None
    assert not (tmp_path / name).exists()


def test_names_that_could_reach_other_files_are_refused(tmp_path: Path) -> None:
    store = ImageStore(tmp_path, ttl_seconds=60)
    (tmp_path.parent / "secret.png").write_bytes(PNG)
    for name in ("../secret.png", "secret.png", "x" * 43 + ".png/../../secret.png", ""):
        assert store.path_of(name) is None


def test_the_sweep_removes_only_expired_pictures(tmp_path: Path) -> None:
    store = ImageStore(tmp_path, ttl_seconds=60)
    fresh, stale = store.save(PNG), store.save(PNG)
    old = time.time() - 120
    os.utime(tmp_path / stale, (old, old))
    assert store.remove_expired() == 1
    assert (tmp_path / fresh).exists() and not (tmp_path / stale).exists()
