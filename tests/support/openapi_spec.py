"""OpenAI's OpenAPI document as JSON Schema, for checking response shapes.

The document is OpenAPI 3.1, whose schemas are JSON Schema 2020-12 apart from the odd
OpenAPI 3.0 `nullable: true`, which is rewritten here into a `null` alternative. `$ref`s
resolve against the whole loaded document.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_URI = "urn:openai-openapi"
DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "openai"


def spec_path() -> Path:
    """OpenAI's spec, kept in the repository (MIT; its licence is beside it)."""
    return DATA_DIR / "openapi.yaml"


@cache
def spec() -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader is 10x faster
    with spec_path().open("rb") as file:
        document = yaml.load(file, Loader=loader)
    return _without_nullable(document)


@cache
def _registry() -> Registry:
    resource = Resource.from_contents(spec(), default_specification=DRAFT202012)
    return Registry().with_resource(SPEC_URI, resource)


def response_schema_ref(path: str, method: str, content_type: str = "application/json") -> str:
    """A `$ref` to the schema of the 200 answer of one operation."""
    pointer = "/".join(
        part.replace("~", "~0").replace("/", "~1")
        for part in ("paths", path, method, "responses", "200", "content", content_type, "schema")
    )
    return f"{SPEC_URI}#/{pointer}"


def component_ref(name: str) -> str:
    return f"{SPEC_URI}#/components/schemas/{name}"


@cache
def _event_schemas(union: str) -> dict[str, str]:
    """Event type → its schema's name, for the members of a stream-event union."""
    schemas = spec()["components"]["schemas"]
    found: dict[str, str] = {}
    for member in schemas[union]["anyOf"]:
        name = member["$ref"].rsplit("/", 1)[-1]
        kinds = schemas[name].get("properties", {}).get("type", {}).get("enum", [])
        found.update(dict.fromkeys(kinds, name))
    return found


def validate_event(event: dict[str, Any], union: str = "ResponseStreamEvent") -> None:
    """Check one stream event against the schema of its own `type` (a clearer failure
    than the whole union's)."""
    name = _event_schemas(union).get(event.get("type", ""))
    assert name is not None, f"{event.get('type')!r} is not an event of {union}"
    validate(event, component_ref(name))


def validate(instance: Any, ref: str) -> None:
    """Raise `jsonschema.ValidationError` (the most relevant one) if `instance` does not fit."""
    validator = jsonschema.Draft202012Validator({"$ref": ref}, registry=_registry())
    error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
    if error is not None:
        raise error


def _without_nullable(node: Any) -> Any:
    if isinstance(node, list):
        return [_without_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _without_nullable(value) for key, value in node.items()}
    if converted.pop("nullable", False) is not True:
        return converted
    kind = converted.get("type")
    if isinstance(kind, str):
        converted["type"] = [kind, "null"]
        if "enum" in converted:
            converted["enum"] = [*converted["enum"], None]
        return converted
    return {"anyOf": [converted, {"type": "null"}]}
