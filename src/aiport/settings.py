"""One typed settings object, read once at start: environment variables plus `aiport.yaml`.

Environment variables carry deployment facts (keys, URLs, data dir); the YAML file carries
the routing table (providers and model routes) and per-engine options. Secrets may be
given in YAML as `${ENV_NAME}` so the file itself holds none.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from aiport.routing.config import CacheConfig, ConfigError, ModelConfig, RouterConfig

OPENAI_BASE_URL = "https://api.openai.com/v1"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ProviderConfig(BaseModel):
    """An upstream provider: OpenAI, any OpenAI-compatible server, or Anthropic."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["openai", "openai-compatible", "anthropic"] | None = Field(
        default=None,
        description="What the upstream speaks: `openai` adds the Responses API natively, "
        "`anthropic` the Messages API; default `openai` for the provider named openai, "
        "else `openai-compatible` (chat completions; the rest is translated)",
    )
    base_url: str = Field(description="Base URL including the version path, e.g. .../v1")
    api_key: SecretStr | None = Field(default=None, description="Key sent upstream as Bearer")
    timeout: float = Field(default=600.0, description="Seconds for a whole non-stream answer")
    connect_timeout: float = Field(default=10.0, description="Seconds to open a connection")
    first_byte_timeout: float = Field(
        default=120.0, description="Seconds to wait for the answer's head (a stream's first chunk)"
    )
    idle_timeout: float | None = Field(
        default=None, description="Seconds between two chunks; default: first_byte_timeout"
    )
    stream_timeout: float | None = Field(
        default=None, description="Seconds for a whole stream; default: no limit while it moves"
    )
    extra_fields: list[str] = Field(
        default_factory=list,
        description="Request fields outside OpenAI's spec to forward (e.g. vLLM's top_k)",
    )
    max_connections: int = Field(
        default=100, gt=0, description="Open connections to this upstream at most; more wait"
    )
    max_answer_bytes: int = Field(
        default=128 << 20, gt=0, description="Largest answer body (decoded) taken from it"
    )
    max_event_bytes: int = Field(
        default=16 << 20, gt=0, description="Largest single stream event taken from it"
    )
    default_max_tokens: int = Field(
        default=4096,
        gt=0,
        description="`anthropic`: max_tokens of a translated request that sets none "
        "(Anthropic requires one)",
    )


