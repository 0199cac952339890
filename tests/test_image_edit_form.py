"""The image-edit form is read without parsing its pictures: a 25 MB upload took the email
parser 2 s of the event loop and ten times its size in memory before even a refusal."""

from __future__ import annotations

import random
import tracemalloc

import pytest

from aiport.api.image_edits import Form
from aiport.errors import InvalidRequest

BOUNDARY = "b0undary"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def form(*parts: bytes) -> bytes:
    return b"".join(b"--" + BOUNDARY.encode() + b"\r\n" + part + b"\r\n" for part in parts) + (
        b"--" + BOUNDARY.encode() + b"--\r\n"
    )


def field(name: str, value: bytes, *headers: str) -> bytes:
    head = [f'Content-Disposition: form-data; name="{name}"', *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + value


def picture(content: bytes) -> bytes:
    return field("image", content, "Content-Type: image/png").replace(
        b'name="image"', b'name="image"; filename="a.png"'
    )


def test_fields_are_read_and_the_pictures_left_as_sent() -> None:
    image = b"\x89PNG\r\n\r\n--not-the-boundary\r\n" + bytes(range(256))
    raw = form(
        field("prompt", "Ein Hut über €".encode()),
        field("n", b"Mg==", "Content-Transfer-Encoding: base64"),
        picture(image),
        field("model", b"dall-e-2"),
    )
    parsed = Form.parse(raw, CONTENT_TYPE)
    assert parsed.fields == {"prompt": "Ein Hut über €", "n": "2", "model": "dall-e-2"}
    assert parsed.naming("dall-e-2").body == raw
    renamed = Form.parse(parsed.naming("my-edit-model").body, CONTENT_TYPE)
    assert renamed.fields["model"] == "my-edit-model"
    assert image in renamed.raw


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b"no delimiter at all", CONTENT_TYPE),
        (form(field("prompt", b"x")).removesuffix(b"--\r\n"), CONTENT_TYPE),  # cut short
        (form(field("prompt", b"x")), "multipart/form-data"),  # no boundary
    ],
)
def test_a_broken_form_is_invalid_request(raw: bytes, content_type: str) -> None:
    with pytest.raises(InvalidRequest):
        Form.parse(raw, content_type)


def test_a_large_picture_is_not_copied_over_and_over() -> None:
    image = random.Random(3).randbytes(4_000_000)
    raw = form(field("prompt", b"a hat"), picture(image))
    tracemalloc.start()
    try:
        parsed = Form.parse(raw, CONTENT_TYPE)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert parsed.fields == {"prompt": "a hat"}
    assert peak < 3 * len(raw), peak / len(raw)
