"""The fields Anthropic allows inside messages, their content blocks and system blocks.

Anthropic refuses a field it does not define anywhere in a request, naming its path with
the block's `type` in it: `messages.0.content.1.tool_use.text: Extra inputs are not
permitted`. The allowed fields are those of the `anthropic` SDK's own types, stable and
beta, params and the response blocks a caller sends back (`anthropic_shapes.json`,
generated from the SDK by tests/support/anthropic_shapes.py). They become pydantic-core
schemas for `protocol.messages.SDKFields`, checked (one compiled pass) only where aiport
answers in Anthropic's place: Anthropic judges the requests that go to it. Only the names
of fields are judged here, not their values (the upstream, or the translation, answers for
those), and a block `type` the SDK does not know is let through unjudged.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.resources import files
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema

# What the value was taken as, in an error's path; not part of the path Anthropic names.
LIST, TEXT, OBJECT, OTHER = "<list>", "<text>", "<object>", "<other>"
CHOICE_LABELS = frozenset({LIST, TEXT, OBJECT, OTHER})

_DATA: dict[str, Any] = json.loads(
    files("aiport.protocol").joinpath("anthropic_shapes.json").read_text()
)
_SPECS: dict[str, dict[str, Any]] = _DATA["shapes"]


def _merge(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return a if b is None else b
    names = sorted(set(a["shapes"]) | set(b["shapes"]))
    return {"shapes": names, "items": _merge(a["items"], b["items"])}


def _fields_of(names: tuple[str, ...]) -> dict[str, Any]:
    """The fields of one object that may be any of the SDK types `names`."""
    fields: dict[str, Any] = {}
    for name in names:
        for field, expr in _SPECS[name]["fields"].items():
            fields[field] = _merge(fields.get(field), expr)
    return fields


class _Schemas:
    """pydantic-core schemas for the SDK's shapes, inlined (the SDK's block types do not
    nest in themselves; should one ever, its inner copy is let through unjudged)."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, ...], CoreSchema] = {}
        self.building: set[tuple[str, ...]] = set()

    def of(self, expr: Any, *, blocks: bool = False) -> CoreSchema:
        """A value of `expr`: an object checked by its `type`, a list of such, or anything
        else as it is. `blocks`: the items are content blocks and must be objects."""
        if expr is None:
            return core_schema.any_schema()
        tags: dict[str | None, list[str]] = {}
        for name in expr["shapes"]:
            tags.setdefault(_SPECS[name]["tag"], []).append(name)
        untagged = tags.pop(None, None)
        choices: dict[str, CoreSchema] = {OTHER: core_schema.any_schema()}
        choices |= {tag: self._object(tuple(names)) for tag, names in tags.items() if tag}
        if untagged:
            choices[OBJECT] = self._object(tuple(untagged))
        elif blocks:
            choices[OBJECT] = core_schema.dict_schema()  # "Input should be a valid dictionary"
        if expr["items"] is not None:
            choices[LIST] = core_schema.list_schema(self.of(expr["items"], blocks=blocks))
        known = frozenset(tag for tag in tags if tag)
        return core_schema.tagged_union_schema(
            choices, discriminator=_choose(known, OBJECT in choices, LIST in choices)
        )

    def _object(self, names: tuple[str, ...]) -> CoreSchema:
        if names in self.building:
            return core_schema.any_schema()
        if names not in self.objects:
            self.building.add(names)
            fields = {
                name: core_schema.typed_dict_field(self.of(expr), required=False)
                for name, expr in _fields_of(names).items()
            }
            self.objects[names] = core_schema.typed_dict_schema(fields, extra_behavior="forbid")
            self.building.discard(names)
        return self.objects[names]


def _choose(tags: frozenset[str], objects: bool, lists: bool) -> Callable[[Any], str]:
    """Which choice checks a value: an object by its known `type`, an untyped object, a
    list; anything else (a block type the SDK does not know) as it is."""

    def choose(value: Any) -> str:
        kind = type(value)
        if kind is dict:
            tag = value.get("type")
            if type(tag) is str and tag in tags:
                return tag
            return OBJECT if objects and (tag is None or not tags) else OTHER
        if kind is list:
            return LIST if lists else OTHER
        return OBJECT if objects and tags else OTHER

    return choose


def _text_or(schema: CoreSchema, *, nullable: bool) -> CoreSchema:
    """A string, or `schema` (a list): anything else is "Input should be a valid list"."""

    def choose(value: Any) -> str:
        if type(value) is str:
            return TEXT
        return OTHER if value is None and nullable else LIST

    choices = {TEXT: core_schema.str_schema(strict=True), LIST: schema}
    if nullable:
        choices[OTHER] = core_schema.none_schema()
    return core_schema.tagged_union_schema(choices, discriminator=choose)


class SDKField:
    """`Annotated[Any, SDKField(...)]`: a field of a message or the request checked as the
    SDK defines it."""

    def __init__(self, expr: Any, *, content: bool = False, nullable: bool = False) -> None:
        self.expr, self.content, self.nullable = expr, content, nullable

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        schemas = _Schemas()
        if not self.content:
            return schemas.of(self.expr)
        blocks = core_schema.list_schema(schemas.of(self.expr["items"], blocks=True))
        return _text_or(blocks, nullable=self.nullable)


_MESSAGE = _fields_of(tuple(_DATA["roots"]["messages"]["items"]["shapes"]))
MESSAGE_FIELDS = frozenset(_MESSAGE)  # every field of a message, in any role
MESSAGE_CONTENT = SDKField(_MESSAGE["content"], content=True)
MESSAGE_OUTPUT_CONFIG = SDKField(_MESSAGE.get("output_config"))
SYSTEM = SDKField(_DATA["roots"]["system"], content=True, nullable=True)
