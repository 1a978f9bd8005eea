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


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    readme = (ROOT / "README.md").read_text()
    quickstart = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = [
        block.split("\n", 1)[1].strip() for block in quickstart.split("```sh")[1:] if block.strip()
    ]
    commands = [c.split("```", 1)[0].strip() for c in commands]
    assert len(commands) == 2, "the quickstart has exactly two commands"
    demo, tests = commands
    assert "scan --demo" in demo and "pytest" in tests
    ci_lines = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci_lines[-1] == tests


def test_the_licence_pyproject_claims_ships_with_the_package() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0"  # an SPDX expression
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    # PEP 639: no licence classifier beside an SPDX expression.
    assert not [c for c in project["classifiers"] if c.startswith("License ::")]
    floor = tuple(int(part) for part in project["requires-python"].lstrip(">=").split("."))
    versions = {c.rsplit(" ", 1)[-1] for c in project["classifiers"] if "Python :: 3." in c}
    assert f"{floor[0]}.{floor[1]}" in versions and "3.13" in versions
    assert {"Homepage", "Documentation", "Source", "Issues"} <= set(project["urls"])


def test_the_sdist_holds_what_its_tests_need() -> None:
    manifest = (ROOT / "MANIFEST.in").read_text().split()
    needed = {"tests", "fixtures", "rules", "docs", "examples", "benchmarks"}
    grafted = {manifest[i + 1] for i, word in enumerate(manifest) if word == "graft"}
    assert needed <= grafted
    # Every file the tests open outside the package lives in one of those directories.
    for path in (ROOT / "tests").rglob("*.py"):
        for name in ("fixtures/", "examples/", "docs/", "benchmarks/", "rules/"):
            if f'"{name}' in path.read_text() or f"'{name}" in path.read_text():
                assert name.rstrip("/") in grafted, (path, name)
