#!/usr/bin/env python3
"""Draw the README's contact sheet: 24 prompts of the coverage set, each with its caption.

    .venv/bin/python scripts/sketch-contact-sheet.py [docs/sketch-contact-sheet.png]

The first six are the prompts of issue 14; the rest are every 13th of
`tests/data/sketch_prompts.txt` (English and German alike), rendered at 512×512.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiport.backends.local.sketch.canvas import font  # noqa: E402
from aiport.backends.local.sketch.reader import parse_scene  # noqa: E402
from aiport.backends.local.sketch.render import RenderJob, render_image  # noqa: E402
from tests.support.sketch_coverage import prompts  # noqa: E402

TILE, CAPTION, COLUMNS = 512, 56, 6


def chosen() -> list[str]:
    texts = [text for text, _ in prompts()]
    picked = texts[:5] + ["Ein futuristischer Roboter in einer Cyberpunk-Stadt"]
    picked += [t for t in texts[5::13] if t not in picked]
    return picked[:24]


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "sketch-contact-sheet.png"
    texts = chosen()
    rows = (len(texts) + COLUMNS - 1) // COLUMNS
    sheet = Image.new("RGB", (COLUMNS * TILE, rows * (TILE + CAPTION)), "white")
    draw = ImageDraw.Draw(sheet)
    pen = font(20)
    for k, text in enumerate(texts):
        x, y = (k % COLUMNS) * TILE, (k // COLUMNS) * (TILE + CAPTION)
        job = RenderJob(prompt=text, width=TILE, height=TILE)
        sheet.paste(render_image(parse_scene(text), job).convert("RGB"), (x, y))
        caption = text if len(text) <= 44 else text[:43] + "…"
        draw.text((x + TILE / 2, y + TILE + CAPTION / 2), caption, font=pen, fill=(30, 30, 40),
                  anchor="mm")  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.resize((sheet.width // 2, sheet.height // 2), Image.Resampling.LANCZOS).save(
        out, optimize=True
    )
    print(out)


if __name__ == "__main__":
    main()
