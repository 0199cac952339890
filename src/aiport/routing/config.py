"""The routing part of aiport.yaml: model groups, the `router:` and `cache:` sections.

```yaml
models:
  llama:                                   # one public name, several deployments
    deployments:
      - {provider: vllm-a, model: meta-llama/Llama-3-8B, weight: 3}
      - {provider: vllm-b, model: meta-llama/Llama-3-8B, weight: 1, rpm: 600}
      - {provider: openai, model: gpt-4o-mini, priority: 1}   # only when tier 0 is out
    fallbacks: [gpt-4o-mini]               # other public names, after retries
    context_window_fallbacks: [gpt-4.1]
    cache: {ttl: 600}
  my-llama: {provider: vllm, model: meta-llama/Llama-3-8B}     # the one-backend form
router: {strategy: weighted, num_retries: 2}
cache: {max_bytes: 67108864}
```

Pure pydantic: imports nothing else from aiport, so `settings` can import it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Error classes a retry or the breaker can name: transport failures and upstream statuses.
CONNECT_ERROR = "connect_error"
TIMEOUT = "timeout"
# 529: Anthropic's "overloaded" (its SDK retries it, as every 5xx).
DEFAULT_FAILURE_ON = (CONNECT_ERROR, TIMEOUT, "500", "502", "503", "504", "529")
# A 429 is not a deployment's failure: it keeps that deployment out of rotation for its
# `retry-after` instead (see `attempts.py`).
DEFAULT_RETRY_ON = (*DEFAULT_FAILURE_ON, "408", "409", "429")

Strategy = Literal["weighted", "least_in_flight", "lowest_latency"]


class ConfigError(ValueError):
    """aiport.yaml names something that is not there: start-up stops with this message."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Timeouts(_Strict):
    """Seconds; an unset value comes from the provider (or the built-in default)."""

    connect: float | None = Field(default=None, gt=0, description="Opening a connection")
    first_byte: float | None = Field(
        default=None, gt=0, description="Until the answer's head (a stream: its first chunk)"
    )
    idle: float | None = Field(default=None, gt=0, description="Longest gap between chunks")
    total: float | None = Field(default=None, gt=0, description="A whole non-stream answer")
    stream_total: float | None = Field(default=None, gt=0, description="A whole stream")


class DeploymentConfig(_Strict):
    """One place a model group's requests can go: a provider's model, or a local engine."""

    provider: str | None = None
    model: str | None = Field(default=None, description="Upstream name; default: the public one")
    engine: str | None = Field(default=None, description="A local engine (chat, embeddings, …)")
    weight: float = Field(default=1.0, gt=0, description="Share of traffic within its tier")
    priority: int = Field(default=0, ge=0, description="Tier: 0 first, 1 only when 0 is out")
    rpm: int | None = Field(default=None, gt=0, description="The provider's requests/minute")
    tpm: int | None = Field(default=None, gt=0, description="The provider's tokens/minute")
    max_in_flight: int | None = Field(default=None, gt=0, description="Concurrent requests")
    timeouts: Timeouts | None = None

    @model_validator(mode="after")
    def _one_target(self) -> DeploymentConfig:
        if (self.provider is None) == (self.engine is None):
            raise ValueError("a deployment names exactly one of `provider` or `engine`")
        return self


class SemanticCacheConfig(_Strict):
    threshold: float = Field(
        default=0.95, gt=0, le=1, description="Cosine similarity of the last user message"
    )


class ModelCacheConfig(_Strict):
    """`cache: true` or these fields, per model."""

    enabled: bool = True
    ttl: float | None = Field(default=None, gt=0, description="Seconds; default: cache.ttl")
    any_temperature: bool = Field(
        default=False, description="Also cache requests that are not deterministic"
    )
    semantic: SemanticCacheConfig | None = None


