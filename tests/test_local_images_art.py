"""The project's own pictures (`sketch/art/aiport/`): found by their names, drawn, licensed."""

from __future__ import annotations

import numpy as np
import pytest

from aiport.backends.local.sketch.art import ART_FILE, OWN_ART, art_set, raster

OWN = sorted(path.stem for path in OWN_ART.glob("*.svg"))


def test_every_own_picture_names_its_source_and_licence() -> None:
    licences = (ART_FILE.parent / "LICENSES.txt").read_text()
    assert OWN and all(f"aiport/{name}.svg:" in licences for name in OWN)


@pytest.mark.parametrize("name", OWN)
def test_an_own_picture_fills_its_view_box(name: str) -> None:
    alpha = np.asarray(raster(name, 64, 64))[..., 3]
    rows, cols = np.nonzero(alpha > 24)
    assert rows.min() <= 2 and cols.min() <= 2 and rows.max() >= 61 and cols.max() >= 61
    art = art_set()[name]
    assert art.english and art.german and art.group >= 0
