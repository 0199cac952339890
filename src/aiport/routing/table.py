"""Which deployments serve a public model name.

Order of precedence for a public model name:
1. a model in aiport.yaml (`models:`) with `provider` or `deployments` → that group;
2. a local model's own id (e.g. `smollm2-135m-instruct`) → the local engine;
3. the OpenAI names, as aliases of the local engines — only when no default provider is
   set (no `OPENAI_API_KEY`), so the seed's examples run offline;
4. the default provider (OpenAI when its key is set) → upstream, under the same name;
5. without one, any other name of a known family for the endpoint's kind (`gpt-5.4` on
   chat, `gpt-image-2` on images, `claude-*` on messages: `model_families`) → the local
   engine of that kind;
otherwise 404 `model_not_found`. There is no silent fallback to some other model: fallbacks
happen only where `models.NAME.fallbacks` names them.

Every name resolves to a `Group` (one deployment for 2–4). Deployments that name the same
backend and model share one `Health` (breaker, load, latency), whichever group uses them.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from aiport.backends.base import Backend, CallTimeouts, ModelCard
from aiport.errors import ModelNotFound
from aiport.model_families import engine_for
from aiport.routing.breaker import Breaker
from aiport.routing.config import BreakerConfig
from aiport.routing.deployment import Deployment, Group, Health
from aiport.routing.policy import Policy

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

# Names sent to the default provider get a group each, made on first use; this many are
# kept (callers choose these names, so they must not grow memory without bound).
MAX_DYNAMIC_GROUPS = 1024


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
    def __init__(
        self,
        default_policy: Policy,
        breaker: BreakerConfig | None = None,
        policies: dict[str, Policy] | None = None,
    ) -> None:
        self.default_policy = default_policy
        self.breaker_config = breaker or BreakerConfig()
        self.policies = policies or {}  # settings of configured names, whatever serves them
        self._groups: dict[str, Group] = {}
        self._served: set[str] = set()  # the models configured deployments ask for
        self._listed: dict[str, ListedModel] = {}
        self._default: Backend | None = None
        self._default_timeouts: CallTimeouts | None = None
        self._dynamic: OrderedDict[str, Group] = OrderedDict()
        self._family_engines: dict[str, Backend] = {}
        self._family_timeouts: CallTimeouts | None = None
        self.health: dict[str, Health] = {}

    # -- building ----------------------------------------------------------------------

    def health_of(self, backend: Backend, model: str) -> Health:
        key = f"{backend.name}/{model}"
        health = self.health.get(key)
        if health is None:
            health = Health(key, Breaker(self.breaker_config), backend=backend.name)
            self.health[key] = health
        return health

    def deployment(
        self,
        backend: Backend,
        model: str,
        timeouts: CallTimeouts,
        weight: float = 1.0,
        priority: int = 0,
    ) -> Deployment:
        health = self.health_of(backend, model)
        return Deployment(backend, model, health, timeouts, weight, priority)

    def add_group(self, group: Group, owned_by: str, created: int = 1700000000) -> None:
        self._groups[group.name] = group
        self._served.update(d.model for d in group.deployments)
        self._listed[group.name] = ListedModel(group.name, owned_by, created)

    def add(
        self,
        public: str,
        target: Target,
        owned_by: str,
        timeouts: CallTimeouts,
        created: int = 1700000000,
    ) -> None:
        """`public` served by one deployment: `target`."""
        deployment = self.deployment(target.backend, target.model, timeouts)
        self.add_group(Group(public, [deployment], self.policy(public)), owned_by, created)

    def add_card(self, backend: Backend, card: ModelCard, timeouts: CallTimeouts) -> None:
        self.add(card.id, Target(backend, card.id), card.owned_by, timeouts, card.created)

    def set_default(self, backend: Backend, timeouts: CallTimeouts) -> None:
        self._default = backend
        self._default_timeouts = timeouts

    def set_family_engines(self, engines: dict[str, Backend], timeouts: CallTimeouts) -> None:
        """Local mode: unlisted names of a known family go to the engine of its kind."""
        self._family_engines = engines
        self._family_timeouts = timeouts

    def policy(self, public: str) -> Policy:
        return self.policies.get(public, self.default_policy)

    # -- use ---------------------------------------------------------------------------

    def resolve(self, public: str, kind: str | None = None) -> Group:
        """`kind`: what the endpoint asks for (chat, messages, images, …), so a name's
        family is only honoured where it belongs (`model_families`)."""
        group = self._groups.get(public)
        if group is not None:
            return group
        if self._default is not None and self._default_timeouts is not None:
            return self._dynamic_group(public, public, self._default, self._default_timeouts)
        engine = self._family_engines.get(engine_for(public, kind) or "") if kind else None
        if engine is not None and engine.models() and self._family_timeouts is not None:
            # Keyed by engine too: a name may belong to one endpoint's family, not another's.
            key = f"{engine.name}\0{public}"
            return self._dynamic_group(key, public, engine, self._family_timeouts)
        raise ModelNotFound(public)

    def _dynamic_group(
        self, key: str, public: str, backend: Backend, timeouts: CallTimeouts
    ) -> Group:
        group = self._dynamic.get(key)
        if group is not None:
            self._dynamic.move_to_end(key)
            return group
        model = public if backend is self._default else backend.models()[0].id
        deployment = self.deployment(backend, model, timeouts)
        group = self._dynamic[key] = Group(public, [deployment], self.policy(public))
        if len(self._dynamic) > MAX_DYNAMIC_GROUPS:
            _, evicted = self._dynamic.popitem(last=False)
            for member in evicted.deployments:
                member.health.groups.remove(evicted)
                if not member.health.groups and member.health.in_flight == 0:
                    self.health.pop(member.id, None)
        return group

    def has(self, public: str) -> bool:
        return public in self._groups

    def knows(self, name: str) -> bool:
        """A configured public name, or the model a configured deployment asks for: names
        from the config (bounded, unlike the names callers pass to the default provider)."""
        return name in self._groups or name in self._served

    @property
    def default(self) -> Backend | None:
        return self._default

    def listed(self) -> list[ListedModel]:
        """The configured names to offer (`/models`): not one whose every deployment could
        not start (down for the life of the process; using it still says why, 503)."""
        return [
            model
            for name, model in self._listed.items()
            if any(d.health.down is None for d in self._groups[name].deployments)
        ]

    def groups(self) -> list[Group]:
        return [*self._groups.values(), *self._dynamic.values()]

    def configured(self) -> dict[str, Health]:
        """The deployments of configured groups, by id (not the names passed through to
        the default provider: callers choose those)."""
        return {d.id: d.health for group in self._groups.values() for d in group.deployments}

    def states(self) -> dict[str, str]:
        """Each configured deployment's state: closed, open, half_open or down."""
        return {
            id: "down" if health.down else str(health.breaker.report()["state"])
            for id, health in self.configured().items()
        }

    def observed(self, backend: str) -> dict[str, object]:
        """What the requests sent to `backend` told of it (nothing is sent to find out):
        `status` up (the last one was answered), degraded (it failed, or some deployments
        are ejected or on probation), down (every one is ejected) or unknown (no request
        yet); the `last_request`; its deployments' breaker states (`breakers`)."""
        healths = [h for h in self.health.values() if h.backend == backend]
        states = [str(h.breaker.report()["state"]) for h in healths]
        tried = [h for h in healths if h.last_status is not None]
        last = max(tried, key=lambda h: h.last_at) if tried else None
        failed = last is not None and last.last_status is not None and last.last_status >= 500
        ejected = states.count("open")
        if healths and ejected == len(healths):
            status = "down"
        elif ejected or "half_open" in states or failed:
            status = "degraded"
        else:
            status = "up" if last is not None else "unknown"
        return {
            "status": status,
            "last_request": last.last_request() if last is not None else None,
            "breakers": {state: states.count(state) for state in ("closed", "half_open", "open")},
        }

    def any_healthy(self) -> bool:
        """Whether some deployment can take a request (True when there are none at all)."""
        healths = [d.health for g in self._groups.values() for d in g.deployments]
        return not healths or any(h.usable() for h in healths)

    def may_eject(self, health: Health) -> bool:
        """Never the last healthy deployment of a group of several (that group would have
        nothing left: panic mode keeps it in). A group of one is the exception: ejecting
        its only deployment is what lets requests fail fast, or go to a fallback at once,
        instead of each paying the full retry budget during an outage."""
        for group in health.groups:
            if len(group.deployments) < 2:
                continue
            others = [d for d in group.deployments if d.health is not health]
            if not any(d.health.breaker.state == "closed" and d.health.usable() for d in others):
                return False
        return True
