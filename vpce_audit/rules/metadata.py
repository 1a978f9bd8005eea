"""Rule metadata: one YAML file per rule in the top-level rules/ folder.

The folder ships inside the wheel as the package ``vpce_audit.rule_metadata`` and is read with
importlib.resources, so an installed vpce-audit never depends on the current directory.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from vpce_audit.findings import Severity

METADATA_PACKAGE = "vpce_audit.rule_metadata"
RULE_ID_PATTERN = re.compile(r"^[A-Z][A-Z0-9]*\d{3}$")


class MetadataError(Exception):
    """A rule's metadata is missing or malformed."""


@dataclass(frozen=True)
class Remediation:
    summary: str
    console: str = ""
    cli: str = ""
    terraform: str = ""


@dataclass(frozen=True)
class RuleMeta:
    rule_id: str
    name: str
    """kebab-case name, e.g. endpoint-policy-full-access."""
    title: str
    severity: Severity
    description: str
    rationale: str
    remediation: Remediation
    references: tuple[str, ...] = ()
    compliance: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    resource_type: str = ""
    """What a finding reports on: vpc-endpoint, vpc-endpoint-service, vpc, route-table, ..."""
    enabled_by_default: bool = True
    retired: str | None = None
    """Why the rule was retired; a retired id has no check and is never reused."""

    @property
    def pascal_name(self) -> str:
        return "".join(part.capitalize() for part in re.split(r"[-_ ]+", self.name) if part)


_REQUIRED = ("id", "name", "title", "severity", "description", "rationale", "remediation")
_OPTIONAL = ("references", "compliance", "tags", "resource_type", "enabled_by_default", "retired")


def parse_metadata(document: Any, source: str) -> RuleMeta:
    if not isinstance(document, dict):
        raise MetadataError(f"{source}: expected a mapping")
    missing = [key for key in _REQUIRED if key not in document]
    if missing:
        raise MetadataError(f"{source}: missing {', '.join(missing)}")
    unknown = sorted(set(document) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise MetadataError(f"{source}: unknown key(s) {', '.join(unknown)}")
    rule_id = str(document["id"])
    if not RULE_ID_PATTERN.match(rule_id):
        raise MetadataError(f"{source}: id {rule_id!r} is not of the form VPCE123")
    try:
        severity = Severity.parse(str(document["severity"]))
    except ValueError as error:
        raise MetadataError(f"{source}: {error}") from None
    remediation = document["remediation"]
    if isinstance(remediation, str):
        remediation = {"summary": remediation}
    if not isinstance(remediation, dict) or "summary" not in remediation:
        raise MetadataError(f"{source}: remediation needs a summary")
    extra = set(remediation) - {"summary", "console", "cli", "terraform"}
    if extra:
        raise MetadataError(f"{source}: unknown remediation key(s) {', '.join(sorted(extra))}")
    return RuleMeta(
        rule_id=rule_id,
        name=str(document["name"]),
        title=str(document["title"]),
        severity=severity,
        description=str(document["description"]).strip(),
        rationale=str(document["rationale"]).strip(),
        remediation=Remediation(**{k: str(v).strip() for k, v in remediation.items()}),
        references=tuple(str(ref) for ref in document.get("references") or ()),
        compliance=tuple(str(item) for item in document.get("compliance") or ()),
        tags=tuple(str(tag) for tag in document.get("tags") or ()),
        resource_type=str(document.get("resource_type", "")),
        enabled_by_default=bool(document.get("enabled_by_default", True)),
        retired=str(document["retired"]).strip() if document.get("retired") else None,
    )


def metadata_file_ids() -> tuple[str, ...]:
    """Ids of every metadata file shipped with vpce-audit."""
    folder = resources.files(METADATA_PACKAGE)
    return tuple(
        sorted(
            entry.name.removesuffix(".yaml")
            for entry in folder.iterdir()
            if entry.name.endswith(".yaml")
        )
    )


@functools.cache
def retired_metadata() -> tuple[RuleMeta, ...]:
    """Rules that were retired: their ids stay reserved and documented."""
    metas = (builtin_metadata(rule_id) for rule_id in metadata_file_ids())
    return tuple(meta for meta in metas if meta.retired)


@functools.cache
def builtin_metadata(rule_id: str) -> RuleMeta:
    resource = resources.files(METADATA_PACKAGE).joinpath(f"{rule_id}.yaml")
    if not resource.is_file():
        raise MetadataError(f"no metadata file rules/{rule_id}.yaml")
    source = f"rules/{rule_id}.yaml"
    try:
        document = yaml.safe_load(resource.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise MetadataError(f"{source}: invalid YAML: {error}") from None
    meta = parse_metadata(document, source)
    if meta.rule_id != rule_id:
        raise MetadataError(f"{source}: id {meta.rule_id} does not match the file name")
    return meta
