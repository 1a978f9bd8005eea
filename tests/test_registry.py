"""The registry and the rule metadata agree, and rule code stays pure."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

import vpce_audit
from vpce_audit.data import parse_shipped_yaml
from vpce_audit.report.rule_docs import render_rules_document
from vpce_audit.rules.metadata import (
    RULE_ID_PATTERN,
    builtin_metadata,
    metadata_file_ids,
    retired_metadata,
)
from vpce_audit.rules.registry import RULE_ERROR_ID, load_registry

PACKAGE = Path(vpce_audit.__file__).parent
ROOT = Path(__file__).resolve().parent.parent
PURE_PACKAGES = ("rules", "analysis", "snapshot", "report")
PURE_MODULES = ("model.py", "findings.py", "scan.py")


def test_every_rule_has_metadata_and_every_metadata_file_has_a_rule() -> None:
    registered = set(load_registry(include_plugins=False).ids)
    retired = {meta.rule_id for meta in retired_metadata()}
    assert retired == {"VPCE205"}
    assert set(metadata_file_ids()) == registered | {RULE_ERROR_ID} | retired
    assert not registered & retired


def test_a_retired_id_cannot_be_reused_by_a_plugin() -> None:
    import pytest

    from vpce_audit.rules.base import Rule
    from vpce_audit.rules.registry import RegistryError, RuleRegistry

    reused = Rule(meta=builtin_metadata("VPCE205"), check=lambda ctx: (), requires=frozenset())
    with pytest.raises(RegistryError, match="retired"):
        RuleRegistry((reused,))


def test_every_active_rule_cites_aws_documentation() -> None:
    """Each rule's premise rests on an AWS page (rules v2: decide as AWS documents)."""
    for rule in load_registry(include_plugins=False):
        assert any(
            ref.startswith("https://docs.aws.amazon.com/") for ref in rule.meta.references
        ), rule.rule_id


def test_rule_function_names_match_their_metadata_names() -> None:
    for rule in load_registry(include_plugins=False):
        assert rule.check.__name__ == rule.meta.name.replace("-", "_"), rule.rule_id


def test_metadata_is_complete() -> None:
    for rule in load_registry(include_plugins=False):
        meta = rule.meta
        assert RULE_ID_PATTERN.match(meta.rule_id)
        assert meta.resource_type, meta.rule_id
        remediation = meta.remediation
        assert remediation.summary and remediation.console, meta.rule_id
        assert remediation.cli and remediation.terraform, meta.rule_id
        assert meta.references and all(r.startswith("https://") for r in meta.references)
        assert len(meta.title) <= 120


def test_metadata_files_parse_as_yaml_with_matching_ids() -> None:
    for rule_id in metadata_file_ids():
        path = ROOT / "rules" / f"{rule_id}.yaml"
        assert yaml.safe_load(path.read_text())["id"] == rule_id
        assert builtin_metadata(rule_id).rule_id == rule_id


def test_shipped_yaml_reads_the_same_through_libyaml_as_through_pure_python() -> None:
    """The shipped files are parsed by libyaml for speed (vpce_audit.data.parse_shipped_yaml);
    the meaning must be PyYAML's own safe loader's, value for value."""
    if not yaml.__with_libyaml__:
        pytest.skip("PyYAML was built without libyaml: both sides are the pure-Python loader")
    shipped = sorted((ROOT / "rules").glob("*.yaml")) + sorted((PACKAGE / "data").glob("*.yaml"))
    assert len(shipped) > 30
    for path in shipped:
        text = path.read_text(encoding="utf-8")
        # repr tells True from 1 and 1.0 from 1, which == does not.
        assert repr(parse_shipped_yaml(text)) == repr(yaml.safe_load(text)), path.name


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_rules_and_everything_after_collection_never_import_boto3() -> None:
    files = [p for pkg in PURE_PACKAGES for p in (PACKAGE / pkg).rglob("*.py")]
    files += [PACKAGE / name for name in PURE_MODULES]
    assert len(files) > 10
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(_imports(path) & {"boto3", "botocore", "moto"})
        for path in files
        if _imports(path) & {"boto3", "botocore", "moto"}
    }
    assert offenders == {}


def test_docs_rules_md_is_generated_from_the_registry() -> None:
    metas = [rule.meta for rule in load_registry(include_plugins=False)]
    metas.append(builtin_metadata(RULE_ERROR_ID))
    metas += retired_metadata()
    expected = render_rules_document(metas)
    actual = (ROOT / "docs" / "rules.md").read_text()
    assert actual == expected, (
        "docs/rules.md is stale: run `python -m vpce_audit.report.rule_docs > docs/rules.md`"
    )
