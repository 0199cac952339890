"""What the access log line says about a request, beyond method, path, status and time.

The request id, the key's id (never the key), the model as asked and the backend, the
deployment that served and each upstream attempt, the response cache's verdict, time to
first token, tokens and cost as billed, and the trace id when the request is traced.
Fields without a value are left out of the line.
"""

from __future__ import annotations

from aiport.context import RequestContext


def access_fields(ctx: RequestContext) -> dict[str, object]:
    fields: dict[str, object] = {
        "request_id": ctx.request_id,
        "key_id": ctx.caller.key_id if ctx.caller else None,
        "model": ctx.model[:200] if ctx.model else None,  # the client's: cut, as in usage
        "backend": ctx.backend,
        "deployment": ctx.deployment,
        "cache": ctx.cache,
    }
    if ctx.attempts:
        fields["attempts"] = [a.log_entry() for a in ctx.attempts]
    if ctx.first_token is not None:
        fields["ttft_ms"] = round((ctx.first_token - ctx.started) * 1000, 1)
    if ctx.delivered and (ctx.usage.prompt_tokens or ctx.usage.completion_tokens):
        fields["prompt_tokens"] = ctx.usage.prompt_tokens
        fields["completion_tokens"] = ctx.usage.completion_tokens
    if ctx.cost_usd:
        fields["cost_usd"] = round(ctx.cost_usd, 9)
    if ctx.trace is not None:
        fields["trace_id"] = ctx.trace.trace_id
    return fields
