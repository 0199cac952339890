"""What one request carries from authentication to its usage record.

A plain object, filled in as the request goes (by the HTTP layer, the router and the
accounting) and read once when it ends, to write its usage row. It knows nothing of HTTP.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiport.backends.base import Usage

if TYPE_CHECKING:
    from aiport.accounts import Charge
    from aiport.auth import Caller
    from aiport.routing.attempts import AttemptRecord
    from aiport.tracing import RequestTrace


@dataclass(slots=True)
class RequestContext:
    request_id: str
    endpoint: str
    started: float = field(default_factory=time.perf_counter)
    caller: Caller | None = None
    model: str | None = None  # as the client asked
    served_model: str | None = None  # as the backend knows it
    backend: str | None = None
    usage: Usage = field(default_factory=Usage)  # what was consumed and delivered
    usage_reported: bool = False  # True once the backend told us real usage
    first_token: float | None = None  # when the first output went to the client
    status: int = 200
    error_type: str | None = None
    defect: bool = False  # a defect of aiport's or an engine's own code ended it
    charge: Charge | None = None  # set once admitted: price, estimate, reservation
    deployment: str | None = None  # which deployment served ("cache" for a cache hit)
    fallback: str | None = None  # the fallback model that served instead of `model`
    attempts: list[AttemptRecord] = field(default_factory=list)  # retries, fallbacks too
    cache: str | None = None  # hit, miss or bypass, where the response cache was consulted
    limit_decision: str | None = None  # admitted, rate_limited, over_budget, unavailable
    cost_usd: float = 0.0  # what the request was billed
    last_token: float | None = None  # when the last output went to the client
    output_chunks: int = 0  # chunks with generated output
    streaming: bool = False  # an event stream was opened
    trace: RequestTrace | None = None  # the request's span, when tracing is on
    headers: dict[str, str] | None = None  # for whatever response it ends with (HTTP layer)
    metered: bool = True  # False: a read-only admin/console request, no usage row

    def mark_token(self) -> None:
        """Output went to the client now (for time to first token and chunk gaps)."""
        now = time.perf_counter()
        if self.first_token is None:
            self.first_token = now
        self.last_token = now
        self.output_chunks += 1

    @property
    def deployment_ok(self) -> bool | None:
        """What the outcome says of the deployment that served: True for a complete answer,
        False for a failure of its own, None for a defect the request's input met in
        aiport's or an engine's own code (no fault of the deployment: never held against
        it, or one caller's requests would eject a model for everyone)."""
        return None if self.defect else self.status < 500

    @property
    def delivered(self) -> bool:
        """Whether any output reached the client: a success, or a stream cut after its
        first chunk. A request that delivered nothing costs nothing."""
        return self.status < 400 or self.first_token is not None
