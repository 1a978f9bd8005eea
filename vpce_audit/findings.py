"""What rules produce: findings, and resources they could not judge (skips)."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass


class Severity(enum.IntEnum):
    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        # Not self.name.lower(): Enum.name is a descriptor call, and every finding's severity is
        # written in every report.
        return _SEVERITY_LABELS[self]

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            choices = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {text!r} (choose from {choices})") from None


_SEVERITY_LABELS = ("info", "low", "medium", "high", "critical")


def fingerprint(rule_id: str, resource_arn: str) -> str:
    """Finding identity: a pure function of rule and resource, stable across scans."""
    return hashlib.sha256(f"{rule_id}\x1f{resource_arn}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Finding:
    rule_id: str
    severity: Severity
    account_id: str
    region: str
    resource_type: str
    """ARN resource type: vpc-endpoint, vpc-endpoint-service, vpc, route-table, ..."""
    resource_id: str
    resource_arn: str
    message: str
    related_resources: tuple[str, ...] = ()

    @property
    def fingerprint(self) -> str:
        # Rule errors concern the rule, not an AWS resource, and so have no ARN.
        return fingerprint(self.rule_id, self.resource_arn or f"rule/{self.resource_id}")

    @property
    def sort_key(self) -> tuple[int, str, str, str, str]:
        return (-int(self.severity), self.rule_id, self.account_id, self.region, self.resource_id)


@dataclass(frozen=True)
class Skipped:
    """A rule could not judge a resource (or a whole scope) because data is missing."""

    rule_id: str
    account_id: str
    region: str
    reason: str
    resource_id: str | None = None
    """None when the whole scope was skipped."""

    @property
    def sort_key(self) -> tuple[str, str, str, str]:
        return (self.rule_id, self.account_id, self.region, self.resource_id or "")
