"""The one shape of an embedded engine: typed options, a model loaded once, a runner.

Every local engine is a `LocalEngine`. It declares its options as a pydantic model
(`Options`, unknown keys forbidden), so aiport.yaml is checked before anything loads and
the README's option list is printed from the same declarations (`options_markdown`). The
base owns the lifecycle the engines share:

- `load()` (the engine's own code, run on a worker thread) builds the model; `loaded()`
  calls it once, for whichever request or start-up comes first;
- `runner` runs inference off the event loop, bounded, in per-key fair order;
- `status()` reports the model id, whether it is loaded and how many calls are admitted;
- `close()` stops the runner and hands the model to `unload()`.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import threading
import time
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.fields import FieldInfo

from aiport.backends.base import JSON, Backend, ModelCard
from aiport.backends.local.runner import ModelRunner

log = logging.getLogger(__name__)

LOCAL_OWNER = "aiport-local"
# Engines load on threads at once; their native modules are imported one engine at a time:
# numpy's C API initialised from two threads at once makes onnxruntime fail with
# "import numpy failed" (seen when every engine loaded together at start).
_IMPORTS = threading.Lock()
ModelT = TypeVar("ModelT")


class EngineConfigError(ValueError):
    """An engine's options in aiport.yaml are wrong: start-up stops with this message."""


class EngineOptions(BaseModel):
    """Options every local engine takes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model_id: str = Field(default="local-model", description="The id the model is served as")
    concurrency: int = Field(default=1, ge=1, description="Calls that run at once")
    queue_size: int = Field(
        default=16, ge=0, description="Calls that may wait beyond those; more get 503"
    )
    load_at_start: bool = Field(
        default=True, description="Load while starting (default from `local.load`)"
    )


def check_options(options_model: type[EngineOptions], values: dict[str, Any]) -> EngineOptions:
    """`values` as `options_model`, or an EngineConfigError naming each wrong option."""
    try:
        return options_model.model_validate(values)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            option = ".".join(str(part) for part in error["loc"]) or "(options)"
            if error["type"] == "extra_forbidden":
                known = ", ".join(options_model.model_fields)
                problems.append(f"unknown option `{option}` (known: {known})")
            else:
                problems.append(f"option `{option}`: {error['msg']}")
        raise EngineConfigError("; ".join(problems)) from None


class LocalEngine(Backend, Generic[ModelT]):
    """Base of the embedded engines; see the module's docstring for the lifecycle."""

    Options: ClassVar[type[EngineOptions]] = EngineOptions
    capabilities: ClassVar[tuple[str, ...]] = ()
    imports: ClassVar[tuple[str, ...]] = ()  # native modules `load` needs, imported first

    def __init__(self, **options: Any) -> None:
        self.options = check_options(self.Options, options)
        self.model_id = self.options.model_id
        self.runner = self.make_runner()
        self.model: ModelT | None = None
        self._load_lock = asyncio.Lock()

    def make_runner(self) -> ModelRunner:
        return ModelRunner(
            self.model_id, concurrency=self.options.concurrency, queue_size=self.options.queue_size
        )

    def load(self) -> ModelT:
        """Build the model. Runs on a worker thread; raising leaves the engine unloaded."""
        raise NotImplementedError

    def unload(self, model: ModelT) -> None:
        """Release what `load` built (on a worker thread). Default: let it be collected."""

    async def loaded(self) -> ModelT:
        """The model, loaded once (off the event loop) by whichever caller comes first."""
        model = self.model
        if model is not None:
            return model
        async with self._load_lock:
            if self.model is None:
                log.info("loading %s …", self.model_id)
                began = time.perf_counter()
                self.model = await asyncio.to_thread(self._import_and_load)
                log.info("loaded %s in %.1fs", self.model_id, time.perf_counter() - began)
            return self.model

    def _import_and_load(self) -> ModelT:
        with _IMPORTS:
            for name in self.imports:
                importlib.import_module(name)
        return self.load()

    async def start(self) -> None:
        if self.options.load_at_start:
            await self.loaded()

    async def close(self) -> None:
        model, self.model = self.model, None
        self.runner.close()
        if model is not None:
            await asyncio.to_thread(self.unload, model)

    def models(self) -> list[ModelCard]:
        return [ModelCard(id=self.model_id, owned_by=LOCAL_OWNER, capabilities=self.capabilities)]

    def status(self) -> JSON:
        return {"model": self.model_id, "loaded": self.model is not None, "busy": self.runner.busy}


class UnavailableEngine(Backend):
    """Stands in for an engine that could not even be built (its package is missing):
    a request for its models answers 503 and `/health` shows why (`/models` no longer
    offers them: `Router.listed`), instead of a 404 that hides the cause."""

    def __init__(self, model_id: str, reason: str) -> None:
        self.model_id = model_id
        self.reason = reason

    async def start(self) -> None:
        raise RuntimeError(self.reason)

    def models(self) -> list[ModelCard]:
        return [ModelCard(id=self.model_id, owned_by=LOCAL_OWNER)]

    def status(self) -> JSON:
        return {"model": self.model_id, "loaded": False, "busy": 0}


def options_markdown(engines: dict[str, type[LocalEngine[Any]]]) -> str:
    """Each engine's options as a Markdown list (the README holds this text, checked by a
    test): the common ones once, then per engine its own and the defaults it changes."""
    common = EngineOptions.model_fields
    lines = [
        "Every engine takes `enabled` (true), `backend` (`module:Class`), `model_id`, "
        + ", ".join(
            f"`{name}` ({_default(field)})" for name, field in common.items() if name != "model_id"
        )
        + "; per engine:"
    ]
    for kind, engine in engines.items():
        own = [
            f"`{name}` ({_default(field)}) {field.description or ''}".rstrip()
            for name, field in engine.Options.model_fields.items()
            if name not in common or field.default != common[name].default
        ]
        lines.append(f"- **{kind}**: " + "; ".join(own))
    return "\n".join(lines)


def _default(field: FieldInfo) -> str:
    value = field.get_default(call_default_factory=True)
    if value is None or value == "":
        return "unset"
    if isinstance(value, bool):
        return str(value).lower()
    return f"`{value}`" if isinstance(value, str) else str(value)