class LocalConfig(BaseModel):
    """The embedded engines."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True, description="Serve the embedded models at all")
    load: Literal["auto", "start", "first_use"] = Field(
        default="auto",
        description="Load models while starting, or on their first request; `auto` loads at "
        "start unless a default provider answers the OpenAI names (proxy mode)",
    )
    engines: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Per-engine options by engine name (chat, embeddings, speech, ...); "
        "`backend: module:Class` swaps the implementation, `enabled: false` turns one off",
    )
    aliases: dict[str, str] = Field(
        default_factory=dict, description="Extra public names for local model ids"
    )


class BodyLogConfig(BaseModel):
    """Request and response bodies in the log, for these keys only (aiport.body_log)."""

    model_config = ConfigDict(extra="forbid")

    keys: list[str] = Field(description="Key ids (or `master`) whose bodies are logged")
    max_bytes: int = Field(default=8192, gt=0, description="A body is cut after this many bytes")


class FileConfig(BaseModel):
    """The contents of aiport.yaml."""

    model_config = ConfigDict(extra="forbid")

    providers: dict[str, ProviderConfig] = Field(default_factory=dict)
    models: dict[str, ModelConfig] = Field(default_factory=dict)
    router: RouterConfig = Field(default_factory=RouterConfig)
    cache: CacheConfig = Field(default_factory=CacheConfig)
    default_provider: str | None = Field(
        default=None, description="Provider for model names not otherwise configured"
    )
    local: LocalConfig = Field(default_factory=LocalConfig)
    prices: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="Prices to add or override (aiport.store.pricing)"
    )
    unpriced_models: Literal["refuse", "allow"] = Field(
        default="refuse",
        description="Models without a price: refused (400) for keys with a budget or a token "
        "limit, or `allow`ed and recorded at no cost, flagged unpriced",
    )
    cors_origins: list[str] | None = None
    log_bodies: BodyLogConfig | None = None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIPORT_", extra="ignore")

    host: str = Field(default="127.0.0.1", description="Interface to listen on")
    port: int = Field(default=8000, ge=0, le=65535, description="TCP port")
    workers: int = Field(default=1, ge=1, description="Processes sharing the port")
    config: Path | None = Field(default=None, description="Path of aiport.yaml")
    data_dir: Path = Field(default=Path(".aiport"), description="Database, images, secrets")
    master_key: SecretStr | None = Field(default=None, description="The admin key")
    database_url: str | None = Field(default=None, description="PostgreSQL URL (multi-instance)")
    redis_url: str | None = Field(default=None, description="Redis URL for shared limits")
    limits_fallback: Literal["local", "reject"] = Field(
        default="local", description="When Redis is unreachable: per-instance limits, or 503"
    )
    limiter_socket: str | None = Field(
        default=None,
        description="Set by `serve --workers N` (no Redis) for its workers: the Unix socket "
        "of the supervisor's limiter, which they all share",
    )
    max_body_bytes: int = Field(default=26 * 1024 * 1024, ge=1, description="Largest request body")
    max_json_bytes: int = Field(default=8 * 1024 * 1024, ge=1, description="Largest JSON body")
    cors_origins: list[str] = Field(
        default_factory=lambda: ["*"],
        description="Origins allowed by CORS (browser clients); empty list turns CORS off",
    )
    image_url_ttl: int = Field(default=3600, ge=1, description="Seconds an image URL stays valid")
    public_url: str | None = Field(
        default=None, description="Base URL clients reach this server by (for image URLs)"
    )
    shutdown_grace: float = Field(
        default=30.0,
        ge=0,
        description="Seconds requests in flight get to finish after SIGTERM/SIGINT; then they"
        " are cut (a 503, or an error frame in a stream)",
    )
    access_log: bool = Field(default=True, description="One log line per request")
    metrics: bool = Field(default=True, description="Prometheus metrics at /metrics")
    metrics_token: SecretStr | None = Field(
        default=None, description="A Bearer token that may read /metrics (and nothing else)"
    )
    metrics_port: int | None = Field(
        default=None, description="Also serve /metrics without a key on 127.0.0.1:PORT"
    )
    log_level: str = Field(default="INFO")

    @field_validator("database_url")
    @classmethod
    def _a_database_url(cls, value: str | None) -> str | None:
        schemes = ("postgresql://", "postgres://", "postgresql+asyncpg://", "sqlite:")
        if value and not value.startswith(schemes):
            raise ValueError("must start with postgresql:// (or sqlite:///)")
        return value

    @field_validator("redis_url")
    @classmethod
    def _a_redis_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("log_level")
    @classmethod
    def _a_logging_level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return value.upper()

    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias="OPENAI_API_KEY", description="Key for OpenAI upstream"
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias="OPENAI_BASE_URL", description="Base URL for OpenAI"
    )

    file: FileConfig = Field(default_factory=FileConfig, exclude=True)

    def load_file(self) -> Settings:
        """Read `config` (or ./aiport.yaml when present) into `file`."""
        path = self.config or (Path("aiport.yaml") if Path("aiport.yaml").exists() else None)
        if path is None:
            return self
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            self.file = FileConfig.model_validate(_expand_env(raw))
        except (OSError, UnicodeDecodeError, yaml.YAMLError, ValidationError) as exc:
            raise ConfigError(f"{path}: {one_line(exc)}") from None
        if self.file.cors_origins is not None:
            self.cors_origins = self.file.cors_origins
        return self

    def providers(self) -> dict[str, ProviderConfig]:
        """Configured providers plus `openai` from OPENAI_API_KEY / OPENAI_BASE_URL."""
        providers = dict(self.file.providers)
        if "openai" not in providers and (self.openai_api_key or self.openai_base_url):
            providers["openai"] = ProviderConfig(
                base_url=self.openai_base_url or OPENAI_BASE_URL, api_key=self.openai_api_key
            )
        return providers

    def default_provider(self) -> str | None:
        """Where model names not otherwise configured go (OpenAI when its key is set)."""
        if self.file.default_provider:
            return self.file.default_provider
        return "openai" if "openai" in self.providers() else None


def one_line(exc: Exception) -> str:
    """What is wrong with a config file (or a setting), in one line."""
    if isinstance(exc, ValidationError):
        errors = exc.errors(include_url=False)
        where = ".".join(str(part) for part in errors[0]["loc"]) or "(the whole file)"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return f"`{where}`: {errors[0]['msg']}{more}"
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        return f"line {mark.line + 1}, column {mark.column + 1}: {exc.problem} (not valid YAML)"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc).replace("\n", " ")


_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _expand_env(value: Any) -> Any:
    if isinstance(value, str):
        return _ENV_REF.sub(lambda m: os.environ.get(m.group(1), ""), value)
    if isinstance(value, dict):
        return {k: _expand_env(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v) for v in value]
    return value
