"""Where a scan's reports go, from ``--format``, ``-o`` / ``--output`` and ``--output-dir``.

* ``--format F -o FILE`` (or stdout): one report, as before;
* ``--output FORMAT=FILE`` (repeatable; ``-`` is stdout): one report per format in one scan, e.g.
  ``--output sarif=scan.sarif --output json=scan.json --output table=-``. Given only these, no
  other report is written; with ``--format`` too, that format goes to stdout (or ``-o FILE``);
* ``--output-dir DIR``: the SARIF as ``DIR/vpce-audit-<n>.sarif``, one file per 19 accounts
  (GitHub takes 20 runs per file, one of them the status run). Files of that name left in DIR by
  an earlier scan are removed, so a directory upload never sends a stale file.

Nothing is chosen silently: a format named twice, two reports on stdout, one file for two
reports, or several plain ``-o`` files are errors before any work is done.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from vpce_audit.output import OutputError, output_path

SARIF_FILE_PREFIX = "vpce-audit-"
SARIF_FILE_SUFFIX = ".sarif"


class TargetError(Exception):
    """The report options contradict each other; the message is fit for the user."""


@dataclass(frozen=True)
class Target:
    format: str
    path: Path | None
    """None: stdout."""


def parse_targets(
    format_option: str | None,
    outputs: Sequence[str],
    formats: Iterable[str],
    default_format: str = "table",
) -> list[Target]:
    known = set(formats)
    named: list[Target] = []
    plain: list[str] = []
    for value in outputs:
        kind, separator, rest = value.partition("=")
        if separator and kind in known:
            named.append(Target(kind, _path(rest)))
        else:
            plain.append(value)
    if len(plain) > 1:
        raise TargetError(
            f"-o / --output names {len(plain)} files ({', '.join(plain[:3])}); give one, or "
            "FORMAT=FILE for each report (--output json=scan.json --output sarif=scan.sarif)"
        )
    targets = list(named)
    if format_option is not None or plain or not named:
        targets.insert(
            0, Target(format_option or default_format, _path(plain[0]) if plain else None)
        )
    _refuse_repeats(targets)
    return targets


def _path(text: str) -> Path | None:
    if text == "-":
        return None
    try:
        return output_path(text)
    except OutputError as error:
        raise TargetError(str(error)) from None


def _refuse_repeats(targets: list[Target]) -> None:
    formats = [t.format for t in targets]
    for fmt in formats:
        if formats.count(fmt) > 1:
            raise TargetError(f"the {fmt} report is asked for twice; name each format once")
    if sum(t.path is None for t in targets) > 1:
        shown = " and ".join(t.format for t in targets if t.path is None)
        raise TargetError(f"the {shown} reports would both go to stdout; give one of them a file")
    paths = [t.path.resolve() for t in targets if t.path is not None]
    for path in paths:
        if paths.count(path) > 1:
            raise TargetError(f"{path} is named for two reports; give each its own file")


def sarif_directory(text: str) -> Path:
    """``--output-dir``: an existing directory, or one whose parent exists (it is created)."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise TargetError(f"--output-dir {path}: it exists and is not a directory")
    if not path.exists() and not (path.parent if str(path.parent) else Path(".")).is_dir():
        raise TargetError(f"--output-dir {path}: directory {path.parent} does not exist")
    return path


def sarif_file_names(count: int) -> list[str]:
    return [f"{SARIF_FILE_PREFIX}{number}{SARIF_FILE_SUFFIX}" for number in range(1, count + 1)]


def stale_sarif_files(directory: Path, keep: Iterable[str]) -> list[Path]:
    """Files an earlier scan wrote to ``directory`` that this one does not."""
    kept = set(keep)
    if not directory.is_dir():
        return []
    return sorted(
        path
        for path in directory.glob(f"{SARIF_FILE_PREFIX}*{SARIF_FILE_SUFFIX}")
        if path.name not in kept
        and path.name[len(SARIF_FILE_PREFIX) : -len(SARIF_FILE_SUFFIX)].isdigit()
    )
