"""Content-encoding decoders for upstream answers, each with a cap on what it may produce.

aiport asks upstreams for `accept-encoding: identity`; these are for the upstreams (and the
proxies in front of them) that compress anyway. A decoder never produces more than the
caller's `limit` in one call, however small the input (a gzip bomb is an error, not memory).
"""

from __future__ import annotations

import zlib
from typing import Protocol

import brotli


class DecodeError(Exception):
    """The compressed body is broken, or decodes to more than allowed."""


class Decoder(Protocol):
    def decode(self, data: bytes, limit: int) -> bytes:
        """Decode `data`; raise `DecodeError` if that would give more than `limit` bytes."""
        ...


def decoder_for(encoding: str) -> Decoder | None:
    """A decoder for a `content-encoding` value; None for identity; DecodeError if unknown."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return _Zlib(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return _Zlib(zlib.MAX_WBITS, raw_fallback=True)
    if encoding == "br":
        return _Brotli()
    raise DecodeError(f"unsupported content-encoding {encoding!r}")


def _too_large(limit: int) -> DecodeError:
    return DecodeError(f"the decoded answer is over the {limit:,} byte limit")


class _Zlib:
    def __init__(self, wbits: int, raw_fallback: bool = False) -> None:
        self._inflate = zlib.decompressobj(wbits)
        # `deflate` is meant to be zlib-wrapped (RFC 9110), but some servers send it raw.
        self._raw_fallback = raw_fallback

    def decode(self, data: bytes, limit: int) -> bytes:
        try:
            out = self._inflate.decompress(data, limit + 1)
        except zlib.error as exc:
            if not self._raw_fallback:
                raise DecodeError(f"broken compressed answer: {exc}") from exc
            self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
            self._raw_fallback = False
            return self.decode(data, limit)
        self._raw_fallback = False
        if len(out) > limit:
            raise _too_large(limit)
        return out


class _Brotli:
    def __init__(self) -> None:
        self._decompressor = brotli.Decompressor()

    def decode(self, data: bytes, limit: int) -> bytes:
        pieces: list[bytes] = []
        size = 0
        try:
            while True:
                piece = self._decompressor.process(data, output_buffer_limit=limit + 1 - size)
                size += len(piece)
                if size > limit:
                    raise _too_large(limit)
                pieces.append(piece)
                if self._decompressor.can_accept_more_data():
                    return b"".join(pieces)
                data = b""
        except brotli.error as exc:
            raise DecodeError(f"broken compressed answer: {exc}") from exc