class ModelConfig(_Strict):
    """A public model name: its deployments, fallbacks and cache. Without `provider` or
    `deployments`, the name keeps its usual target and only gets these settings."""

    provider: str | None = None
    model: str | None = None
    deployments: list[DeploymentConfig] = Field(default_factory=list)
    fallbacks: list[str] = Field(default_factory=list, description="On any failure")
    context_window_fallbacks: list[str] = Field(
        default_factory=list, description="When the prompt is too long for this model"
    )
    content_policy_fallbacks: list[str] = Field(
        default_factory=list, description="When this model refuses on content policy"
    )
    cache: ModelCacheConfig | None = None
    strategy: Strategy | None = None
    num_retries: int | None = Field(default=None, ge=0)
    timeouts: Timeouts | None = None

    @field_validator("cache", mode="before")
    @classmethod
    def _cache_flag(cls, value: object) -> object:
        if isinstance(value, bool):
            return {"enabled": value}
        return value

    @model_validator(mode="after")
    def _single_form(self) -> ModelConfig:
        if self.provider is not None and self.deployments:
            raise ValueError("give either `provider` (one backend) or `deployments`, not both")
        if self.model is not None and self.provider is None:
            raise ValueError("`model` needs a `provider`")
        if self.provider is not None:
            self.deployments = [DeploymentConfig(provider=self.provider, model=self.model)]
        return self


def _error_class(name: object) -> str:
    """`connect_error`, `timeout` or an HTTP status (429 or "429"), as text."""
    text = str(name)
    if text in (CONNECT_ERROR, TIMEOUT) or (text.isdigit() and 100 <= int(text) <= 599):
        return text
    raise ValueError(
        f"`{name}` is not an error class: use {CONNECT_ERROR}, {TIMEOUT} or a status (503)"
    )


class BreakerConfig(_Strict):
    """When a deployment is taken out of rotation, and for how long."""

    consecutive_failures: int = Field(default=5, ge=1)
    failure_ratio: float = Field(default=0.5, gt=0, le=1)
    min_requests: int = Field(default=20, ge=1, description="Before the ratio is judged")
    window: float = Field(default=30.0, gt=0, description="Seconds the ratio looks back")
    cooldown: float = Field(default=5.0, gt=0, description="First ejection, seconds")
    cooldown_max: float = Field(default=120.0, gt=0, description="Doubling stops here")
    half_open_probes: int = Field(default=1, ge=1, description="Trial requests at once")
    failure_on: list[str] = Field(default_factory=lambda: list(DEFAULT_FAILURE_ON))

    @field_validator("failure_on", mode="before")
    @classmethod
    def _classes(cls, value: object) -> object:
        return [_error_class(name) for name in value] if isinstance(value, list) else value


class QueueConfig(_Strict):
    """A short wait for a slot when `max_in_flight` is reached, fair between keys."""

    max_wait: float = Field(default=0.0, ge=0, description="Seconds; 0 turns the queue off")
    per_key: int = Field(default=8, ge=1, description="Requests one key may have waiting")


class RouterConfig(_Strict):
    """Defaults for every model group."""

    strategy: Strategy = "weighted"
    num_retries: int = Field(default=2, ge=0, description="Retries after the first attempt")
    retry_on: dict[str, int] = Field(
        default_factory=lambda: dict.fromkeys(DEFAULT_RETRY_ON, 2),
        description="Error class → most retries for it (`[classes]` means num_retries each)",
    )
    backoff_base: float = Field(default=0.1, ge=0, description="Seconds; doubles per retry")
    backoff_max: float = Field(default=4.0, ge=0)
    retry_after_max: float = Field(
        default=5.0, ge=0, description="A longer retry-after is not waited for here"
    )
    deadline: float = Field(default=600.0, gt=0, description="All attempts of one request")
    breaker: BreakerConfig = Field(default_factory=BreakerConfig)
    max_in_flight: int | None = Field(default=None, gt=0, description="Whole instance")
    queue: QueueConfig = Field(default_factory=QueueConfig)

    @field_validator("retry_on", mode="before")
    @classmethod
    def _retry_list(cls, value: object) -> object:
        if isinstance(value, list):
            return {_error_class(name): 10**6 for name in value}  # bounded by num_retries
        if isinstance(value, dict):
            return {_error_class(name): count for name, count in value.items()}
        return value


class CacheConfig(_Strict):
    """The response cache, for models that have `cache:` (or all, with `enabled`)."""

    enabled: bool = Field(default=False, description="Cache every model, not only those named")
    backend: Literal["auto", "memory", "redis"] = Field(
        default="auto", description="auto: Redis when AIPORT_REDIS_URL is set"
    )
    max_bytes: int = Field(default=64 * 1024 * 1024, gt=0, description="In-memory bound")
    max_entry_bytes: int = Field(default=1024 * 1024, gt=0, description="Larger answers skip")
    ttl: float = Field(default=3600.0, gt=0)
    scope: Literal["key", "shared"] = Field(
        default="key", description="One cache per API key, or one for all keys"
    )
