"""What `GET /admin/usage` and `aiport usage` share: reading the grouping and the range
from their parameters and running `usage_analytics` (the CLI prints it: `cli_admin`).

Parameters (query string or CLI flags): `by` (comma-separated: key, model, served_model,
provider, endpoint and one of hour/day; default key,model), `since` and `until` (ISO times
or durations before now such as `7d`; default: all time until now), and the filters `key`,
`model` and `provider`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from aiport.errors import InvalidRequest
from aiport.keyservice import parse_time
from aiport.store.database import Database
from aiport.store.usage_analytics import parse_by, usage_analytics

FILTERS = ("key", "model", "provider")


def time_range(params: Mapping[str, str | None]) -> tuple[float | None, float]:
    """`since` (None: all time) and `until` (default now); a range that ends before it
    starts is refused rather than answered with nothing."""
    since_text, until_text = params.get("since"), params.get("until")
    since = parse_time(since_text, "since") if since_text else None
    until = parse_time(until_text, "until") if until_text else time.time()
    if since is not None and until_text and until < since:  # (a future `since` alone: empty)
        raise InvalidRequest(
            "`until` is before `since`: no usage can lie between them.", param="until"
        )
    return since, until


async def grouped_usage(db: Database, params: Mapping[str, str | None]) -> dict[str, Any]:
    """The `/admin/usage` answer for `params`: `{object, by, since, until, data}`."""
    by = parse_by(params.get("by"))
    since, until = time_range(params)
    for name in FILTERS:
        value = params.get(name)
        if value is not None and len(value) > 200:
            raise InvalidRequest(f"`{name}` is too long.", param=name)
    rows = await usage_analytics(
        db,
        by,
        since=since,
        until=until,
        key_id=params.get("key"),
        model=params.get("model"),
        provider=params.get("provider"),
    )
    return {"object": "list", "by": list(by), "since": since, "until": until, "data": rows}
