"""Straight-line decoders, generated per dataclass: the fast path of ``codec.decode``.

The generic decoders of ``codec`` walk each dataclass's fields in a loop, call a function per
value and keep track of where they are, so that a refusal names its path. A snapshot holds
hundreds of thousands of objects, and that bookkeeping was most of the time spent turning a
parsed file into the model. Here each dataclass gets one function whose source is written out
once (the way ``dataclasses`` writes ``__init__``): scalar fields are checked inline, the others
call the decoder of their annotation.

They accept exactly what the generic decoders accept and build the same objects; they say
nothing about why a value is refused. Anything they refuse raises ``Refused``, and
``codec.decode`` decodes the whole document again with the generic decoders, which either
refuse it with the path and the reason or (were this fast path ever stricter) accept it.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections.abc import Callable
from typing import Annotated, Any

from vpce_audit.snapshot.codec import Check, field_types, optional_parts, worth_remembering

Decoder = Callable[[Any], Any]


class Refused(Exception):
    """A value the fast path does not accept; the generic decoders say why."""


_SCALARS: dict[Any, type] = {str: str, int: int, bool: bool}
"""JSON gives exactly these classes, so ``value.__class__ is str`` is ``isinstance`` here, and
an int is never a bool (codec refuses a bool where an int is wanted)."""
_MISSING = object()


def decoder(annotation: Any) -> Decoder:
    """The fast decoder of ``annotation``."""
    return _decoder(annotation)


@functools.cache
def _decoder(annotation: Any) -> Decoder:
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        return _dataclass_decoder(annotation)
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _checked(annotation)
    optional = optional_parts(annotation)
    if optional is not None:
        value, nullable = optional
        inner = _decoder(value)
        if not nullable:
            return inner
        return lambda data: None if data is None else inner(data)
    if origin is tuple:
        return _tuple(typing.get_args(annotation)[0])
    if annotation in _SCALARS:
        kind = _SCALARS[annotation]

        def scalar(data: Any) -> Any:
            if data.__class__ is not kind:
                raise Refused
            return data

        return scalar
    raise TypeError(f"unsupported annotation {annotation!r}")  # pragma: no cover


def _tuple(item: Any) -> Decoder:
    if item in _SCALARS:
        kind = _SCALARS[item]

        def scalars(data: Any) -> Any:
            if data.__class__ is not list:
                raise Refused
            for value in data:
                if value.__class__ is not kind:
                    raise Refused
            return tuple(data)

        return scalars
    decode_item = _decoder(item)

    def items(data: Any) -> Any:
        if data.__class__ is not list:
            raise Refused
        return tuple([decode_item(value) for value in data])

    return items


def _checked(annotation: Any) -> Decoder:
    base, *extras = typing.get_args(annotation)
    decode_base = _decoder(base)
    checks = tuple(extra.accepts for extra in extras if isinstance(extra, Check))
    passed: set[Any] = set()

    def checked(data: Any) -> Any:
        value = decode_base(data)
        if value in passed:
            return value
        for accepts in checks:
            if not accepts(value):
                raise Refused
        if worth_remembering(passed, value):
            passed.add(value)
        return value

    return checked


def _dataclass_decoder(cls: type) -> Decoder:
    hints = field_types(cls)
    fields = [f for f in dataclasses.fields(cls) if f.init]
    namespace: dict[str, Any] = {
        "Refused": Refused,
        "MISSING": _MISSING,
        "CLS": cls,
        "NAMES": frozenset(f.name for f in fields),
    }
    lines = [
        "def decode(data):",
        "    if data.__class__ is not dict or not NAMES.issuperset(data):",
        "        raise Refused",
    ]
    arguments = []
    for index, f in enumerate(fields):
        value = f"a{index}"
        arguments.append(f"{f.name}={value}")
        lines.append(f"    v = data.get({f.name!r}, MISSING)")
        lines.append("    if v is MISSING:")
        if f.default is not dataclasses.MISSING:
            namespace[f"DEFAULT{index}"] = f.default
            lines.append(f"        {value} = DEFAULT{index}")
        elif f.default_factory is not dataclasses.MISSING:
            namespace[f"FACTORY{index}"] = f.default_factory
            lines.append(f"        {value} = FACTORY{index}()")
        else:
            lines.append("        raise Refused")
        lines.append("    else:")
        annotation = hints[f.name]
        scalar, nullable = _inline(annotation)
        if scalar is not None:
            namespace[f"KIND{index}"] = scalar
            test = f"v.__class__ is not KIND{index}"
            if nullable:
                test = f"v is not None and {test}"
            lines.append(f"        if {test}:")
            lines.append("            raise Refused")
            lines.append(f"        {value} = v")
        else:
            namespace[f"DECODE{index}"] = _decoder(annotation)
            lines.append(f"        {value} = DECODE{index}(v)")
    if _plain_init(cls):
        # What the generated __init__ of a frozen dataclass does (object.__setattr__ per field,
        # in order, which keeps the instance dictionaries' shared keys), without calling it.
        namespace["NEW"] = object.__new__
        namespace["SET"] = object.__setattr__
        lines.append("    made = NEW(CLS)")
        lines.extend(f"    SET(made, {f.name!r}, a{index})" for index, f in enumerate(fields))
        lines.append("    return made")
    else:
        lines.append(f"    return CLS({', '.join(arguments)})")
    # The source is written above from field names and indexes only, as dataclasses does.
    exec("\n".join(lines), namespace)
    return typing.cast(Decoder, namespace["decode"])


def _plain_init(cls: type) -> bool:
    """Whether an instance is fully made by setting its fields: the dataclass's own generated
    ``__init__`` (InitVar pseudo-fields would make it take more), no ``__post_init__`` to run,
    no slots."""
    params = getattr(cls, "__dataclass_params__", None)
    init = cls.__dict__.get("__init__")
    code = getattr(init, "__code__", None)
    # dataclasses writes __init__ from source it execs (a file name like "<string>"); one
    # written in the class body has the same qualified name but a real file.
    own_init = (
        getattr(init, "__qualname__", "") == f"{cls.__qualname__}.__init__"
        and code is not None
        and code.co_filename.startswith("<")
    )
    return (
        params is not None
        and bool(params.init)
        and own_init
        and "__new__" not in vars(cls)
        and all("__new__" not in vars(base) for base in cls.__mro__[1:-1])
        and not hasattr(cls, "__post_init__")
        and not hasattr(cls, "__slots__")
        and all(f.init for f in dataclasses.fields(cls))
        and not any(
            isinstance(value, dataclasses.InitVar) or value is dataclasses.InitVar
            for value in field_types(cls).values()
        )
    )


def _inline(annotation: Any) -> tuple[type | None, bool]:
    """(the scalar class to check inline, whether None is allowed too), or (None, False) when
    the field needs its annotation's decoder."""
    if annotation in _SCALARS:
        return _SCALARS[annotation], False
    optional = optional_parts(annotation)
    if optional is not None and optional[0] in _SCALARS:
        return _SCALARS[optional[0]], optional[1]
    return None, False
