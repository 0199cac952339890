"""What one request may ask of the local chat engine: OpenAI's schema limits and the output
budget, at their edges (the engine's own 400s are in test_local_chat_heavy_requests)."""

from __future__ import annotations

from typing import Any

import pytest

from aiport.backends.local.chat_limits import check_output, check_schemas
from aiport.errors import InvalidRequest
from aiport.protocol.chat import ResponseFormat


def response_format(schema: dict[str, Any]) -> ResponseFormat:
    return ResponseFormat(type="json_schema", json_schema={"name": "s", "schema": schema})


def enums(*sizes: int, width: int = 3) -> dict[str, Any]:
    properties = {
        f"p{i}": {"type": "string", "enum": [f"{j:0{width}}" for j in range(size)]}
        for i, size in enumerate(sizes)
    }
    return {"type": "object", "properties": properties}


def nested(levels: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"x": schema}}
    return schema


def refusal(schema: dict[str, Any], tools: list[dict[str, Any]] | None = None) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as refused:
        check_schemas(response_format(schema), tools)
    return refused.value


def test_a_thousand_enum_values_across_properties_pass_one_more_is_refused() -> None:
    check_schemas(response_format(enums(250, 250, 250, 250)), None)
    error = refusal(enums(250, 250, 250, 251))
    assert "1000 enum values" in error.message
    assert error.param == "response_format.json_schema.schema"


def test_consts_and_anyof_branches_count_as_enum_values() -> None:
    """`anyOf` of 4,000 consts is the grammar of a 4,000-value enum (it took as long)."""
    consts = {"anyOf": [{"const": f"v{i}"} for i in range(1001)]}
    assert "1000 enum values" in refusal({"type": "object", "properties": {"w": consts}}).message
    branches = {"anyOf": [{"type": "string", "pattern": f"^v{i}$"} for i in range(1001)]}
    assert "1000 enum values" in refusal(branches).message
    nullable = {"anyOf": [{"type": "string", "enum": ["a", "b"]}, {"type": "null"}]}
    check_schemas(response_format({"type": "object", "properties": {"w": nullable}}), None)


def test_the_schemas_of_one_request_count_together() -> None:
    tool = {"type": "function", "function": {"name": "f", "parameters": enums(600)}}
    assert refusal(enums(600), [tool]).param == "tools[0].function.parameters"


def test_ten_levels_of_objects_pass_eleven_are_refused() -> None:
    check_schemas(response_format(nested(10)), None)
    assert "10 levels" in refusal(nested(11)).message


def test_a_long_string_enum_of_more_than_250_values_is_refused() -> None:
    check_schemas(response_format(enums(250, width=60)), None)  # 15,000 characters
    assert "15000 characters" in refusal(enums(251, width=60)).message


def test_properties_and_characters_in_total() -> None:
    many = {"type": "object", "properties": {f"p{i}": {"type": "string"} for i in range(5001)}}
    assert "5000 object properties" in refusal(many).message
    assert "120000 characters" in refusal({"const": "x" * 120_001}).message


def test_a_deep_schema_is_checked_without_exhausting_the_stack() -> None:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(5000):
        schema = {"type": "array", "items": schema}
    check_schemas(response_format(schema), None)


def test_the_output_budget() -> None:
    check_output(1, 1_000_000, n_ctx=2048, budget=32768, model="m")  # bounded by the context
    check_output(16, None, n_ctx=2048, budget=32768, model="m")
    with pytest.raises(InvalidRequest) as refused:
        check_output(17, None, n_ctx=2048, budget=32768, model="m")
    assert refused.value.param == "n" and "context of 2048" in refused.value.message
