"""SceneImageBackend as the API layer calls it: a validated body in, PNG bytes out."""

from __future__ import annotations

import asyncio
import io
import threading
from typing import Any

import pytest
from PIL import Image

from aiport.backends.base import Call, ImageSet
from aiport.backends.local import images as images_module
from aiport.backends.local.images import MODEL_ID, SceneImageBackend
from aiport.errors import Overloaded
from aiport.protocol.images import ImageRequest


def call(**body: Any) -> Call:
    body.setdefault("model", "dall-e-2")
    return Call.from_body(ImageRequest, body, MODEL_ID)


def size_of(png: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(png)) as image:
        return image.size


@pytest.fixture
async def backend() -> Any:
    backend = SceneImageBackend()
    await backend.start()
    yield backend
    await backend.close()


async def test_start_models_and_status(backend: SceneImageBackend) -> None:
    (card,) = backend.models()
    assert (card.id, card.owned_by, card.capabilities) == (MODEL_ID, "aiport-local", ("images",))
    assert backend.status() == {"model": MODEL_ID, "loaded": True, "busy": 0}


async def test_answers_with_n_pngs_and_usage(backend: SceneImageBackend) -> None:
    result = await backend.images(call(prompt="two cats on a sofa", n=2, size="512x512"))
    assert isinstance(result, ImageSet) and result.usage.images == 2
    assert [size_of(image.png) for image in result.images] == [(512, 512)] * 2
    assert result.images[0].png != result.images[1].png
    revised = result.images[0].revised_prompt or ""
    assert revised.startswith("A flat illustration of two cats")
    assert "on top of a sofa in a room" in revised and "placeholder" not in revised


async def test_seed_defaults_dall_e_3_1024(backend: SceneImageBackend) -> None:
    body = {"prompt": "Ein futuristischer Roboter in einer Cyberpunk-Stadt", "model": "dall-e-3"}
    result = await backend.images(call(**body))
    assert size_of(result.images[0].png) == (1024, 1024)
    assert "robot" in (result.images[0].revised_prompt or "")


async def test_quality_and_style_change_the_picture(backend: SceneImageBackend) -> None:
    prompts = [
        call(prompt="a red ball", quality=quality, style=style)
        for quality, style in (("standard", None), ("hd", None), ("standard", "natural"))
    ]
    results = [await backend.images(c) for c in prompts]
    assert len({r.images[0].png for r in results}) == 3
    assert "detailed, shaded" in (results[1].images[0].revised_prompt or "")


async def test_the_engine_takes_the_request_as_validated(
    backend: SceneImageBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API layer validates the body once; the engine reads `call.request`."""
    body = {"model": "dall-e-2", "prompt": "a red ball", "n": 2, "size": "256x256"}
    request = ImageRequest.model_validate(body)

    def validated_again(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the engine validated the body again")

    monkeypatch.setattr(ImageRequest, "model_validate", validated_again)
    asked = Call.make(request, {}, model=MODEL_ID, public_model="dall-e-2", request_id="r")
    result = await backend.images(asked)
    assert [size_of(image.png) for image in result.images] == [(256, 256)] * 2


async def test_rendering_runs_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    # The drawing waits until the event loop has turned once more: on the loop's own thread
    # it would wait in vain (here, for a minute) and run there.
    backend = SceneImageBackend(load_at_start=False)
    loop_turned = threading.Event()
    drawn_on: list[int] = []
    render_each = images_module.render_each

    def held_until_the_loop_turns(job: Any) -> Any:
        drawn_on.append(threading.get_ident())
        loop_turned.wait(timeout=60)
        yield from render_each(job)

    monkeypatch.setattr(images_module, "render_each", held_until_the_loop_turns)
    drawing = asyncio.create_task(
        backend.images(
            call(prompt="a city at night with five cars", size="1792x1024", quality="hd", model="x")
        )
    )
    while not drawn_on and not drawing.done():
        await asyncio.sleep(0.01)
    assert not drawing.done()  # the loop runs this while the picture is being drawn
    loop_turned.set()
    assert len((await drawing).images) == 1
    await backend.close()
    assert drawn_on != [threading.get_ident()]


async def test_a_full_queue_is_refused_at_once() -> None:
    backend = SceneImageBackend(concurrency=1, queue_size=0)
    body = {"prompt": "ten trees", "size": "1024x1024", "quality": "hd", "model": "x"}
    first = asyncio.create_task(backend.images(call(**body)))
    await asyncio.sleep(0)
    with pytest.raises(Overloaded):
        await backend.images(call(**body))
    await first
    await backend.close()
