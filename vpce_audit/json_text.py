"""Indented JSON, byte for byte as ``json.dumps(value, indent=2, ensure_ascii=True)`` writes it.

Python's json module encodes in C only without ``indent``; with it, a pure-Python generator
visits every value, and a report of 40,000 findings spent longer being written than its rules
took to run. This encoder builds the same text from C-encoded strings with one recursive pass.
Values it does not know (anything but dict with str keys, list, tuple, str, int, bool, None and
finite floats) go to ``json.dumps``, so the output never differs.

A ``Preformatted`` value writes its own text: a report's findings, tens of thousands of objects
of one shape, are faster written from a template than walked key by key.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from json.encoder import encode_basestring_ascii
from typing import Any

_INDENT = "  "


class _Unusual(Exception):
    """A value this encoder leaves to ``json.dumps``."""


class Preformatted:
    """A value that writes itself: ``write(newline)`` is exactly what this encoder would write
    for ``plain()`` on a line that starts with ``newline`` ("\\n" and the line's indentation).
    Its owner keeps that promise; tests compare the two. ``write`` raises TypeError for a
    value its template does not take, and ``plain()`` is made only then, or when
    ``json.dumps`` has to write the document for another reason."""

    __slots__ = ("plain", "write")

    def __init__(self, plain: Callable[[], Any], write: Callable[[str], str]) -> None:
        self.plain = plain
        self.write = write


def shared(value: Any) -> Preformatted:
    """``value``, written once per indentation however often a document (or several) holds
    it: an organisation's SARIF lists every rule's descriptor in each account's run. The value
    must not change while it is shared."""
    texts: dict[str, str] = {}

    def write(newline: str) -> str:
        text = texts.get(newline)
        if text is None:
            chunks: list[str] = []
            _encode(value, newline, chunks.append, {})  # _Unusual: json.dumps writes it all
            text = texts[newline] = "".join(chunks)
        return text

    return Preformatted(lambda: value, write)


def dumps_indented(value: Any) -> str:
    """``json.dumps(value, indent=2, ensure_ascii=True)``."""
    chunks: list[str] = []
    try:
        _encode(value, "\n", chunks.append, {})
    except (_Unusual, RecursionError):
        return json.dumps(value, indent=2, ensure_ascii=True, default=_plain)
    return "".join(chunks)


def _preformatted(value: Preformatted, newline: str) -> str:
    try:
        return value.write(newline)
    except TypeError:  # a value its template does not take (None for a str): json.dumps
        raise _Unusual from None


def _plain(value: Any) -> Any:
    if type(value) is Preformatted:
        return value.plain()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _encode(value: Any, newline: str, out: Any, keys: dict[str, str]) -> None:
    # ``newline`` is "\n" and the indentation of the line ``value`` starts on; ``out`` appends
    # a chunk; ``keys``: object keys already encoded (a report repeats a dozen keys per finding).
    kind = type(value)
    if kind is str:
        out(encode_basestring_ascii(value))
    elif kind is dict:
        if not value:
            out("{}")
            return
        inner = newline + _INDENT
        separator = "{" + inner
        following = "," + inner
        for key, item in value.items():
            if type(key) is not str:  # before the cache: a key equal to a str is not one
                raise _Unusual
            encoded = keys.get(key)
            if encoded is None:
                encoded = keys[key] = encode_basestring_ascii(key) + ": "
            if type(item) is str:  # most values: one chunk, no call
                out(separator + encoded + encode_basestring_ascii(item))
            else:
                out(separator + encoded)
                _encode(item, inner, out, keys)
            separator = following
        out(newline + "}")
    elif kind is list or kind is tuple:
        if not value:
            out("[]")
            return
        inner = newline + _INDENT
        separator = "[" + inner
        following = "," + inner
        for item in value:
            if type(item) is str:
                out(separator + encode_basestring_ascii(item))
            else:
                out(separator)
                _encode(item, inner, out, keys)
            separator = following
        out(newline + "]")
    elif value is None:
        out("null")
    elif value is True:
        out("true")
    elif value is False:
        out("false")
    elif kind is int:
        out(int.__repr__(value))
    elif kind is float and math.isfinite(value):
        out(float.__repr__(value))
    elif kind is Preformatted:
        out(_preformatted(value, newline))
    else:
        raise _Unusual
