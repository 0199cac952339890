"""Build the backends a configuration asks for, and the router over them.

Local engines are named by dotted path (`module:Class`), like uvicorn's protocol table, so
a user can put their own class in `local.engines.<kind>.backend` in aiport.yaml.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from aiport.backends.anthropic import AnthropicBackend
from aiport.backends.base import Backend, CallTimeouts
from aiport.backends.local.engine import LOCAL_OWNER, EngineConfigError, UnavailableEngine
from aiport.backends.upstream import UpstreamBackend
from aiport.routing.config import ConfigError, DeploymentConfig
from aiport.routing.deployment import Deployment, Group, with_overrides
from aiport.routing.policy import Policy
from aiport.routing.quota import ProviderQuota
from aiport.routing.table import OPENAI_ALIASES, Router, Target
from aiport.settings import ProviderConfig, Settings

log = logging.getLogger(__name__)

LOCAL_ENGINES: dict[str, str] = {
    "chat": "aiport.backends.local.chat:LlamaChatBackend",
    "embeddings": "aiport.backends.local.embeddings:MiniLMEmbeddingsBackend",
    "speech": "aiport.backends.local.speech:PiperSpeechBackend",
    "transcription": "aiport.backends.local.transcription:WhisperBackend",
    "moderation": "aiport.backends.local.moderation:ModerationBackend",
    "images": "aiport.backends.local.images:SceneImageBackend",
}
# An embedded engine answers or fails by itself; these only bound a stuck one.
LOCAL_TIMEOUTS = CallTimeouts(connect=10.0, first_byte=600.0, idle=600.0, total=600.0)


def load_object(path: str) -> Any:
    module_name, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def build_local_engines(settings: Settings) -> dict[str, Backend]:
    """The configured local engines. Wrong options raise `EngineConfigError` naming the
    engine and the option (start-up stops); an engine whose code cannot even be imported
    (its optional packages are missing) stays listed, unavailable, with the reason."""
    local = settings.file.local
    if not local.enabled:
        return {}
    load_at_start = local.load == "start" or (
        local.load == "auto" and settings.default_provider() is None
    )
    engines: dict[str, Backend] = {}
    # The built-in kinds, plus any other name the config gives a `backend` (e.g. a second
    # chat engine on another GGUF file).
    for name in {**LOCAL_ENGINES, **local.engines}:
        options = dict(local.engines.get(name, {}))
        if not options.pop("enabled", True):
            continue
        path = options.pop("backend", LOCAL_ENGINES.get(name))
        if not isinstance(path, str):
            raise EngineConfigError(f"local engine `{name}` needs `backend: module:Class`")
        options.setdefault("load_at_start", load_at_start)
        engine = _build_engine(name, path, options)
        engine.name = f"local-{name}"  # unique per engine, also for two of one class
        engines[name] = engine
    return engines


def _build_engine(name: str, path: str, options: dict[str, Any]) -> Backend:
    try:
        engine_class = load_object(path)
    except (ImportError, AttributeError) as exc:
        log.error("local engine %s (%s) unavailable: %s", name, path, exc)
        model_id = options.get("model_id")
        return UnavailableEngine(model_id if isinstance(model_id, str) else name, repr(exc))
    try:
        engine: Backend = engine_class(**options)
    except (ValueError, TypeError) as exc:
        raise EngineConfigError(f"local engine `{name}`: {exc}") from None
    return engine


def build_router(
    settings: Settings, engines: dict[str, Backend]
) -> tuple[Router, dict[str, UpstreamBackend]]:
    file = settings.file
    policies = {name: Policy.build(file.router, file.cache, m) for name, m in file.models.items()}
    router = Router(Policy.build(file.router, file.cache), file.router.breaker, policies)
    upstreams = {name: _upstream(name, cfg) for name, cfg in settings.providers().items()}

    for engine in engines.values():
        for card in engine.models():
            router.add_card(engine, card, LOCAL_TIMEOUTS)

    default_provider = settings.default_provider()
    if default_provider is None:
        # gpt-5.4, gpt-image-2, claude-… answer offline
        router.set_family_engines(engines, LOCAL_TIMEOUTS)
        aliases = {**OPENAI_ALIASES, **file.local.aliases}
        for public, kind_or_id in aliases.items():
            _add_alias(router, engines, public, kind_or_id)
    else:
        if default_provider not in upstreams:
            raise ConfigError(f"default_provider `{default_provider}` is not a provider")
        upstream = upstreams[default_provider]
        router.set_default(upstream, provider_timeouts(upstream.config))
        for public, local_id in file.local.aliases.items():
            _add_alias(router, engines, public, local_id)

    for public, model in file.models.items():
        if model.deployments:
            members = [
                _deployment(router, upstreams, engines, public, d) for d in model.deployments
            ]
            owner = (
                members[0].backend.name
                if isinstance(members[0].backend, UpstreamBackend)
                else LOCAL_OWNER
            )
            router.add_group(Group(public, members, policies[public]), owner)
    return router, upstreams


def _upstream(name: str, config: ProviderConfig) -> UpstreamBackend:
    if config.type == "anthropic":
        return AnthropicBackend(name, config)
    return UpstreamBackend(name, config)


def _deployment(
    router: Router,
    upstreams: dict[str, UpstreamBackend],
    engines: dict[str, Backend],
    public: str,
    config: DeploymentConfig,
) -> Deployment:
    if config.provider is not None:
        upstream = upstreams.get(config.provider)
        if upstream is None:
            raise ConfigError(f"model `{public}` names unknown provider `{config.provider}`")
        backend: Backend = upstream
        model = config.model or public
        timeouts = provider_timeouts(upstream.config)
    else:
        engine = engines.get(str(config.engine))
        cards = engine.models() if engine is not None else []
        if engine is None or not cards:
            raise ConfigError(f"model `{public}` names unknown local engine `{config.engine}`")
        backend, model, timeouts = engine, config.model or cards[0].id, LOCAL_TIMEOUTS
    deployment = router.deployment(
        backend, model, with_overrides(timeouts, config.timeouts), config.weight, config.priority
    )
    health = deployment.health
    if config.max_in_flight is not None:
        health.max_in_flight = min(
            health.max_in_flight or config.max_in_flight, config.max_in_flight
        )
    if (config.rpm or config.tpm) and health.quota is None:
        health.quota = ProviderQuota(health.id, config.rpm, config.tpm)
    return deployment


def provider_timeouts(config: ProviderConfig) -> CallTimeouts:
    return CallTimeouts(
        connect=config.connect_timeout,
        first_byte=config.first_byte_timeout,
        idle=config.idle_timeout or config.first_byte_timeout,
        total=config.timeout,
    )


def _add_alias(router: Router, engines: dict[str, Backend], public: str, kind_or_id: str) -> None:
    """`kind_or_id` is an engine kind (chat, speech, ...) or a local model's own id."""
    engine = engines.get(kind_or_id)
    if engine is not None:
        cards = engine.models()
        if cards:
            router.add(public, Target(engine, cards[0].id), LOCAL_OWNER, LOCAL_TIMEOUTS)
        return
    if router.has(kind_or_id):
        member = router.resolve(kind_or_id).deployments[0]
        router.add(public, Target(member.backend, member.model), LOCAL_OWNER, LOCAL_TIMEOUTS)
