"""The routing soak, bounded for `make test` (benchmarks/routing_soak.py runs it longer):
random upstream faults and clients that leave mid-stream, and still no 500 of our own,
stable file descriptors and memory, and one usage row per request."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmarks.routing_soak import soak

SECONDS = 20


@pytest.mark.slow
def test_a_soak_under_random_faults(tmp_path: Path) -> None:
    report = soak(SECONDS, tmp_path)
    assert report.requests > 200, report.requests
    assert sum(report.statuses.values()) > 0
    assert not report.problems(), (report.problems(), report.statuses, report.client_errors)
