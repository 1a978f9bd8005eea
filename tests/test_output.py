"""Where reports and snapshots are written: atomic for files, in place for devices and FIFOs."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from vpce_audit import output
from vpce_audit.output import OutputError, output_path, write_output


def test_a_regular_file_is_replaced_atomically(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old")
    inode = target.stat().st_ino
    write_output(target, "new")
    assert target.read_text() == "new"
    assert target.stat().st_ino != inode  # renamed over, not rewritten
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_dev_null_stays_a_device(tmp_path: Path) -> None:
    write_output(Path(os.devnull), "discarded")
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_a_fifo_is_written_through(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    write_output(fifo, "through the pipe")
    reader.join(timeout=10)
    assert received == ["through the pipe"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_symlink_is_followed_and_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_output(link, "new")
    assert link.is_symlink()
    assert real.read_text() == "new"


@pytest.mark.parametrize("name", ["out/", "existing"])
def test_a_directory_is_refused(tmp_path: Path, name: str) -> None:
    (tmp_path / "existing").mkdir()
    with pytest.raises(OutputError, match="directory"):
        write_output(output_path(f"{tmp_path}/{name}"), "text")


def test_an_interrupted_write_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(output.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_output(tmp_path / "report.json", "text")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["newdir/.", "missing/report.json", "existing"])
def test_unusable_paths_are_refused_before_any_work(tmp_path: Path, name: str) -> None:
    (tmp_path / "existing").mkdir()
    with pytest.raises(OutputError, match="directory"):
        output_path(f"{tmp_path}/{name}")


def test_a_missing_device_is_not_created() -> None:
    with pytest.raises(OutputError, match="no such device"):
        output_path("/dev/vpce-audit-no-such-device")


def test_a_replaced_file_keeps_its_permissions(tmp_path: Path) -> None:
    target = tmp_path / "private.json"
    target.write_text("old")
    target.chmod(0o600)
    write_output(target, "new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
