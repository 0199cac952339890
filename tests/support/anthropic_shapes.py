"""The fields of Anthropic's messages and content blocks, read from the installed `anthropic`
SDK's own types (stable and beta, request params and the response models a caller sends
back), for `src/aiport/protocol/anthropic_shapes.json`.

aiport does not depend on the SDK at run time: the list is generated here and checked
against the installed SDK by tests/test_messages_validation.py. After an SDK upgrade:

    .venv/bin/python -m tests.support.anthropic_shapes
"""

from __future__ import annotations

import collections.abc
import json
import re
import types
import typing
from pathlib import Path
from typing import Any, get_args, get_origin

import pydantic
from anthropic.types import message_create_params
from anthropic.types.beta import message_create_params as beta_create_params
from typing_extensions import get_type_hints, is_typeddict  # the SDK's TypedDicts are these

OUTPUT = Path(__file__).parents[2] / "src/aiport/protocol/anthropic_shapes.json"
ROOTS = ("messages", "system")
_SEQUENCES = {list, collections.abc.Iterable, collections.abc.Sequence}
_WRAPPERS = {typing.Required, typing.NotRequired}


def generate() -> dict[str, Any]:
    """{"roots": {field: expr}, "shapes": {name: {"tag": ..., "fields": {field: expr}}}};
    an expr is null (a value not looked into) or {"shapes": [names], "items": expr}."""
    shapes: dict[str, dict[str, Any]] = {}
    roots: dict[str, Any] = {}
    for params in (
        message_create_params.MessageCreateParamsBase,
        beta_create_params.MessageCreateParamsBase,
    ):
        hints = get_type_hints(params, include_extras=True)
        for root in ROOTS:
            roots[root] = _merge(roots.get(root), _expr(hints[root], shapes))
    return {
        "roots": roots,
        "shapes": {
            name: {"tag": shape["tag"], "fields": dict(sorted(shape["fields"].items()))}
            for name, shape in sorted(shapes.items())
        },
    }


def _name(cls: type) -> str:
    """One name for a block's param, response model and their beta twins."""
    return re.sub(r"Param$", "", cls.__name__.removeprefix("Beta"))


def fields_of(cls: type) -> dict[str, Any]:
    if isinstance(cls, type) and issubclass(cls, pydantic.BaseModel):
        return {f.alias or name: f.annotation for name, f in cls.model_fields.items()}
    fields = {}
    for name, hint in get_type_hints(cls, include_extras=True).items():
        aliases = [m.alias for m in getattr(hint, "__metadata__", ()) if hasattr(m, "alias")]
        fields[aliases[0] if aliases else name] = hint
    return fields


def _is_shape(hint: Any) -> bool:
    return is_typeddict(hint) or (isinstance(hint, type) and issubclass(hint, pydantic.BaseModel))


def _expr(hint: Any, shapes: dict[str, dict[str, Any]]) -> Any:
    origin = get_origin(hint)
    if origin is typing.Annotated or origin in _WRAPPERS:
        return _expr(get_args(hint)[0], shapes)
    if origin in (typing.Union, types.UnionType):
        expr = None
        for member in get_args(hint):
            expr = _merge(expr, _expr(member, shapes))
        return expr
    if origin in _SEQUENCES:
        items = _expr(get_args(hint)[0], shapes)
        return {"shapes": [], "items": items} if items is not None else None
    if _is_shape(hint):
        _add_shape(hint, shapes)
        return {"shapes": [_name(hint)], "items": None}
    return None  # a string, number, literal, free-form object: not looked into


def _add_shape(cls: type, shapes: dict[str, dict[str, Any]]) -> None:
    name = _name(cls)
    shape = shapes.setdefault(name, {"tag": None, "fields": {}, "classes": set()})
    if cls in shape["classes"]:
        return  # seen (block types nest in themselves)
    shape["classes"].add(cls)
    fields = fields_of(cls)
    shape["tag"] = shape["tag"] or tag_of(fields.get("type"))
    for field, hint in fields.items():
        shape["fields"].setdefault(field, None)
        shape["fields"][field] = _merge(shape["fields"][field], _expr(hint, shapes))


def tag_of(hint: Any) -> str | None:
    """The block's `type`, when it is one literal string."""
    while get_origin(hint) in (typing.Annotated, *_WRAPPERS):
        hint = get_args(hint)[0]
    if get_origin(hint) in (typing.Union, types.UnionType):  # Optional[Literal[...]]
        members = [m for m in get_args(hint) if m is not type(None)]
        hint = members[0] if len(members) == 1 else None
    if get_origin(hint) is typing.Literal and len(get_args(hint)) == 1:
        return str(get_args(hint)[0])
    return None


def block_types() -> set[type]:
    """Every content block type the SDK's messages may hold (stable and beta, params and
    the response blocks a caller sends back)."""
    found: set[type] = set()

    def collect(hint: Any) -> None:
        if _is_shape(hint):
            found.add(hint)
        for arg in get_args(hint):
            collect(arg)

    for params in (
        message_create_params.MessageCreateParamsBase,
        beta_create_params.MessageCreateParamsBase,
    ):
        for message in get_args(get_args(get_type_hints(params)["messages"])[0]):
            collect(get_type_hints(message, include_extras=True)["content"])
    return found


def _merge(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return a if b is None else b
    names = sorted(set(a["shapes"]) | set(b["shapes"]))
    return {"shapes": names, "items": _merge(a["items"], b["items"])}


def dump(shapes: dict[str, Any]) -> str:
    """The JSON, one line per type (for readable diffs when the SDK changes)."""
    lines = [f'{{"roots": {json.dumps(shapes["roots"], sort_keys=True)},', ' "shapes": {']
    items = list(shapes["shapes"].items())
    for index, (name, shape) in enumerate(items):
        comma = "," if index < len(items) - 1 else ""
        lines.append(f"  {json.dumps(name)}: {json.dumps(shape, sort_keys=True)}{comma}")
    return "\n".join([*lines, "}}", ""])


if __name__ == "__main__":
    OUTPUT.write_text(dump(generate()))
    print(f"wrote {OUTPUT}")
