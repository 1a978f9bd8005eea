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

from vpce_audit.data import parse_shipped_yaml
from vpce_audit.findings import Severity

METADATA_PACKAGE = "vpce_audit.rule_metadata"
RULE_ID_PATTERN = re.compile(r"^[A-Z][A-Z0-9]*\d{3}$")

# Compliance frameworks a rule may map to (command-line names), each with the shape of its
# control ids. CIS and PCI DSS ids carry the benchmark / standard version as Security Hub writes
# them ("v1.4.0/3.9", "v4.0.1/1.3.1"): their numbering changes between versions.
COMPLIANCE_CONTROL_PATTERNS: dict[str, re.Pattern[str]] = {
    "fsbp": re.compile(r"^[A-Za-z0-9]+\.\d+$"),
    "nist-800-53": re.compile(r"^[A-Z]{2}-\d+(\(\d+\))?$"),
    "cis-aws": re.compile(r"^v\d+\.\d+\.\d+/\d+(\.\d+)*$"),
    "pci-dss": re.compile(r"^v4\.0(\.1)?/\d+(\.\d+)*$"),
}
_COMPLIANCE_KEYS = {"framework", "control", "source", "quote", "profile", "services"}
_COMPLIANCE_PROFILES = ("fsbp",)


class MetadataError(Exception):
    """A rule's metadata is missing or malformed."""


@dataclass(frozen=True)
class Remediation:
    summary: str
    console: str = ""
    cli: str = ""
    terraform: str = ""


@dataclass(frozen=True)
class ComplianceMapping:
    """One control of one framework that a rule checks, with the source that says so."""

    framework: str
    """A key of COMPLIANCE_CONTROL_PATTERNS: fsbp, nist-800-53, cis-aws, pci-dss."""
    control: str
    """The framework's id: EC2.10, SC-7, AC-4(21), v1.4.0/3.9, ..."""
    source: str
    """The https page that states the mapping (Security Hub's control page for FSBP and the
    frameworks Security Hub relates its controls to)."""
    quote: str
    """The wording of the source the mapping relies on."""
    profile: str | None = None
    """Set when the rule checks the control exactly only with this profile (``profile: fsbp``);
    with another profile a finding still fails the control but a clean run does not pass it."""
    services: tuple[str, ...] = ()
    """VPCE601 only: the endpoint services the control requires; a finding counts against the
    control only when it names one of them as missing."""

    @property
    def label(self) -> str:
        """``framework:control``, e.g. fsbp:EC2.10: the tag form for JSON and SARIF."""
        return f"{self.framework}:{self.control}"


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
    """Display form of the FSBP mappings ("AWS FSBP EC2.10"), the text report.rule_docs renders
    today; kept so that docs and reports do not change until they render compliance_mappings."""
    compliance_mappings: tuple[ComplianceMapping, ...] = ()
    """Every control the rule maps to, each with its source (see vpce_audit.compliance)."""
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
    mappings = _parse_compliance(document.get("compliance"), source)
    return RuleMeta(
        rule_id=rule_id,
        name=str(document["name"]),
        title=str(document["title"]),
        severity=severity,
        description=str(document["description"]).strip(),
        rationale=str(document["rationale"]).strip(),
        remediation=Remediation(**{k: str(v).strip() for k, v in remediation.items()}),
        references=tuple(str(ref) for ref in document.get("references") or ()),
        compliance=tuple(f"AWS FSBP {m.control}" for m in mappings if m.framework == "fsbp"),
        compliance_mappings=mappings,
        tags=tuple(str(tag) for tag in document.get("tags") or ()),
        resource_type=str(document.get("resource_type", "")),
        enabled_by_default=bool(document.get("enabled_by_default", True)),
        retired=str(document["retired"]).strip() if document.get("retired") else None,
    )


def _parse_compliance(value: Any, source: str) -> tuple[ComplianceMapping, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise MetadataError(f"{source}: compliance must be a list of mappings")
    mappings: list[ComplianceMapping] = []
    for index, entry in enumerate(value):
        where = f"{source}: compliance[{index}]"
        if not isinstance(entry, dict):
            raise MetadataError(f"{where}: expected a mapping with framework, control, source")
        unknown = sorted(set(entry) - _COMPLIANCE_KEYS)
        if unknown:
            raise MetadataError(f"{where}: unknown key(s) {', '.join(map(str, unknown))}")
        missing = [key for key in ("framework", "control", "source", "quote") if not entry.get(key)]
        if missing:
            raise MetadataError(f"{where}: missing {', '.join(missing)}")
        framework = str(entry["framework"])
        pattern = COMPLIANCE_CONTROL_PATTERNS.get(framework)
        if pattern is None:
            known = ", ".join(COMPLIANCE_CONTROL_PATTERNS)
            raise MetadataError(f"{where}: unknown framework {framework!r} (known: {known})")
        control = str(entry["control"])
        if not pattern.match(control):
            raise MetadataError(f"{where}: {control!r} is not a {framework} control id")
        url = str(entry["source"]).strip()
        if not url.startswith("https://"):
            raise MetadataError(f"{where}: source must be an https URL")
        profile = entry.get("profile")
        if profile is not None and profile not in _COMPLIANCE_PROFILES:
            raise MetadataError(f"{where}: unknown profile {profile!r}")
        services = entry.get("services") or []
        if not isinstance(services, list) or not all(isinstance(s, str) for s in services):
            raise MetadataError(f"{where}: services must be a list of service names")
        mapping = ComplianceMapping(
            framework=framework,
            control=control,
            source=url,
            quote=" ".join(str(entry["quote"]).split()),
            profile=profile,
            services=tuple(services),
        )
        if any(m.label == mapping.label for m in mappings):
            raise MetadataError(f"{where}: {mapping.label} is mapped twice")
        mappings.append(mapping)
    return tuple(mappings)


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
        document = parse_shipped_yaml(resource.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise MetadataError(f"{source}: invalid YAML: {error}") from None
    meta = parse_metadata(document, source)
    if meta.rule_id != rule_id:
        raise MetadataError(f"{source}: id {meta.rule_id} does not match the file name")
    return meta
