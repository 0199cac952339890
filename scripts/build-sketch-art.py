#!/usr/bin/env python3
"""Rebuild the sketch renderer's art set from two npm packages (run by hand, output committed).

    .venv/bin/python scripts/build-sketch-art.py

It packs `@iconify-json/fluent-emoji-flat` (Microsoft's Fluent Emoji, flat style, MIT) and
`emojibase-data` (CLDR emoji names and keywords in English and German, MIT) with `npm pack`,
keeps every emoji that has both art and annotations, shortens the SVG numbers to two
decimals, measures each picture's drawn area (so layouts fit the art, not its padding) and
writes one gzip'd JSON file beside the renderer. People (CLDR subgroups 23-31) also keep
their five natural skin tones beside the default yellow (each tone's picture follows its
base in the file, so gzip packs the five in about a fifth more space than the set alone):
`src/aiport/backends/local/sketch/art/fluent-emoji-flat.json.gz`.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import cairosvg
from PIL import Image

PACKAGES = ("@iconify-json/fluent-emoji-flat@1.2.6", "emojibase-data@17.0.0")
OUT = Path(__file__).resolve().parent.parent / "src/aiport/backends/local/sketch/art"
_DECIMALS = re.compile(r"(\.\d\d)\d+")
PEOPLE = range(23, 32)  # CLDR subgroups of people, roles, activities and families
TONES = {1: "light", 2: "medium-light", 3: "medium", 4: "medium-dark", 5: "dark"}


def unpack(folder: Path) -> dict[str, Path]:
    subprocess.run(
        ["npm", "pack", "--silent", *PACKAGES], cwd=folder, check=True, stdout=sys.stderr
    )
    roots = {}
    for archive in folder.glob("*.tgz"):
        target = folder / archive.stem
        with tarfile.open(archive) as tar:
            tar.extractall(target, filter="data")
        roots[archive.stem] = target / "package"
    return roots


def short_numbers(body: str) -> str:
    """Cut decimals after the second (a 32-unit view: under 0.4 px at 1024 px)."""
    return _DECIMALS.sub(r"\1", body)


def drawn_box(svg: str, size: int = 128) -> list[float]:
    """The box (in viewBox fractions) that holds every visible pixel of the picture."""
    png = cairosvg.svg2png(bytestring=svg.encode(), output_width=size, output_height=size)
    alpha = (
        Image.open(io.BytesIO(png))
        .convert("RGBA")
        .getchannel("A")
        .point(lambda a: 255 if a > 24 else 0)
    )
    x0, y0, x1, y1 = alpha.getbbox() or (0, 0, size, size)
    return [round(x0 / size, 3), round(y0 / size, 3), round(x1 / size, 3), round(y1 / size, 3)]


def hex_key(code: str) -> str:
    return "-".join(p for p in code.lower().split("-") if p != "fe0f")


def build(roots: dict[str, Path]) -> dict[str, object]:
    icons_root = next(v for k, v in roots.items() if "fluent" in k)
    words_root = next(v for k, v in roots.items() if "emojibase" in k)
    icon_set = json.loads((icons_root / "icons.json").read_text())
    slugs = {hex_key(k): v for k, v in json.loads((icons_root / "chars.json").read_text()).items()}
    german = {e["hexcode"]: e for e in json.loads((words_root / "de/data.json").read_text())}
    things = {}
    for entry in json.loads((words_root / "en/data.json").read_text()):
        slug = slugs.get(hex_key(entry["hexcode"]))
        if slug is None or slug not in icon_set["icons"] or entry.get("group") == 2:
            continue
        icon = icon_set["icons"][slug]
        width, height = icon.get("width", icon_set["width"]), icon.get("height", icon_set["height"])
        body = short_numbers(icon["body"])
        svg = f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}">{body}</svg>'
        de = german.get(entry["hexcode"], {})
        things[slug] = {
            "body": body,
            "view": [width, height],
            "box": drawn_box(svg),
            "group": entry.get("subgroup"),
            "en": [entry["label"], *entry.get("tags", [])],
            "de": [de["label"], *de.get("tags", [])] if de else [],
        }
        tones = skin_tones(entry, slugs, icon_set) if entry.get("subgroup") in PEOPLE else {}
        if tones:
            things[slug]["tones"] = tones
    return {
        "source": {"art": PACKAGES[0], "words": PACKAGES[1], "licence": "MIT (both)"},
        "things": things,
    }


def skin_tones(
    entry: dict[str, Any], slugs: dict[str, str], icon_set: dict[str, Any]
) -> dict[str, str]:
    """The picture's body in each single skin tone the art set draws it in."""
    tones = {}
    for skin in entry.get("skins", []):
        slug = slugs.get(hex_key(skin["hexcode"]))
        if isinstance(skin.get("tone"), int) and slug in icon_set["icons"]:
            tones[TONES[skin["tone"]]] = short_numbers(icon_set["icons"][slug]["body"])
    return tones


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        data = build(unpack(Path(folder)))
    OUT.mkdir(parents=True, exist_ok=True)
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    (OUT / "fluent-emoji-flat.json.gz").write_bytes(gzip.compress(raw, 9, mtime=0))
    print(f"{len(data['things'])} things, {len(raw) / 1e6:.1f} MB raw", file=sys.stderr)


if __name__ == "__main__":
    main()
