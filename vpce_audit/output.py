"""Writing report and snapshot files: a reader never sees half a file.

Where the text goes depends on what the path is (the rule the README documents):

* a new path or an existing regular file is replaced atomically: the text goes to a temporary
  file in the same directory, which is renamed over the target, so a reader sees the old file or
  the new one and never a mix; an interrupted write (an error, Ctrl-C, SIGTERM) removes the
  temporary file;
* a symbolic link is followed: its final target is replaced atomically and the link stays a link;
* anything else that exists — a character device such as ``/dev/null``, a FIFO, a socket — and
  every path under ``/dev/`` or ``/proc/`` (``/dev/stdout``, ``/dev/fd/3``) is opened and written
  in place: renaming over it would replace the device or the shell's redirect with a file;
* a directory, or a path written with a trailing slash, is an error.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

WRITE_IN_PLACE_ROOTS = ("/dev/", "/proc/")


class OutputError(Exception):
    """The output file cannot be written; the message is fit for the user."""


def output_path(text: str) -> Path:
    """A path given on the command line, checked before any work is done: a directory (a
    trailing slash, '.' or '..' as the last part, or an existing one), a missing parent
    directory or a missing device is refused now, not after a long collection."""
    if not text:
        raise OutputError("the output path is empty")
    if text.endswith(("/", os.sep)) or text.rsplit("/", 1)[-1] in (".", ".."):
        raise OutputError(f"cannot write {text}: it names a directory; give a file name")
    path = Path(text)
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a directory; give a file name")
    if str(path).startswith(WRITE_IN_PLACE_ROOTS):
        if not path.exists():
            raise OutputError(f"cannot write {path}: no such device or file")
    elif not (path.parent if str(path.parent) else Path(".")).is_dir():
        raise OutputError(f"cannot write {path}: directory {path.parent} does not exist")
    return path


def write_output(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` by the rule in the module docstring."""
    if str(path).startswith(WRITE_IN_PLACE_ROOTS):
        _write_in_place(path, text)
        return
    try:
        mode = path.stat().st_mode  # follows symbolic links
    except FileNotFoundError:
        mode = None
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise OutputError(f"cannot write {path}: it is a directory; give a file name")
    if mode is not None and not stat.S_ISREG(mode):
        _write_in_place(path, text)
        return
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    write_atomically(target, text)


def _write_in_place(path: Path, text: str) -> None:
    try:
        # No O_CREAT: a missing /dev/... is an error, not a new regular file there.
        descriptor = os.open(path, os.O_WRONLY | os.O_TRUNC)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None


def write_atomically(path: Path, text: str) -> None:
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise OutputError(f"cannot write {path}: directory {directory} does not exist")
    try:
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=directory
        )
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        # A replaced file keeps its permissions (a 0600 report stays private).
        os.chmod(temporary, _mode_of(path))
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
    except BaseException:
        # Interrupted mid-write: leave nothing behind.
        Path(temporary).unlink(missing_ok=True)
        raise


def _mode_of(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return 0o644
