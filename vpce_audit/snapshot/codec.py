"""Strict conversion between the model's frozen dataclasses and JSON-ready values.

One generic codec instead of a hand-written ``to_dict`` / ``from_dict`` per class: the
dataclass definitions in ``vpce_audit.model`` are the schema. Decoding is strict (unknown keys,
missing required keys and wrong types are errors naming the JSON path), because a snapshot that
silently drops a field would let a rule report "clean" on data it never saw. A field annotated
``Annotated[str, Check(...)]`` must also pass the check (a CIDR, an account id...): the type alone
would let a value through that rules then cannot read, or misread as "nothing to report".
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
from typing import Annotated, Any, TypeVar, Union

from vpce_audit.text import brief

T = TypeVar("T")
# An object with thousands of unknown keys must not make a message of thousands of names.
SHOWN_UNKNOWN_KEYS = 3


@dataclasses.dataclass(frozen=True)
class Check:
    """A constraint beyond the type, declared on a field as ``Annotated[str, Check(...)]``."""

    accepts: Callable[[Any], bool]
    what: str
    """What an accepted value is, for the message: "an IPv4 CIDR"."""


class DecodeError(ValueError):
    """The JSON does not match the model; ``path`` says where."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


def encode(value: Any) -> Any:
    """Dataclass -> plain dicts / lists / scalars, fields in declaration order."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [encode(item) for item in value]
    return value


def decode(cls: type[T], data: Any, path: str = "$") -> T:
    """Plain JSON value -> instance of the dataclass ``cls``."""
    return typing.cast(T, _decode_value(cls, data, path))


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, include_extras=True)


def _decode_dataclass(cls: type, data: Any, path: str) -> Any:
    if not isinstance(data, dict):
        raise DecodeError(path, f"expected an object for {cls.__name__}, got {_kind(data)}")
    hints = _field_types(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise DecodeError(path, f"unknown key(s) {_names(unknown)} for {cls.__name__}")
    kwargs: dict[str, Any] = {}
    for name, fld in fields.items():
        if name not in data:
            has_default = (
                fld.default is not dataclasses.MISSING
                or fld.default_factory is not dataclasses.MISSING
            )
            if not has_default:
                raise DecodeError(path, f"missing required key {name!r} for {cls.__name__}")
            continue
        kwargs[name] = _decode_value(hints[name], data[name], f"{path}.{name}")
    return cls(**kwargs)


def _names(keys: list[str]) -> str:
    shown = ", ".join(_name(key) for key in keys[:SHOWN_UNKNOWN_KEYS])
    more = len(keys) - SHOWN_UNKNOWN_KEYS
    return shown + (f" and {more} more" if more > 0 else "")


def _name(key: str) -> str:
    # Plain names as they are (the existing messages), anything else quoted and cut.
    return key if key.isascii() and key.isidentifier() and len(key) <= 40 else brief(key, 30)


def _decode_value(annotation: Any, data: Any, path: str) -> Any:
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        return _decode_dataclass(annotation, data, path)
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _decode_checked(annotation, data, path)
    if origin in (Union, types.UnionType):
        options = typing.get_args(annotation)
        if data is None:
            if type(None) in options:
                return None
            raise DecodeError(path, "null is not allowed here")
        non_null = [option for option in options if option is not type(None)]
        if len(non_null) != 1:  # pragma: no cover - the model has no such unions
            raise TypeError(f"unsupported union {annotation}")
        return _decode_value(non_null[0], data, path)
    if origin is tuple:
        if not isinstance(data, list):
            raise DecodeError(path, f"expected an array, got {_kind(data)}")
        item_type = typing.get_args(annotation)[0]
        return tuple(_decode_value(item_type, item, f"{path}[{i}]") for i, item in enumerate(data))
    if annotation is bool:
        if not isinstance(data, bool):
            raise DecodeError(path, f"expected true or false, got {_kind(data)}")
        return data
    if annotation is int:
        if isinstance(data, bool) or not isinstance(data, int):
            raise DecodeError(path, f"expected an integer, got {_kind(data)}")
        return data
    if annotation is str:
        if not isinstance(data, str):
            raise DecodeError(path, f"expected a string, got {_kind(data)}")
        return data
    raise TypeError(f"unsupported annotation {annotation!r} at {path}")  # pragma: no cover


def _decode_checked(annotation: Any, data: Any, path: str) -> Any:
    base, *checks = typing.get_args(annotation)
    value = _decode_value(base, data, path)
    for check in checks:
        if isinstance(check, Check) and not check.accepts(value):
            raise DecodeError(path, f"{brief(value)} is not {check.what}")
    return value


def _kind(data: Any) -> str:
    if data is None:
        return "null"
    return {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }.get(type(data), type(data).__name__)
