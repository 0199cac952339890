"""Real text-to-image for users who have weights: stable-diffusion.cpp, in a child process.

`DiffusionBackend` serves a Stable Diffusion / SDXL / Flux model file the user points at
(`model_path`, a `.safetensors`, `.gguf` or `.ckpt`) through `stable-diffusion-cpp-python`.
No weights ship with aiport and none are downloaded.

The engine runs in a child process, because stable-diffusion.cpp does not fail politely:
given a file that is not a diffusion model (random bytes, an LLM's GGUF, a tiny
safetensors) it crashes the whole process with a segmentation fault (seen with 0.4.7).
A crash therefore costs one clear error, not the server; the next request restarts it.
Requests are generated at the model's native resolution (`native_size` on the longer
side, multiples of 64) and scaled to the size the client asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import io
import json
import logging
import multiprocessing
import os
import random
import signal
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from aiport.backends.base import JSON, Call, GeneratedImage, ImageSet, Usage
from aiport.backends.local.engine import EngineOptions, LocalEngine
from aiport.backends.local.runner import Emitter
from aiport.errors import InternalError
from aiport.protocol.images import ImageRequest

log = logging.getLogger(__name__)

PACKAGE = "stable-diffusion-cpp-python"
SampleMethod = Literal["default", "euler", "euler_a", "heun", "dpm2", "dpm++2s_a", "dpm++2m",
                       "dpm++2mv2", "ipndm", "ipndm_v", "lcm", "ddim_trailing", "tcd"]  # fmt: skip
Scheduler = Literal["default", "discrete", "karras", "exponential", "ays", "gits", "sgm_uniform",
                    "simple", "smoothstep", "lcm"]  # fmt: skip
_MODEL_FILES = (".safetensors", ".gguf", ".ckpt", ".pt", ".pth", ".sft")
_HD = {"hd", "high"}
ABANDON_CHECK_S = 0.1  # how often a generation looks whether its caller is still there


class DiffusionSetupError(RuntimeError):
    """The model cannot be served: a missing or unreadable file, no engine, an engine crash.

    At start-up it stops the server with this message; during a request it is logged and
    the client gets a 500 that does not repeat the server's paths.
    """


class DiffusionOptions(EngineOptions):
    """What the operator configured; checked before anything loads."""

    model_id: str = Field(default="stable-diffusion", description="The id the model is served as")
    concurrency: int = Field(default=1, ge=1, le=1, description="One picture at a time")
    queue_size: int = Field(default=4, ge=0, description="Requests that may wait; more get 503")
    model_path: str = Field(default="", description="A .safetensors, .gguf or .ckpt model")
    diffusion_model_path: str = Field(default="", description="A diffusion model alone (Flux)")
    vae_path: str = Field(default="", description="A separate VAE")
    taesd_path: str = Field(default="", description="A tiny autoencoder (faster decoding)")
    clip_l_path: str = Field(default="", description="CLIP-L text encoder")
    clip_g_path: str = Field(default="", description="CLIP-G text encoder")
    t5xxl_path: str = Field(default="", description="T5-XXL text encoder")
    steps: int = Field(default=20, ge=1, le=150, description="Sampling steps")
    hd_steps: int = Field(default=30, ge=1, le=150, description="Steps for quality hd/high")
    cfg_scale: float = Field(default=7.0, ge=0, le=30, description="Guidance scale")
    sample_method: SampleMethod = Field(default="default", description="Sampler")
    scheduler: Scheduler = Field(default="default", description="Noise schedule")
    negative_prompt: str = Field(default="", description="Sent with every prompt")
    seed: int = Field(default=-1, description="Fixed seed (-1: random per request)")
    native_size: int = Field(
        default=512, ge=256, le=2048, multiple_of=64, description="Longer side generated"
    )
    threads: int = Field(default=-1, description="Engine threads (-1: its default)")
    load_timeout: float = Field(default=900.0, gt=0, description="Seconds to load the model")
    generate_timeout: float = Field(default=900.0, gt=0, description="Seconds per request")
    engine_args: dict[str, Any] = Field(
        default_factory=dict, description="More keyword arguments for `StableDiffusion(...)`"
    )

    @model_validator(mode="after")
    def _needs_a_model(self) -> DiffusionOptions:
        if not (self.model_path or self.diffusion_model_path):
            raise ValueError("local-diffusion needs `model_path` (or `diffusion_model_path`)")
        return self

    def files(self) -> dict[str, str]:
        """The configured model files, by the engine's argument name."""
        names = ("model_path", "diffusion_model_path", "vae_path", "taesd_path",
                 "clip_l_path", "clip_g_path", "t5xxl_path")  # fmt: skip
        return {name: getattr(self, name) for name in names if getattr(self, name)}

    def engine_init(self) -> dict[str, Any]:
        """Keyword arguments for `stable_diffusion_cpp.StableDiffusion(...)`."""
        paths = {name: str(Path(path).expanduser()) for name, path in self.files().items()}
        return {**paths, "n_threads": self.threads, "verbose": False, **self.engine_args}


