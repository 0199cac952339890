"""Pieces shared by the request models."""

from __future__ import annotations

import types
from functools import cache
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, TypeAdapter, ValidationInfo


class WireModel(BaseModel):
    """A request body: unknown fields are ignored, known ones are checked."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    @classmethod
    def forwardable(cls, body: dict[str, Any]) -> dict[str, Any]:
        """The fields of `body` that the spec defines for this operation, as sent."""
        names = _wire_names(cls)
        if names.issuperset(body):  # the usual case, checked and copied at C speed
            return dict(body)
        return {k: v for k, v in body.items() if k in names}

    @classmethod
    def wire_names(cls) -> frozenset[str]:
        """The field names this operation defines, as they appear on the wire."""
        return _wire_names(cls)


def needed_by_functions(message: str) -> Any:
    """A field validator (`field_validator(name)(needed_by_functions(...))`): the field may
    be left out, except by an item whose `type` is `function` (a tool, a tool call)."""

    def check(cls: type, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.data.get("type") == "function":
            raise ValueError(message)
        return value

    return classmethod(check)


def checked_as(shape: Any) -> AfterValidator:
    """A validator that checks a value against `shape` (models that allow extra keys) and
    keeps it as sent: what aiport reads is checked, the rest passes through untouched."""
    adapter: TypeAdapter[Any] = TypeAdapter(shape)

    def check(value: Any) -> Any:
        adapter.validate_python(value, strict=True)
        return value

    return AfterValidator(check)


@cache
def _wire_names(model: type[BaseModel]) -> frozenset[str]:
    """Field names as they appear on the wire: the names and their aliases."""
    names = set(model.model_fields)
    names.update(f.alias for f in model.model_fields.values() if f.alias)
    return frozenset(names)


def without_null_defaults(model: type[BaseModel], body: dict[str, Any]) -> dict[str, Any]:
    """`body` without the nulls that mean a default: `null` for an optional field is its
    default, as at OpenAI (the SDKs send an option passed as None as null)."""
    defaulted = _defaulted_when_null(model)
    return {k: v for k, v in body.items() if v is not None or k not in defaulted}


@cache
def _defaulted_when_null(model: type[BaseModel]) -> frozenset[str]:
    """Wire names of the optional fields whose type has no None (null means the default)."""
    names: set[str] = set()
    for name, field in model.model_fields.items():
        if not field.is_required() and not _takes_none(field.annotation):
            names.update(n for n in (name, field.alias) if n)
    return frozenset(names)


def _takes_none(annotation: Any) -> bool:
    if annotation is Any or annotation is None or annotation is type(None):
        return True
    origin = get_origin(annotation)
    if origin is Annotated:
        return _takes_none(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return any(_takes_none(member) for member in get_args(annotation))
    return False
