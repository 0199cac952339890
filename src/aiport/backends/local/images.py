"""The embedded image backend: the sketch renderer (`sketch/`) behind the engine runner.

No text-to-image weights ship in any Python package, so the offline default does not
pretend to be a diffusion model: it composes the prompt's scene as a flat illustration
and its `revised_prompt` says so.
"""

from __future__ import annotations

import logging

from pydantic import Field

from aiport.backends.base import Call, ImageSet, Usage
from aiport.backends.local.engine import EngineOptions, LocalEngine
from aiport.backends.local.sketch.render import RenderJob, job_from_request, render_each, render_set
from aiport.protocol.images import ImageRequest

log = logging.getLogger(__name__)

MODEL_ID = "aiport-sketch-1"


class SketchOptions(EngineOptions):
    model_id: str = Field(default=MODEL_ID, description="The id the renderer is served as")


class SceneImageBackend(LocalEngine[bool]):
    """`aiport-sketch-1`: draws the prompt's scene as a flat illustration, offline."""

    name = "local-images"
    Options = SketchOptions
    capabilities = ("images",)

    def load(self) -> bool:
        """Warm up Pillow and the font (the renderer's only "model")."""
        render_set(RenderJob(prompt="a red ball, a cat and 'hi'", width=64, height=64))
        return True

    async def images(self, call: Call) -> ImageSet:
        job = job_from_request(call.request_as(ImageRequest))
        pictures = self.runner.stream_steps(render_each, job, key=call.key_id)
        images = [image async for image in pictures]
        self.model = True  # rendering needs no loading: it has warmed up now
        return ImageSet(images=images, usage=Usage(images=len(images)))
