"""The configuration file: `.vpce-audit.yml` in the working directory, or `--config FILE`.

Every key is optional::

    trusted_org_ids: [o-a1b2c3d4e5]
    trusted_account_ids: ["111122223333"]     # quote account ids: YAML reads 0-led numbers as octal
    on_premises_cidrs: [192.168.0.0/16]
    profile: default                          # or fsbp: Security Hub's controls exactly
    required_services: [ec2, ssm, ecr.api]    # replaces the profile's list of VPCE601
    regions: [eu-west-1, us-east-1]           # live scans: --region overrides it
    exclude_regions: [ap-east-1]              # live scans: added to --exclude-region
    rules:
      VPCE504: {enabled: true}
      VPCE302: {severity: medium}
    suppressions:
      - rule: VPCE101
        resource: "vpce-0abc*"               # resource id or ARN; * and ? are wildcards
        reason: "legacy endpoint, replaced in Q1"
        expires: 2027-03-31                   # optional; after it, the finding shows again

Unknown keys, wrong types and unknown rule ids are errors naming the key and the file (exit 2):
a typo in a security tool's configuration must not silently widen what it trusts or hides.
For the same reason the YAML is read strictly: a repeated key is an error (the second value would
silently replace the first), and anchors, aliases and merge keys are refused (an alias lets a few
lines expand into gigabytes, and a merge hides which value wins).
A retired rule id (VPCE205) in ``rules`` or a suppression is a warning, not an error: the
configuration still loads, and the entry does nothing.
``[tool.vpce-audit]`` in pyproject.toml is deliberately not read: the scanned estate is not a
Python project, and one obvious place for the file is easier to audit.
"""

from __future__ import annotations

import datetime
import fnmatch
import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vpce_audit.analysis.cidrs import parse_network
from vpce_audit.findings import Finding, Severity
from vpce_audit.model import ACCOUNT_ID, REGION_NAME
from vpce_audit.text import TooLarge, brief, clip, read_bounded

DEFAULT_CONFIG_NAME = ".vpce-audit.yml"
MAX_CONFIG_BYTES = 1024 * 1024
"""A configuration is a few kilobytes; a megabyte is generous and bounds what a pull request
can make the scanner parse."""
# fullmatch and ASCII classes: "$" would accept a trailing newline and \d Arabic-Indic digits.
ORG_ID = re.compile(r"o-[a-z0-9]{10,32}")
SERVICE_NAME = re.compile(r"[a-z0-9][a-z0-9.-]*")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
PROFILES = ("default", "fsbp")
TOP_LEVEL_KEYS = (
    "trusted_org_ids",
    "trusted_account_ids",
    "on_premises_cidrs",
    "profile",
    "required_services",
    "rules",
    "suppressions",
    "regions",
    "exclude_regions",
)
RULE_KEYS = ("enabled", "severity")
SUPPRESSION_KEYS = ("rule", "resource", "reason", "expires")


class ConfigError(Exception):
    """The configuration is invalid; the message names the file and the key."""


