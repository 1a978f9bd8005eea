"""The wheel ships every package and the rule metadata (a `pip install .` outside the checkout)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")


def test_every_package_on_disk_is_listed_for_the_wheel() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "vpce_audit").rglob("__init__.py")
    }
    assert on_disk <= listed
    assert config["package-dir"]["vpce_audit.rule_metadata"] == "rules"
    assert "vpce_audit.rule_metadata" in listed
    assert config["package-data"]["vpce_audit.rule_metadata"] == ["*.yaml"]
