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
# Values remembered as passing their checks, per annotation and process: at most this many, of
# at most REMEMBERED_LENGTH characters, so well under a megabyte each, whatever a file holds.
REMEMBERED_CHECKS = 10_000
REMEMBERED_LENGTH = 64


def worth_remembering(passed: set[Any], value: Any) -> bool:
    """Whether a value that passed its checks joins ``passed``: repeated values are short (ids,
    regions, CIDRs), and a long one kept for the life of the process would cost memory a decode
    without the memo would not."""
    return len(passed) < REMEMBERED_CHECKS and (
        not isinstance(value, str) or len(value) <= REMEMBERED_LENGTH
    )


def optional_parts(annotation: Any) -> tuple[Any, bool] | None:
    """(the type, whether None is allowed) of ``X | None`` (or a one-type union); None for an
    annotation that is not a union."""
    if typing.get_origin(annotation) not in (Union, types.UnionType):
        return None
    options = typing.get_args(annotation)
    non_null = [option for option in options if option is not type(None)]
    if len(non_null) != 1:  # pragma: no cover - the model has no such unions
        raise TypeError(f"unsupported union {annotation}")
    return non_null[0], type(None) in options


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
    """Plain JSON value -> instance of the dataclass ``cls``.

    First by the decoders ``vpce_audit.snapshot.compiled`` generates, which are faster and say
    nothing about a refusal; what they refuse is decoded again here, which says where and why
    (or, were they ever stricter than these, accepts it)."""
    from vpce_audit.snapshot import compiled

    try:
        return typing.cast(T, compiled.decoder(cls)(data))
    except compiled.Refused:
        pass
    try:
        return typing.cast(T, _decoder(typing.cast(Any, cls))(data))
    except _Invalid as error:
        raise DecodeError(path + "".join(reversed(error.segments)), error.problem) from None


Decoder = Callable[[Any], Any]


class _Invalid(Exception):
    """A value the model refuses. The path is built on the way out, one segment per container
    (``segments``, innermost first), so that decoding a valid file formats no path at all."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.segments: list[str] = []


@functools.cache
def _decoder(annotation: Any) -> Decoder:
    """The decoder of one annotation, built once: the type is inspected when the decoder is made,
    not for every value (a snapshot holds millions of values of a few dozen annotations)."""
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        return _dataclass_decoder(annotation)
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _checked_decoder(annotation)
    optional = optional_parts(annotation)
    if optional is not None:
        value, nullable = optional
        return _optional_decoder(_decoder(value), nullable=nullable)
    if origin is tuple:
        return _tuple_decoder(_decoder(typing.get_args(annotation)[0]))
    if annotation in _SCALAR_DECODERS:
        return _SCALAR_DECODERS[annotation]
    raise TypeError(f"unsupported annotation {annotation!r}")  # pragma: no cover


@functools.cache
def field_types(cls: type) -> dict[str, Any]:
    """The resolved annotations of a dataclass's fields, ``Annotated`` extras kept."""
    return typing.get_type_hints(cls, include_extras=True)


def _dataclass_decoder(cls: type) -> Decoder:
    hints = field_types(cls)
    fields = [f for f in dataclasses.fields(cls) if f.init]
    names = frozenset(f.name for f in fields)
    # Decoders are looked up when the first value is decoded, not now: a model may refer to a
    # class defined after it.
    plan: list[tuple[str, bool]] = [
        (
            f.name,
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
        )
        for f in fields
    ]
    field_decoders: tuple[tuple[str, bool, Decoder], ...] = ()

    def decode_object(data: Any) -> Any:
        if not isinstance(data, dict):
            raise _Invalid(f"expected an object for {cls.__name__}, got {_kind(data)}")
        if not names.issuperset(data):
            unknown = sorted(set(data) - names)
            raise _Invalid(f"unknown key(s) {_names(unknown)} for {cls.__name__}")
        nonlocal field_decoders
        if not field_decoders:
            field_decoders = tuple((name, req, _decoder(hints[name])) for name, req in plan)
        kwargs: dict[str, Any] = {}
        for name, required, decode_field in field_decoders:
            if name in data:
                try:
                    kwargs[name] = decode_field(data[name])
                except _Invalid as error:
                    error.segments.append(f".{name}")
                    raise
            elif required:
                raise _Invalid(f"missing required key {name!r} for {cls.__name__}")
        return cls(**kwargs)

    return decode_object


def _names(keys: list[str]) -> str:
    shown = ", ".join(_name(key) for key in keys[:SHOWN_UNKNOWN_KEYS])
    more = len(keys) - SHOWN_UNKNOWN_KEYS
    return shown + (f" and {more} more" if more > 0 else "")


def _name(key: str) -> str:
    # Plain names as they are (the existing messages), anything else quoted and cut.
    return key if key.isascii() and key.isidentifier() and len(key) <= 40 else brief(key, 30)


def _optional_decoder(decode_value: Decoder, *, nullable: bool) -> Decoder:
    def decode_optional(data: Any) -> Any:
        if data is None:
            if nullable:
                return None
            raise _Invalid("null is not allowed here")
        return decode_value(data)

    return decode_optional


def _tuple_decoder(decode_item: Decoder) -> Decoder:
    def decode_tuple(data: Any) -> Any:
        if not isinstance(data, list):
            raise _Invalid(f"expected an array, got {_kind(data)}")
        try:
            return tuple([decode_item(item) for item in data])
        except _Invalid:
            pass
        # Only on the way to an error: find the item, for the path.
        for index, item in enumerate(data):
            try:
                decode_item(item)
            except _Invalid as error:
                error.segments.append(f"[{index}]")
                raise error from None
        raise AssertionError("unreachable")  # pragma: no cover

    return decode_tuple


def _checked_decoder(annotation: Any) -> Decoder:
    base, *extras = typing.get_args(annotation)
    decode_base = _decoder(base)
    checks = [extra for extra in extras if isinstance(extra, Check)]
    # Values passed before: a snapshot repeats a few account ids, regions and route
    # destinations thousands of times. A check depends on the value alone, and a value here has
    # already passed decode_base, so it is a str or an int (bools are refused as ints).
    passed: set[Any] = set()

    def decode_checked(data: Any) -> Any:
        value = decode_base(data)
        if value in passed:
            return value
        for check in checks:
            if not check.accepts(value):
                raise _Invalid(f"{brief(value)} is not {check.what}")
        if worth_remembering(passed, value):
            passed.add(value)
        return value

    return decode_checked


def _decode_bool(data: Any) -> bool:
    if not isinstance(data, bool):
        raise _Invalid(f"expected true or false, got {_kind(data)}")
    return data


def _decode_int(data: Any) -> int:
    if isinstance(data, bool) or not isinstance(data, int):
        raise _Invalid(f"expected an integer, got {_kind(data)}")
    return data


def _decode_str(data: Any) -> str:
    if not isinstance(data, str):
        raise _Invalid(f"expected a string, got {_kind(data)}")
    return data


_SCALAR_DECODERS: dict[Any, Decoder] = {bool: _decode_bool, int: _decode_int, str: _decode_str}


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
