"""Which failures are worth another attempt, how long to wait first, and which call for a
fallback model.

A failure's class is its upstream status as text ("429", "503", …), `connect_error` for an
upstream that could not be reached (or broke off its answer), or `timeout`. Waits are
exponential with full jitter (AWS's "Exponential Backoff and Jitter"): uniform in
[0, min(backoff_max, backoff_base · 2^n)], so many clients retrying at once spread out. A
`retry-after-ms` / `retry-after` the upstream sent is a floor for the wait, as long as it is
no longer than `retry_after_max`; a longer one is not waited for (the deployment is instead
kept out of rotation that long, see `deployment.py`).
"""

from __future__ import annotations

import asyncio
import random
import time
from email.utils import parsedate_to_datetime

import orjson

from aiport.backends.http_client import UpstreamConnectionError
from aiport.errors import (
    APIError,
    BadGateway,
    GatewayTimeout,
    InternalError,
    Overloaded,
    UpstreamError,
)
from aiport.routing.config import CONNECT_ERROR, TIMEOUT

OVERLOADED = "overloaded"
# A defect in aiport's or an engine's own code that this request's input met: never
# retried (asking again meets it again) and never a deployment's failure (one caller's
# request would otherwise eject a model for everyone). It is logged with its traceback.
DEFECT = "defect"
DEFECTS = (TypeError, AttributeError, KeyError, IndexError, ValueError, AssertionError)

# Codes (OpenAI's and peers') that mean the request itself is the problem, whatever its
# status: never retried, never a deployment's fault.
NEVER_RETRY_CODES = frozenset({"insufficient_quota", "context_length_exceeded"})
CONTEXT_CODES = frozenset({"context_length_exceeded", "string_above_max_length"})
CONTENT_POLICY_CODES = frozenset({"content_policy_violation", "content_filter"})


def as_api_error(exc: BaseException) -> APIError:
    """What the client would see for this failure."""
    if isinstance(exc, APIError):
        return exc
    if isinstance(exc, TimeoutError):
        return GatewayTimeout("The backend did not answer in time.")
    return InternalError("The backend failed.")


def error_class(exc: BaseException) -> str:
    """`connect_error`, `timeout`, `overloaded` (a local engine's queue is full: no fault of
    the deployment, and no reason to ask it again at once), `defect`, or the status as
    text."""
    if isinstance(exc, Overloaded):
        return OVERLOADED
    if isinstance(exc, GatewayTimeout | TimeoutError):
        return TIMEOUT
    if isinstance(exc, BadGateway) and isinstance(exc.__cause__, UpstreamConnectionError):
        return CONNECT_ERROR
    if isinstance(exc, APIError):
        return str(exc.status)
    if isinstance(exc, DEFECTS):
        return DEFECT
    return "500"  # an engine that crashed


def error_code(exc: BaseException) -> str | None:
    """The `code` (or `type`) inside an error answer, e.g. `insufficient_quota`."""
    if isinstance(exc, UpstreamError):
        try:
            error = orjson.loads(exc.raw).get("error") or {}
        except (orjson.JSONDecodeError, AttributeError):
            return None
        code = error.get("code") or error.get("type")
        return str(code) if code else None
    if isinstance(exc, APIError):
        return exc.code or exc.type
    return None


def fallback_reason(exc: BaseException) -> str | None:
    """`context_window`, `content_policy`, `general`, or None when the caller must fix the
    request (a fallback model would refuse it too)."""
    code = error_code(exc)
    if code in CONTEXT_CODES:
        return "context_window"
    if code in CONTENT_POLICY_CODES:
        return "content_policy"
    if code == "insufficient_quota":
        return "general"  # this provider's account is empty; another model may not be
    status = exc.status if isinstance(exc, APIError) else 500
    if status in (408, 409, 429) or status >= 500:
        return "general"
    return None


def retryable(exc: BaseException, klass: str, retry_on: dict[str, int], used: int) -> bool:
    """Whether one more attempt may help: the class is listed with retries left, and the
    answer is not one no retry can change (`insufficient_quota`, 400, 401, 403, 404)."""
    if used >= retry_on.get(klass, 0):
        return False
    return error_code(exc) not in NEVER_RETRY_CODES


def retry_after(exc: BaseException) -> float | None:
    """Seconds the upstream asked to wait (`retry-after-ms` first, then `retry-after` as
    seconds or an HTTP date), or None."""
    headers = exc.headers if isinstance(exc, APIError) else {}
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def backoff(retry: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Full jitter: uniform in [0, min(cap, base · 2^retry)] for the retry-th retry (0-based)."""
    return (rng or random).uniform(0.0, min(cap, base * (2**retry)))


async def sleep(seconds: float) -> None:
    if seconds > 0:
        await asyncio.sleep(seconds)
