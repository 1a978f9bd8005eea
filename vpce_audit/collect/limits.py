"""The open-files limit a collection needs: every call in flight holds a connection, one file
descriptor each.

A process starts with a soft limit that may be far below that (256 on macOS, 1024 on most Linux
distributions) and a hard limit it may raise the soft one to. Past the soft limit, connections
fail with "Too many open files", which would be recorded as collection errors of whatever
scopes were unlucky. So a collection raises its soft limit to what its workers may need, and
says so when the hard limit does not allow it.
"""

from __future__ import annotations

SPARE = 64
"""Descriptors beyond the connections: the interpreter, its libraries, the report files."""
OPEN_MAX = 10240
"""macOS's most open files per process (sys/syslimits.h), whatever the hard limit says."""


def open_files_needed(calls_in_flight: int) -> int:
    return calls_in_flight + SPARE


def open_files_limit() -> int | None:
    """This process's soft limit on open files; None where there is none."""
    try:
        import resource
    except ImportError:
        return None
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else int(soft)


def ensure_open_files(needed: int) -> int | None:
    """Raise this process's soft limit on open files to ``needed`` where it is lower; returns
    the limit it stays at when the hard limit (or the platform) does not allow ``needed``, else
    None."""
    try:
        import resource
    except ImportError:  # Windows: no such limit on sockets
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return None
    target = needed if hard == resource.RLIM_INFINITY else min(hard, needed)
    # macOS reports an infinite hard limit but refuses a soft one above its per-process
    # maximum (OPEN_MAX, 10240): that is tried next.
    for limit in dict.fromkeys((target, min(target, OPEN_MAX))):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
        except (ValueError, OSError):
            continue
        return None if limit >= needed else limit
    return soft