def engine_size(width: int, height: int, native: int) -> tuple[int, int]:
    """The size to generate at: longer side `native`, both sides multiples of 64."""
    scale = native / max(width, height)
    return (max(64, round(width * scale / 64) * 64), max(64, round(height * scale / 64) * 64))


def engine_kwargs(request: ImageRequest, options: DiffusionOptions, seed: int) -> dict[str, Any]:
    """Keyword arguments for `StableDiffusion.generate_image` for one request."""
    width, height = engine_size(*request.pixels, options.native_size)
    return {
        "prompt": request.prompt,
        "negative_prompt": options.negative_prompt,
        "width": width,
        "height": height,
        "sample_steps": options.hd_steps if request.quality in _HD else options.steps,
        "cfg_scale": options.cfg_scale,
        "sample_method": options.sample_method,
        "scheduler": options.scheduler,
        "seed": seed,
        "batch_count": request.n,
    }


def engine_installed() -> bool:
    return importlib.util.find_spec("stable_diffusion_cpp") is not None


def check_model_file(path: str) -> str:
    """The file's format ("gguf", "safetensors", "pickle") or a DiffusionSetupError.

    A cheap look at the header catches the common mistakes before the engine sees the
    file; it cannot tell a diffusion model from another model of the same format.
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise DiffusionSetupError(f"local-diffusion: model file not found: {file}")
    if file.suffix.lower() not in _MODEL_FILES:
        allowed = ", ".join(_MODEL_FILES)
        raise DiffusionSetupError(f"local-diffusion: {file} is not a model file ({allowed})")
    with file.open("rb") as handle:
        head = handle.read(8)
        if head[:4] == b"GGUF":
            return "gguf"
        if head[:4] == b"PK\x03\x04" or head[:1] == b"\x80":
            return "pickle"
        if len(head) == 8 and _safetensors_header(handle, struct.unpack("<Q", head)[0], file):
            return "safetensors"
    raise DiffusionSetupError(
        f"local-diffusion: {file} is neither GGUF, safetensors nor a checkpoint"
    )


def _safetensors_header(handle: io.BufferedReader, length: int, file: Path) -> bool:
    if not 2 <= length <= min(file.stat().st_size - 8, 100_000_000):
        return False
    try:
        header = json.loads(handle.read(length))
    except ValueError:
        return False
    return isinstance(header, dict) and any(
        isinstance(v, dict) and "data_offsets" in v for v in header.values()
    )


def _serve_engine(conn: Any, init: dict[str, Any]) -> None:
    """Child process: load the model, then answer ("generate", kwargs) with PNG bytes."""
    try:
        from stable_diffusion_cpp import StableDiffusion

        engine = StableDiffusion(**init)
    except Exception as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    if not _has_context(engine):
        conn.send(("error", "it is not a model file stable-diffusion.cpp can load"))
        os._exit(1)  # the engine's destructor would free a NULL context and crash
    conn.send(("ready", None))
    while True:
        command, kwargs = conn.recv()
        if command != "generate":
            return
        try:
            pictures = engine.generate_image(**kwargs)
            conn.send(("ok", [_png(picture) for picture in pictures]))
        except Exception as exc:
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


def _has_context(engine: Any) -> bool:
    """False when loading failed: 0.4.7 then holds a NULL pointer, not None (it checks None)."""
    missing = object()
    context = getattr(getattr(engine, "_model", None), "model", missing)
    return context is missing or bool(context)


def _png(picture: Any) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


class EngineProcess:
    """A model living in a child process; a crash there becomes a DiffusionSetupError here."""

    def __init__(self, init: dict[str, Any], *, timeout: float) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve_engine, args=(child, init), daemon=True)
        self._process.start()
        child.close()
        try:
            self._ask(None, timeout, what="loading the model")
        except DiffusionSetupError:
            self.close()
            raise

    def generate(
        self, kwargs: dict[str, Any], timeout: float, abandoned: Callable[[], bool]
    ) -> list[bytes] | None:
        """The pictures, or None when `abandoned()` turned true first: the engine cannot
        be interrupted, so its process is killed (the next request starts a new one)."""
        self._conn.send(("generate", kwargs))
        deadline = time.monotonic() + timeout
        while not self._conn.poll(ABANDON_CHECK_S):
            if abandoned():
                self.kill()
                return None
            if time.monotonic() > deadline:
                self.close()
                raise DiffusionSetupError(
                    f"stable-diffusion.cpp took over {timeout:.0f}s generating"
                )
        result: list[bytes] = self._ask(None, 0, what="generating")
        return result

    @property
    def alive(self) -> bool:
        return self._process.is_alive()

    def _ask(self, message: tuple[str, Any] | None, timeout: float, *, what: str) -> Any:
        try:
            if message is not None:
                self._conn.send(message)
            if not self._conn.poll(timeout):
                self.close()
                raise DiffusionSetupError(f"stable-diffusion.cpp took over {timeout:.0f}s {what}")
            status, payload = self._conn.recv()
        except (EOFError, OSError, BrokenPipeError) as exc:
            self._process.join(5)
            reason = _exit_reason(self._process.exitcode)
            raise DiffusionSetupError(
                f"stable-diffusion.cpp crashed while {what} ({reason});"
                " is the file a Stable Diffusion / SDXL / Flux model?"
            ) from exc
        if status == "error":
            raise DiffusionSetupError(f"stable-diffusion.cpp failed while {what}: {payload}")
        return payload

    def kill(self) -> None:
        self._process.kill()
        self._process.join(5)
        self._conn.close()

    def close(self) -> None:
        if self._conn.closed:
            return
        if self._process.is_alive():
            with contextlib.suppress(OSError):
                self._conn.send(("stop", None))
            self._process.join(5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)
        self._conn.close()


def _exit_reason(code: int | None) -> str:
    if code is not None and code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


class DiffusionBackend(LocalEngine[EngineProcess]):
    """A user-supplied Stable Diffusion / SDXL / Flux model through stable-diffusion.cpp."""

    name = "local-diffusion"
    Options = DiffusionOptions
    capabilities = ("images",)
    options: DiffusionOptions

    async def start(self) -> None:
        """Check the files (always) and load the model now if `load_at_start`."""
        self.check()
        await super().start()

    def check(self) -> None:
        """Raise DiffusionSetupError unless the files look right and the engine is installed."""
        for path in self.options.files().values():
            check_model_file(path)
        if not engine_installed():
            raise DiffusionSetupError(
                f"local-diffusion needs `{PACKAGE}`: pip install {PACKAGE} (it builds "
                "stable-diffusion.cpp from source: a C++ compiler and cmake, ~6 min on 2 cores)"
            )

    async def loaded(self) -> EngineProcess:
        crashed = self.model
        if crashed is not None and not crashed.alive:  # reap it, then load afresh
            self.model = None
            await asyncio.to_thread(crashed.close)
        return await super().loaded()

    def load(self) -> EngineProcess:
        return EngineProcess(self.options.engine_init(), timeout=self.options.load_timeout)

    def unload(self, model: EngineProcess) -> None:
        model.close()

    def status(self) -> JSON:
        return super().status() | {"loaded": self.model is not None and self.model.alive}

    async def images(self, call: Call) -> ImageSet:
        request = call.request_as(ImageRequest)
        seed = self.options.seed if self.options.seed >= 0 else random.randrange(2**31)
        kwargs = engine_kwargs(request, self.options, seed)
        try:
            engine = await self.loaded()
            work = self.runner.stream(
                self._generate, engine, kwargs, request.pixels, key=call.key_id
            )
            pngs = [png async for png in work]
        except DiffusionSetupError as exc:
            # the details name server paths and engine internals: log them, tell less
            log.error("%s: %s", self.model_id, exc)
            raise InternalError(
                f"The image model `{call.public_model}` failed; the server log has the details."
            ) from exc
        images = [GeneratedImage(png=png) for png in pngs]
        return ImageSet(images=images, usage=Usage(images=len(images)))

    def _generate(
        self, emitter: Emitter, engine: EngineProcess, kwargs: dict[str, Any], size: tuple[int, int]
    ) -> None:
        """Worker: generate, stopping the engine if the caller leaves; emit each picture."""
        pngs = engine.generate(kwargs, self.options.generate_timeout, emitter.cancelled)
        for png in pngs or ():
            emitter.emit(resized(png, size))


def resized(png: bytes, size: tuple[int, int]) -> bytes:
    """The engine's picture scaled to exactly the requested size."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as picture:
        if picture.size == size:
            return png
        scaled = picture.convert("RGB").resize(size, Image.Resampling.LANCZOS)
    return _png(scaled)
