"""CORS for browser clients (the seed plays speech with `new Audio(...)` from a page)."""

from __future__ import annotations

from aiohttp import web

ALLOW_HEADERS = "authorization, content-type, openai-organization, openai-project, x-stainless-*"
EXPOSE_HEADERS = (
    "x-request-id, request-id, retry-after, x-should-retry, x-ratelimit-limit-requests, "
    "x-ratelimit-limit-tokens, x-ratelimit-remaining-requests, x-ratelimit-remaining-tokens, "
    "x-ratelimit-reset-requests, x-ratelimit-reset-tokens"
)


class CorsPolicy:
    def __init__(self, origins: list[str]) -> None:
        self.any_origin = "*" in origins
        self.origins = frozenset(origins)

    def headers_for(self, request: web.Request) -> dict[str, str] | None:
        """CORS headers for this request, or None when it is not a cross-origin one we allow."""
        origin = request.headers.get("Origin")
        if origin is None or not (self.any_origin or origin in self.origins):
            return None
        headers = {
            "access-control-allow-origin": "*" if self.any_origin else origin,
            "access-control-expose-headers": EXPOSE_HEADERS,
        }
        if not self.any_origin:
            headers["vary"] = "Origin"
        if request.method == "OPTIONS":
            requested = request.headers.get("Access-Control-Request-Headers")
            headers["access-control-allow-methods"] = "GET, POST, DELETE, OPTIONS"
            headers["access-control-allow-headers"] = requested or ALLOW_HEADERS
            headers["access-control-max-age"] = "600"
        return headers
