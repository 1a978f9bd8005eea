"""Attacker-controlled text made safe for each place it is written.

Everything AWS returns can be written by someone who wants to attack the reader of a report:
a tag value, an endpoint policy's condition, a security group's description, an error message.
Each output has one function here, and its renderer passes every value it did not write itself
through it:

* ``visible`` — control, format (bidirectional overrides, zero-width, Unicode tag characters) and
  line-separator characters become ``\\u001b``-style escapes, so nothing AWS sent can move the
  cursor, retitle a window, hide text or reorder a line;
* ``terminal_text`` — a whole text report or stderr line: ``visible`` per line, and GitHub Actions
  workflow commands (``::error::…``, ``##[group]``) that wrapping or a value put at a line start
  neutralised, because the runner executes them from any line of a job's log;
* ``markdown`` — a table cell or inline text of the Markdown report: ``visible``, then every
  Markdown and HTML metacharacter backslash-escaped, so a value cannot end the table, start a
  heading, open an HTML comment that hides the rest, or render an image or a link (GFM's
  ``www.``, ``scheme:`` and e-mail autolinks are broken too, and ``@`` and ``#`` before a digit
  are set in code spans so that GitHub makes no mention or issue reference of them);
* ``uri_component`` — one segment of a SARIF artifact URI, percent-encoded (``..`` included).

* ``json_dumps`` — JSON and SARIF: ASCII only (every non-ASCII and control character is an
  escape), and ``##[`` written as ``#\u0023[``, which decodes to the same string; no line of
  indented JSON can begin with ``::``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any
from urllib.parse import quote

from vpce_audit.json_text import dumps_indented

# Cc control, Cf format (bidi, zero-width, tag characters), Zl / Zp separators, Cs surrogates,
# Co private use: none of them prints as itself.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co"})

# The runner reads `::name args::message` (after leading blanks) and `##[name]` as commands.
_WORKFLOW_COMMAND = re.compile(r"^(\s*)::(?=.*::)", re.MULTILINE)
_LOG_COMMAND = re.compile(r"##(?=\[|vso\[)")

# CommonMark lets any ASCII punctuation be backslash-escaped. These are the ones that start
# inline structure inside a table cell: emphasis, code, links and images (the brackets), raw
# HTML, entities, strikethrough, math, the cell's end, and the ':' and '.' that start GFM's
# scheme and www autolinks.
_MARKDOWN_SPECIAL = re.compile(
    r"[\\`*_\[\]<>|~&$]"
    r"|(?:(?<=[hH][tT][tT][pP])|(?<=[hH][tT][tT][pP][sS])|(?<=[fF][tT][pP])"
    r"|(?<=[mM][aA][iI][lL][tT][oO])|(?<=[xX][mM][pP][pP])):"
    r"|(?<=[wW][wW][wW])\."
)


_MENTION_OR_REFERENCE = re.compile(r"@|#(?=\d)")


def _escape(character: str) -> str:
    code = ord(character)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


# The ASCII characters of _HIDDEN_CATEGORIES: the C0 controls and DEL (all Cc).
_ASCII_HIDDEN = re.compile(r"[\x00-\x1f\x7f]")


def visible(text: str) -> str:
    """``text`` with every character that does not print as itself shown as an escape."""
    if text.isprintable():
        return text
    if text.isascii():  # a line break: no need to ask each character its category
        return _ASCII_HIDDEN.sub(lambda match: _escape(match.group()), text)
    return "".join(_escape(c) if unicodedata.category(c) in _HIDDEN_CATEGORIES else c for c in text)


def neutralise_commands(text: str, *, colon: str = "\\u003a", hash_: str = "\\u0023") -> str:
    """Workflow and log commands of GitHub Actions made inert (their first colon or hash shown
    escaped: as ``\\u003a`` / ``\\u0023``, or in HTML as a character reference that a browser
    shows as the character itself); line breaks are kept."""
    text = _WORKFLOW_COMMAND.sub(lambda m: m.group(1) + colon + ":", text)
    return _LOG_COMMAND.sub(lambda _: "#" + hash_, text)


def terminal_text(text: str) -> str:
    """A multi-line text for a terminal or a CI log: the line breaks are the caller's; anything
    else that does not print, and every workflow command, is made visible."""
    return neutralise_commands("\n".join(visible(line) for line in text.split("\n")))


def markdown(text: str) -> str:
    """Inline Markdown that renders exactly as ``text`` reads, on one line."""
    escaped = _MARKDOWN_SPECIAL.sub(lambda m: "\\" + m.group(0), visible(text))
    # cmark-gfm links e-mail-like text after escapes are resolved, and GitHub turns @name and
    # #123 into mentions and references; inside a code span none of that happens.
    return _MENTION_OR_REFERENCE.sub(lambda m: f"`{m.group(0)}`", escaped)


def uri_component(text: str) -> str:
    """One path segment of a URI: percent-encoded, never empty, never '.' or '..'."""
    encoded = quote(text, safe="")
    if encoded in ("", ".", ".."):
        return encoded.replace(".", "%2E") or "%20"
    return encoded


def json_dumps(value: Any, *, indent: int | None = 2) -> str:
    """JSON that decodes to exactly ``value`` and is inert in a terminal or a CI log."""
    text = (
        dumps_indented(value)
        if indent == 2
        else json.dumps(value, indent=indent, ensure_ascii=True)
    )
    return text.replace("##[", "#\\u0023[")
