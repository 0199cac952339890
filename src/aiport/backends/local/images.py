"""The embedded image backend: the sketch renderer (`sketch/`) behind the engine runner.

No text-to-image weights ship in any Python package, so the offline default does not
pretend to be a diffusion model: it composes the prompt's scene as a flat illustration
and its `revised_prompt` says so.
"""

from __future__ import annotations

import logging
import time

from aiport.backends.base import JSON, Backend, Call, ImageSet, ModelCard, Usage
from aiport.backends.local.runner import ModelRunner
from aiport.backends.local.sketch.render import RenderJob, job_from_request, render_set
from aiport.errors import InvalidRequest
from aiport.protocol.images import ImageRequest

log = logging.getLogger(__name__)

MODEL_ID = "aiport-sketch-1"


class SceneImageBackend(Backend):
    """`aiport-sketch-1`: draws the prompt's scene as a flat illustration, offline."""

    name = "local-images"

    def __init__(
        self,
        *,
        model_id: str = MODEL_ID,
        concurrency: int = 1,
        queue_size: int = 16,
        load_at_start: bool = True,
    ) -> None:
        self.model_id = model_id
        self.load_at_start = load_at_start
        self._runner = ModelRunner(model_id, concurrency=concurrency, queue_size=queue_size)
        self._loaded = False

    async def start(self) -> None:
        """Warm up Pillow and the font (the renderer's only "model") off the event loop."""
        if self.load_at_start:
            await self._runner.run(self._warm_up)

    def _warm_up(self) -> None:
        log.info("loading %s …", self.model_id)
        began = time.perf_counter()
        render_set(RenderJob(prompt="a red ball, a cat and 'hi'", width=64, height=64))
        self._loaded = True
        log.info("loaded %s in %.1fs", self.model_id, time.perf_counter() - began)

    async def close(self) -> None:
        self._runner.close()
        self._loaded = False

    def models(self) -> list[ModelCard]:
        return [ModelCard(id=self.model_id, owned_by="aiport-local", capabilities=("images",))]

    def status(self) -> JSON:
        return {"model": self.model_id, "loaded": self._loaded, "busy": self._runner.busy}

    async def images(self, call: Call) -> ImageSet:
        try:
            request = ImageRequest.model_validate(call.body)
        except ValueError as exc:
            raise InvalidRequest(f"Invalid image request: {exc}", param="prompt") from exc
        images = await self._runner.run(render_set, job_from_request(request))
        self._loaded = True
        return ImageSet(images=images, usage=Usage(images=len(images)))
