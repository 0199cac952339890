"""A multipart/form-data body for an upload, produced piece by piece with a known length,
so a large audio file goes upstream from disk without being held in memory."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

from aiport.backends.base import Upload

PIECE = 256 * 1024


class MultipartForm:
    def __init__(self, fields: dict[str, Any], upload: Upload) -> None:
        self.boundary = "aiport-" + secrets.token_hex(16)
        self.upload = upload
        self._head = b"".join(self._field(name, value) for name, value in self._items(fields))
        self._head += self._part_head(
            f'name="file"; filename="{_quote(upload.filename)}"', upload.content_type
        )
        self._tail = f"\r\n--{self.boundary}--\r\n".encode()

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    @property
    def length(self) -> int:
        return len(self._head) + self.upload.size + len(self._tail)

    def pieces(self) -> Iterator[bytes]:
        yield self._head
        with self.upload.path.open("rb") as file:
            while piece := file.read(PIECE):
                yield piece
        yield self._tail

    @staticmethod
    def _items(fields: dict[str, Any]) -> Iterator[tuple[str, str]]:
        for name, value in fields.items():
            for item in value if isinstance(value, list) else [value]:
                yield name, str(item)

    def _field(self, name: str, value: str) -> bytes:
        return self._part_head(f'name="{_quote(name)}"', None) + value.encode() + b"\r\n"

    def _part_head(self, disposition: str, content_type: str | None) -> bytes:
        lines = [f"--{self.boundary}", f"Content-Disposition: form-data; {disposition}"]
        if content_type:
            lines.append(f"Content-Type: {content_type}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _quote(text: str) -> str:
    # As browsers do (WHATWG): quotes percent-encoded, line breaks dropped.
    return text.replace('"', "%22").replace("\r", "").replace("\n", "")
