"""A model group's routing policy: the `router:` defaults with the model's own settings on top."""

from __future__ import annotations

from dataclasses import dataclass

from aiport.routing.config import (
    CacheConfig,
    ModelCacheConfig,
    ModelConfig,
    RouterConfig,
    Strategy,
    Timeouts,
)


@dataclass(frozen=True, slots=True)
class Policy:
    strategy: Strategy
    num_retries: int
    retry_on: dict[str, int]
    backoff_base: float
    backoff_max: float
    retry_after_max: float
    deadline: float
    failure_on: frozenset[str]
    fallbacks: tuple[str, ...] = ()
    context_window_fallbacks: tuple[str, ...] = ()
    content_policy_fallbacks: tuple[str, ...] = ()
    cache: ModelCacheConfig | None = None
    timeouts: Timeouts | None = None

    @classmethod
    def build(
        cls, router: RouterConfig, cache: CacheConfig, model: ModelConfig | None = None
    ) -> Policy:
        model = model or ModelConfig()
        model_cache = model.cache
        if model_cache is None and cache.enabled:
            model_cache = ModelCacheConfig()
        return cls(
            strategy=model.strategy or router.strategy,
            num_retries=router.num_retries if model.num_retries is None else model.num_retries,
            retry_on=router.retry_on,
            backoff_base=router.backoff_base,
            backoff_max=router.backoff_max,
            retry_after_max=router.retry_after_max,
            deadline=router.deadline,
            failure_on=frozenset(router.breaker.failure_on),
            fallbacks=tuple(model.fallbacks),
            context_window_fallbacks=tuple(model.context_window_fallbacks),
            content_policy_fallbacks=tuple(model.content_policy_fallbacks),
            cache=model_cache if model_cache is not None and model_cache.enabled else None,
            timeouts=model.timeouts,
        )

    def fallbacks_for(self, reason: str) -> tuple[str, ...]:
        """The fallback names for a failure of this kind (see `retry.fallback_reason`)."""
        if reason == "context_window":
            return self.context_window_fallbacks
        if reason == "content_policy":
            return self.content_policy_fallbacks
        return self.fallbacks
