"""One exception tree for every failure a client can see.

Raise an `APIError` subclass anywhere; the error middleware turns it into OpenAI's error
body `{"error": {"message", "type", "param", "code"}}` with the class's status. The status
codes are the ones the official SDKs map to their exception classes.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson


class APIError(Exception):
    status: int = 500
    type: str = "server_error"
    code: str | None = None

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code
        self.headers: dict[str, str] = dict(headers or {})

    def body(self) -> bytes:
        return orjson.dumps(
            {
                "error": {
                    "message": self.message,
                    "type": self.type,
                    "param": self.param,
                    "code": self.code,
                }
            }
        )


class InvalidRequest(APIError):
    status = 400
    type = "invalid_request_error"


class UnsupportedCapability(InvalidRequest):
    """The model exists but cannot do what was asked (e.g. speech from a chat model)."""

    code = "unsupported_model"


class AuthenticationFailed(APIError):
    status = 401
    type = "invalid_request_error"
    code = "invalid_api_key"


class PermissionDenied(APIError):
    status = 403
    type = "invalid_request_error"
    code = "permission_denied"


class NotFound(APIError):
    status = 404
    type = "invalid_request_error"
    code = "not_found"


class ModelNotFound(NotFound):
    code = "model_not_found"

    def __init__(self, model: str, **kwargs: object) -> None:
        super().__init__(
            f"The model `{model}` does not exist or you do not have access to it.",
            param="model",
            **kwargs,  # type: ignore[arg-type]
        )


class MethodNotAllowed(APIError):
    status = 405
    type = "invalid_request_error"
    code = "method_not_allowed"


class Conflict(APIError):
    status = 409
    type = "invalid_request_error"
    code = "conflict"


class PayloadTooLarge(APIError):
    status = 413
    type = "invalid_request_error"
    code = "request_too_large"


class UnsupportedMediaType(APIError):
    status = 415
    type = "invalid_request_error"
    code = "unsupported_media_type"


class Unprocessable(APIError):
    status = 422
    type = "invalid_request_error"


class RateLimited(APIError):
    status = 429
    type = "requests"
    code = "rate_limit_exceeded"


class QuotaExceeded(APIError):
    """A spent budget: retrying cannot help, so the SDKs are told not to."""

    status = 429
    type = "insufficient_quota"
    code = "insufficient_quota"

    def __init__(self, message: str, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.headers.setdefault("x-should-retry", "false")


class InternalError(APIError):
    status = 500
    type = "server_error"
    code = "internal_error"


class BadGateway(APIError):
    status = 502
    type = "server_error"
    code = "upstream_error"


class Overloaded(APIError):
    status = 503
    type = "server_error"
    code = "server_is_overloaded"


class Unavailable(APIError):
    """This server cannot serve now: starting, shutting down, or a service it depends on
    (the database, Redis) is unreachable. Another instance, or a retry, may succeed."""

    status = 503
    type = "server_error"
    code = "service_unavailable"


class NoHealthyDeployment(Unavailable):
    """Every deployment of the model is cooling down after failures: answered at once
    (with `retry-after`) rather than after a full round of doomed retries."""

    code = "no_healthy_deployment"


class GatewayTimeout(APIError):
    status = 504
    type = "server_error"
    code = "upstream_timeout"


class UpstreamError(APIError):
    """An error answer from an upstream provider, passed on with its own status and body."""

    def __init__(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        super().__init__(f"upstream answered {status}", headers=headers)
        self.status = status
        self.raw = body

    def body(self) -> bytes:
        return self.raw