class _Refused(Exception):
    """YAML that the configuration may not use, at a 1-based line."""

    def __init__(self, problem: str, mark: yaml.Mark | None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = None if mark is None else mark.line + 1


MERGE_TAG = "tag:yaml.org,2002:merge"


class _StrictLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses anchors, aliases, merge keys and repeated keys, and reports
    a value Python cannot represent (an impossible date, an integer of thousands of digits) as
    YAML it cannot read instead of letting the ValueError escape."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        # Refused where they appear, before anything is composed from them.
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused(
                "YAML anchors and aliases (&name, *name) are not allowed", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            if key_node.tag == MERGE_TAG:
                raise _Refused("YAML merge keys (<<) are not allowed", key_node.start_mark)
            key = self.construct_object(key_node, deep=deep)
            try:
                repeated = key in seen
                seen.add(key)
            except TypeError:  # unhashable: SafeLoader reports it
                continue
            if repeated:
                raise _Refused(f"duplicate key {brief(key)}", key_node.start_mark)
        return super().construct_mapping(node, deep)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as error:
            problem = f"cannot read {brief(node.value)} ({clip(error, 60)})"
            raise _Refused(problem, node.start_mark) from None


@dataclass(frozen=True)
class RuleConfig:
    enabled: bool | None = None
    severity: Severity | None = None


@dataclass(frozen=True)
class Suppression:
    rule_id: str
    resource_pattern: str
    reason: str
    expires: datetime.date | None = None

    def matches(self, finding: Finding) -> bool:
        if finding.rule_id != self.rule_id:
            return False
        return any(
            fnmatch.fnmatchcase(candidate, self.resource_pattern)
            for candidate in (finding.resource_id, finding.resource_arn)
        )

    def expired(self, today: datetime.date) -> bool:
        return self.expires is not None and today > self.expires


_WILDCARDS = frozenset("*?[")


class SuppressionIndex:
    """The first of some suppressions (in their order) that matches a finding, found without
    trying each: a configuration may list thousands, one per resource, and a scan of an
    organisation has hundreds of thousands of findings (44,000 x 2,500 took 89 s one by one).

    A pattern without ``*``, ``?`` or ``[`` matches exactly itself (``fnmatchcase``): those
    are looked up by (rule, text); the others are tried in order, only for their rule."""

    def __init__(self, suppressions: Iterable[Suppression]) -> None:
        self._suppressions = tuple(suppressions)
        self._exact: dict[tuple[str, str], int] = {}
        self._patterns: dict[str, list[int]] = {}
        for index, suppression in enumerate(self._suppressions):
            pattern = suppression.resource_pattern
            if _WILDCARDS.isdisjoint(pattern):
                self._exact.setdefault((suppression.rule_id, pattern), index)
            else:
                self._patterns.setdefault(suppression.rule_id, []).append(index)

    def first_match(self, finding: Finding) -> Suppression | None:
        rule = finding.rule_id
        found = min(
            (
                self._exact.get((rule, finding.resource_id), len(self._suppressions)),
                self._exact.get((rule, finding.resource_arn), len(self._suppressions)),
            )
        )
        for index in self._patterns.get(rule, ()):
            if index > found:
                break  # in order: an exact match came first
            if self._suppressions[index].matches(finding):
                found = index
                break
        return self._suppressions[found] if found < len(self._suppressions) else None


@dataclass(frozen=True)
class Config:
    source: str | None = None
    trusted_org_ids: frozenset[str] = frozenset()
    trusted_account_ids: frozenset[str] = frozenset()
    on_premises_cidrs: tuple[str, ...] = ()
    required_services: tuple[str, ...] | None = None
    rules: dict[str, RuleConfig] = field(default_factory=dict)
    suppressions: tuple[Suppression, ...] = ()
    profile: str = "default"
    regions: tuple[str, ...] | None = None
    """Regions a live scan collects when --region is not given (None: every enabled one)."""
    exclude_regions: tuple[str, ...] = ()
    """Regions a live scan leaves out, with those of --exclude-region."""
    warnings: tuple[str, ...] = ()
    """Things that do not stop the configuration from loading (e.g. a retired rule id)."""


def find_config(explicit: Path | None, cwd: Path) -> Path | None:
    if explicit is not None:
        return explicit
    candidate = cwd / DEFAULT_CONFIG_NAME
    return candidate if candidate.is_file() else None


def load_config(
    path: Path | None, known_rule_ids: Iterable[str], retired_rule_ids: Iterable[str] = ()
) -> Config:
    if path is None:
        return Config()
    try:
        text = read_bounded(path, MAX_CONFIG_BYTES)
    except TooLarge as error:
        raise ConfigError(f"cannot read config {path}: {error}") from None
    except OSError as error:
        raise ConfigError(f"cannot read config {path}: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{path} is not UTF-8 text (an invalid byte at offset {error.start})"
        ) from None
    document = _read_yaml(text, str(path))
    return parse_config(document, str(path), frozenset(known_rule_ids), frozenset(retired_rule_ids))


def _read_yaml(text: str, source: str) -> Any:
    """The YAML document, or a ConfigError of one line (PyYAML's own messages span several and
    quote the offending text)."""
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except _Refused as error:
        line = "" if error.line is None else f" at line {error.line}"
        raise ConfigError(f"{source}: {error.problem}{line}") from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = "" if mark is None else f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = clip(error.problem or error.context or "unreadable")
        raise ConfigError(f"{source}: invalid YAML{where}: {problem}") from None
    except yaml.YAMLError as error:
        first_line = str(error).split("\n", 1)[0]
        raise ConfigError(f"{source}: invalid YAML: {clip(first_line)}") from None
    except RecursionError:
        raise ConfigError(f"{source}: invalid YAML: nested too deeply") from None


def parse_config(
    document: Any,
    source: str,
    known_rule_ids: frozenset[str],
    retired_rule_ids: frozenset[str] = frozenset(),
) -> Config:
    if document is None:
        return Config(source=source)
    if not isinstance(document, dict):
        raise ConfigError(f"{source}: the configuration must be a mapping of keys to values")
    unknown = sorted(str(key) for key in document if key not in TOP_LEVEL_KEYS)
    if unknown:
        raise ConfigError(
            f"{source}: unknown key {brief(unknown[0])} (known keys: {', '.join(TOP_LEVEL_KEYS)})"
        )
    required = document.get("required_services")
    profile = document.get("profile", "default")
    if profile not in PROFILES:
        raise ConfigError(
            f"{source}: profile = {brief(profile)} is not one of {', '.join(PROFILES)}"
        )
    if profile == "fsbp" and required is not None:
        raise ConfigError(
            f"{source}: profile fsbp applies Security Hub's list of required endpoints; remove "
            "required_services or use the default profile"
        )
    ids = _RuleIds(source, known_rule_ids, retired_rule_ids)
    return Config(
        source=source,
        trusted_org_ids=frozenset(
            _strings(document, "trusted_org_ids", source, ORG_ID, "an organization id (o-...)")
        ),
        trusted_account_ids=frozenset(
            _strings(document, "trusted_account_ids", source, ACCOUNT_ID, "a 12-digit account id")
        ),
        on_premises_cidrs=tuple(_cidrs(document, source)),
        required_services=None
        if required is None
        else tuple(
            _strings(
                document,
                "required_services",
                source,
                SERVICE_NAME,
                "a service short name such as ecr.api",
            )
        ),
        rules=_rules(document.get("rules"), source, ids),
        suppressions=_suppressions(document.get("suppressions"), source, ids),
        profile=str(profile),
        regions=_regions(document, source),
        # A region named twice is one region, as with a repeated --region.
        exclude_regions=tuple(
            dict.fromkeys(
                _strings(document, "exclude_regions", source, REGION_NAME, "an AWS region name")
            )
        ),
        warnings=tuple(ids.warnings),
    )


def _regions(document: dict[str, Any], source: str) -> tuple[str, ...] | None:
    """The ``regions`` key: None when absent (every enabled region); a region named twice is
    one region, as with a repeated --region (a scope collected twice would make the snapshot
    refuse itself); an empty list is refused, since it would scan nothing."""
    if document.get("regions") is None:
        return None
    regions = _strings(document, "regions", source, REGION_NAME, "an AWS region name")
    if not regions:
        raise ConfigError(f"{source}: regions is empty; leave it out to scan every enabled region")
    return tuple(dict.fromkeys(regions))


def _list(document: dict[str, Any], key: str, source: str) -> list[Any]:
    value = document.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError(f"{source}: {key} must be a list")
    return value


def _strings(
    document: dict[str, Any], key: str, source: str, pattern: re.Pattern[str], what: str
) -> list[str]:
    found: list[str] = []
    for index, item in enumerate(_list(document, key, source)):
        if isinstance(item, int) and not isinstance(item, bool) and key == "trusted_account_ids":
            raise ConfigError(
                f'{source}: {key}[{index}] is a number; quote account ids ("012345678901")'
            )
        if not isinstance(item, str) or not pattern.fullmatch(item):
            raise ConfigError(f"{source}: {key}[{index}] = {brief(item)} is not {what}")
        found.append(item)
    return found


def _cidrs(document: dict[str, Any], source: str) -> list[str]:
    found: list[str] = []
    for index, item in enumerate(_list(document, "on_premises_cidrs", source)):
        network = parse_network(item) if isinstance(item, str) else None
        if network is None or "/" not in str(item):
            raise ConfigError(f"{source}: on_premises_cidrs[{index}] = {brief(item)} is not a CIDR")
        found.append(str(network))
    return found


@dataclass
class _RuleIds:
    """Resolves rule ids named in the file; retired ones become warnings."""

    source: str
    known: frozenset[str]
    retired: frozenset[str]
    warnings: list[str] = field(default_factory=list)

    def resolve(self, value: Any, where: str) -> str | None:
        rule_id = str(value).upper()
        if rule_id in self.retired:
            self.warnings.append(
                f"{self.source}: {where}: rule {rule_id} is retired "
                f"('vpce-audit rules show {rule_id}' says why); the entry has no effect"
            )
            return None
        if rule_id not in self.known:
            raise ConfigError(f"{self.source}: {where}: unknown rule id {brief(value)}")
        return rule_id


def _rules(value: Any, source: str, known: _RuleIds) -> dict[str, RuleConfig]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: rules must be a mapping of rule id to settings")
    parsed: dict[str, RuleConfig] = {}
    for key, settings in value.items():
        where = f"rules.{clip(key, 40)}"
        rule_id = known.resolve(key, where)
        if rule_id is not None and rule_id in parsed:
            # VPCE101 and vpce101 are one rule: a second entry would silently win.
            raise ConfigError(f"{source}: {where}: rule {rule_id} is configured twice")
        if not isinstance(settings, dict):
            raise ConfigError(f"{source}: {where} must be a mapping (enabled, severity)")
        unknown = sorted(str(k) for k in settings if k not in RULE_KEYS)
        if unknown:
            raise ConfigError(f"{source}: {where}: unknown key {brief(unknown[0])}")
        enabled = settings.get("enabled")
        if enabled is not None and not isinstance(enabled, bool):
            raise ConfigError(f"{source}: {where}.enabled must be true or false")
        severity = _severity(settings.get("severity"), f"{source}: {where}.severity")
        if rule_id is not None:
            parsed[rule_id] = RuleConfig(enabled=enabled, severity=severity)
    return parsed


def _severity(value: Any, where: str) -> Severity | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return Severity.parse(value)
        except ValueError:
            pass  # its message quotes the whole text; this one must stay short
    choices = ", ".join(severity.label for severity in Severity)
    raise ConfigError(f"{where}: unknown severity {brief(value)} (choose from {choices})")


def _suppressions(value: Any, source: str, known: _RuleIds) -> tuple[Suppression, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(f"{source}: suppressions must be a list")
    parsed: list[Suppression] = []
    for index, item in enumerate(value):
        where = f"suppressions[{index}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{source}: {where} must be a mapping (rule, resource, reason)")
        unknown = sorted(str(k) for k in item if k not in SUPPRESSION_KEYS)
        if unknown:
            raise ConfigError(f"{source}: {where}: unknown key {brief(unknown[0])}")
        for required in ("rule", "resource", "reason"):
            if not isinstance(item.get(required), str) or not item[required].strip():
                raise ConfigError(f"{source}: {where}.{required} is required (a non-empty string)")
        expires = _expiry(item.get("expires"), f"{source}: {where}.expires")
        rule_id = known.resolve(item["rule"], f"{where}.rule")
        if rule_id is None:
            continue
        parsed.append(
            Suppression(
                rule_id=rule_id,
                resource_pattern=item["resource"],
                reason=item["reason"].strip(),
                expires=expires,
            )
        )
    return tuple(parsed)


def _expiry(value: Any, where: str) -> datetime.date | None:
    if value is None:
        return None
    # A datetime is a date too, but compares with none: "today > expires" would raise.
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    raise ConfigError(f"{where} = {brief(value)} is not a date (YYYY-MM-DD)")


def parse_rule_selection(
    text: str,
    known_rule_ids: Iterable[str],
    option: str,
    retired_rule_ids: Iterable[str] = (),
    warnings: list[str] | None = None,
) -> frozenset[str]:
    """`--select VPCE1,VPCE201`: ids or id prefixes, comma-separated. A retired id is dropped
    with a warning appended to ``warnings``."""
    known = sorted(known_rule_ids)
    retired = frozenset(retired_rule_ids)
    items = [raw.strip() for raw in text.split(",") if raw.strip()]
    if not items:
        # An empty --select would run nothing and an empty --ignore is a slip; neither is meant.
        raise ConfigError(f"{option} names no rule")
    chosen: set[str] = set()
    for raw in items:
        item = raw.upper()
        if item in retired:
            if warnings is not None:
                warnings.append(f"{option}: rule {item} is retired and is not run")
            continue
        matches = [rule_id for rule_id in known if rule_id.startswith(item)]
        if not matches:
            raise ConfigError(f"{option}: {brief(raw)} matches no rule id")
        chosen.update(matches)
    return frozenset(chosen)
