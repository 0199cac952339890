"""What one access log line carries about a request (access_log.access_fields)."""

from __future__ import annotations

from aiport.access_log import access_fields
from aiport.context import RequestContext


def test_a_model_name_of_any_length_is_cut_as_in_the_usage_row() -> None:
    """The name is the client's: 100,000 characters made a 100 KB log line per request."""
    ctx = RequestContext(request_id="req_1", endpoint="/v1/chat/completions", model="m" * 100_000)
    assert access_fields(ctx)["model"] == "m" * 200
    assert access_fields(RequestContext(request_id="r", endpoint="/", model="gpt-4o"))["model"] == (
        "gpt-4o"
    )
