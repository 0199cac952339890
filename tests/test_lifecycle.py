"""What the server does the moment it starts serving."""

from __future__ import annotations

import gc

from aiport.lifecycle import Lifecycle, Phase


def test_what_start_up_made_is_kept_out_of_the_collectors_sight() -> None:
    """Everything loaded at start-up (modules, engines, config) lives as long as the
    process; a full collection walking it stalled the event loop for 20-70 ms, mid-request."""
    gc.unfreeze()
    loaded = [object() for _ in range(3)], {"engine": [1, 2, 3]}  # containers, tracked
    try:
        lifecycle = Lifecycle()
        lifecycle.started()
        assert lifecycle.phase is Phase.SERVING
        assert gc.get_freeze_count() > 0
        assert not any(obj is loaded for obj in gc.get_objects())
    finally:
        gc.unfreeze()
