"""The stable-diffusion.cpp backend, as far as it can be tested without diffusion weights.

A fake engine stands in for stable-diffusion.cpp in the child process, so the whole path
(start, generate, resize, crash) runs; with the package installed, a file that is not a
model is shown to fail with our error instead of crashing the server.
"""

from __future__ import annotations

import io
import json
import os
import struct
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from aiport.backends.base import Call
from aiport.backends.local import diffusion
from aiport.backends.local.diffusion import (
    DiffusionBackend,
    DiffusionOptions,
    DiffusionSetupError,
    check_model_file,
    engine_kwargs,
    engine_size,
)
from aiport.errors import InternalError
from aiport.protocol.images import ALL_SIZES, ImageRequest


def write_safetensors(path: Path) -> Path:
    header = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
    path.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 8)
    return path


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    return write_safetensors(tmp_path / "model.safetensors")


# -- options and files ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({}, "model_path"),
        ({"model_path": "m.gguf", "steps": 0}, "steps"),
        ({"model_path": "m.gguf", "hd_steps": 151}, "hd_steps"),
        ({"model_path": "m.gguf", "cfg_scale": -1}, "cfg_scale"),
        ({"model_path": "m.gguf", "native_size": 500}, "native_size"),
        ({"model_path": "m.gguf", "sample_method": "magic"}, "sample_method"),
        ({"model_path": "m.gguf", "scheduler": "whenever"}, "scheduler"),
    ],
)
def test_bad_options_are_refused_at_construction(options: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        DiffusionBackend(**options)


async def test_missing_model_file_is_a_clear_error_at_start(tmp_path: Path) -> None:
    backend = DiffusionBackend(model_path=str(tmp_path / "sd15.safetensors"))
    with pytest.raises(DiffusionSetupError, match=r"model file not found: .*sd15\.safetensors"):
        await backend.start()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("model.safetensors", os.urandom(4096), "neither GGUF, safetensors"),
        ("model.gguf", b"this is not a model\n", "neither GGUF, safetensors"),
        ("model.safetensors", b"", "neither GGUF, safetensors"),
        ("model.txt", b"GGUF", "is not a model file"),
    ],
)
def test_files_that_are_not_models_are_refused_before_the_engine(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DiffusionSetupError, match=message):
        check_model_file(str(path))


def test_model_formats_are_recognised(tmp_path: Path, model_file: Path) -> None:
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 1, 0))
    ckpt = tmp_path / "m.ckpt"
    ckpt.write_bytes(b"PK\x03\x04rest-of-zip")
    assert [check_model_file(str(p)) for p in (gguf, model_file, ckpt)] == [
        "gguf",
        "safetensors",
        "pickle",
    ]


async def test_missing_engine_package_says_how_to_install(
    model_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(diffusion, "engine_installed", lambda: False)
    with pytest.raises(DiffusionSetupError, match="pip install stable-diffusion-cpp-python"):
        await DiffusionBackend(model_path=str(model_file)).start()


# -- request mapping --------------------------------------------------------------------


@pytest.mark.parametrize("size", ALL_SIZES)
@pytest.mark.parametrize("native", [512, 1024])
def test_engine_size_keeps_the_shape_at_the_native_resolution(size: str, native: int) -> None:
    width, height = (int(v) for v in size.split("x"))
    gen_w, gen_h = engine_size(width, height, native)
    assert gen_w % 64 == 0 and gen_h % 64 == 0
    assert max(gen_w, gen_h) == native
    assert abs(gen_w / gen_h - width / height) < 0.2


def test_engine_kwargs_map_the_request() -> None:
    options = DiffusionOptions(model_path="m.gguf", steps=8, hd_steps=24, negative_prompt="blurry")
    request = ImageRequest(prompt="a red fox", model="x", n=3, size="1792x1024", quality="hd")
    kwargs = engine_kwargs(request, options, seed=7)
    assert kwargs == {
        "prompt": "a red fox",
        "negative_prompt": "blurry",
        "width": 512,
        "height": 320,
        "sample_steps": 24,
        "cfg_scale": 7.0,
        "sample_method": "default",
        "scheduler": "default",
        "seed": 7,
        "batch_count": 3,
    }
    standard = ImageRequest(prompt="a red fox", model="x", quality="standard")
    assert engine_kwargs(standard, options, seed=1)["sample_steps"] == 8


def test_engine_args_pass_through_to_the_engine(model_file: Path) -> None:
    backend = DiffusionBackend(
        model_path=str(model_file), engine_args={"flash_attn": True}, threads=2
    )
    init = backend.options.engine_init()
    assert init["flash_attn"] is True and init["n_threads"] == 2
    assert init["model_path"] == str(model_file) and init["verbose"] is False


# -- the child process, with a fake engine ----------------------------------------------


def fake_engine(conn: Any, init: dict[str, Any]) -> None:
    """Stands in for stable-diffusion.cpp: grey pictures of the asked size."""
    conn.send(("ready", None))
    while True:
        command, kwargs = conn.recv()
        if command != "generate":
            return
        picture = Image.new("RGB", (kwargs["width"], kwargs["height"]), (128, 128, 128))
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG")
        conn.send(("ok", [buffer.getvalue()] * kwargs["batch_count"]))


def crashing_engine(conn: Any, init: dict[str, Any]) -> None:
    conn.send(("ready", None))
    conn.recv()
    os.abort()  # what a segfault in native code looks like from outside


def call(body: dict[str, Any]) -> Call:
    return Call.from_body(ImageRequest, body, "stable-diffusion", public_model="dall-e-2")


@pytest.fixture
def engine_ok(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(diffusion, "engine_installed", lambda: True)
    monkeypatch.setattr(diffusion, "_serve_engine", fake_engine)


async def test_generates_n_images_at_the_requested_size(model_file: Path, engine_ok: None) -> None:
    backend = DiffusionBackend(model_path=str(model_file))
    await backend.start()
    try:
        assert backend.status()["loaded"] is True
        body = {"prompt": "a fox", "model": "gpt-image-1", "n": 2, "size": "1536x1024"}
        result = await backend.images(call(body))
        assert result.usage.images == 2
        for image in result.images:
            with Image.open(io.BytesIO(image.png)) as decoded:
                assert decoded.size == (1536, 1024)
    finally:
        await backend.close()
    assert backend.status()["loaded"] is False


async def test_an_engine_crash_is_an_error_not_the_end_of_the_server(
    model_file: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(diffusion, "engine_installed", lambda: True)
    monkeypatch.setattr(diffusion, "_serve_engine", crashing_engine)
    backend = DiffusionBackend(model_path=str(model_file), load_at_start=False)
    await backend.start()
    try:
        with pytest.raises(InternalError, match="the server log has the details") as raised:
            await backend.images(call({"prompt": "a fox"}))
        assert str(model_file) not in raised.value.message
        assert "crashed while generating (killed by SIGABRT)" in caplog.text
        monkeypatch.setattr(diffusion, "_serve_engine", fake_engine)
        result = await backend.images(call({"prompt": "a fox"}))  # restarted
        assert len(result.images) == 1
    finally:
        await backend.close()


# -- the real engine, when installed ----------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(not diffusion.engine_installed(), reason="stable-diffusion-cpp-python absent")
async def test_real_engine_refuses_a_file_that_is_not_a_diffusion_model(model_file: Path) -> None:
    backend = DiffusionBackend(model_path=str(model_file))
    with pytest.raises(DiffusionSetupError, match=r"stable-diffusion\.cpp"):
        await backend.start()
    await backend.close()
