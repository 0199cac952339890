"""Which backend serves a model name, and under which name it knows the model.

Order of precedence for a public model name:
1. a route in aiport.yaml (`models:`) → that provider, under the configured upstream name;
2. a local model's own id (e.g. `smollm2-135m-instruct`) → the local engine;
3. the OpenAI names, as aliases of the local engines — only when no default provider is
   set (no `OPENAI_API_KEY`), so the seed's examples run offline;
4. the default provider (OpenAI when its key is set) → upstream, under the same name;
5. without one, any other name of a known family for the endpoint's kind (`gpt-5.4` on
   chat, `gpt-image-2` on images, `claude-*` on messages: `model_families`) → the local
   engine of that kind;
otherwise 404 `model_not_found`. There is no silent fallback to some other model.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiport.backends.base import Backend, ModelCard
from aiport.errors import ModelNotFound
from aiport.model_families import engine_for

# OpenAI's model names → the kind of local engine that answers for them offline.
OPENAI_ALIASES: dict[str, str] = {
    **dict.fromkeys(
        (
            "gpt-4o",
            "gpt-4o-mini",
            "gpt-3.5-turbo",
            "gpt-4",
            "gpt-4-turbo",
            "gpt-4.1",
            "gpt-4.1-mini",
            "gpt-4.1-nano",
        ),
        "chat",
    ),
    **dict.fromkeys(
        ("text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002"),
        "embeddings",
    ),
    **dict.fromkeys(("dall-e-3", "dall-e-2", "gpt-image-1"), "images"),
    **dict.fromkeys(("tts-1", "tts-1-hd", "gpt-4o-mini-tts"), "speech"),
    **dict.fromkeys(("whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe"), "transcription"),
    **dict.fromkeys(
        (
            "omni-moderation-latest",
            "omni-moderation-2024-09-26",
            "text-moderation-latest",
            "text-moderation-stable",
            "text-moderation-007",
        ),
        "moderation",
    ),
}


@dataclass(frozen=True, slots=True)
class Target:
    backend: Backend
    model: str  # the name the backend knows the model by


@dataclass(frozen=True, slots=True)
class ListedModel:
    id: str
    owned_by: str
    created: int


class Router:
    def __init__(self) -> None:
        self._targets: dict[str, Target] = {}
        self._listed: dict[str, ListedModel] = {}
        self._default: Backend | None = None
        self._family_engines: dict[str, Backend] = {}

    def add(self, public: str, target: Target, owned_by: str, created: int = 1700000000) -> None:
        self._targets[public] = target
        self._listed[public] = ListedModel(public, owned_by, created)

    def add_card(self, backend: Backend, card: ModelCard) -> None:
        self.add(card.id, Target(backend, card.id), card.owned_by, card.created)

    def set_default(self, backend: Backend) -> None:
        self._default = backend

    def set_family_engines(self, engines: dict[str, Backend]) -> None:
        """Local mode: unlisted names of a known family go to the engine of its kind."""
        self._family_engines = engines

    def resolve(self, public: str, kind: str | None = None) -> Target:
        """`kind`: what the endpoint asks for (chat, messages, images, …), so a name's
        family is only honoured where it belongs (`model_families`)."""
        target = self._targets.get(public)
        if target is not None:
            return target
        if self._default is not None:
            return Target(self._default, public)
        engine = self._family_engines.get(engine_for(public, kind) or "") if kind else None
        if engine is not None and engine.models():
            return Target(engine, engine.models()[0].id)
        raise ModelNotFound(public)

    def has(self, public: str) -> bool:
        return public in self._targets

    @property
    def default(self) -> Backend | None:
        return self._default

    def listed(self) -> list[ListedModel]:
        return list(self._listed.values())
