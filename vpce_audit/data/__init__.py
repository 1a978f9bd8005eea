"""Facts from AWS documentation that the rules rely on, kept as data files with their sources.

Each file names the AWS page it comes from; tests check every entry against its quote. They ship
inside the wheel and are read with importlib.resources, once.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

_PACKAGE = "vpce_audit.data"

_SHIPPED_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_shipped_yaml(text: str) -> Any:
    """A YAML file that ships with vpce-audit (rule metadata, AWS facts), parsed by libyaml where
    PyYAML was built with it: every command reads some forty of them at start-up, which took
    PyYAML's pure-Python parser 0.15 s. A user's configuration keeps the stricter pure-Python
    loader of vpce_audit.config, which refuses anchors and repeated keys."""
    return yaml.load(text, Loader=_SHIPPED_YAML_LOADER)


def _load(name: str) -> Any:
    return parse_shipped_yaml(resources.files(_PACKAGE).joinpath(name).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class GlobalConditionKey:
    name: str
    """As AWS writes it, e.g. aws:PrincipalOrgID; tag keys end in '/*' (aws:PrincipalTag/*)."""
    value_type: str
    multivalued: bool


@functools.cache
def global_condition_keys() -> tuple[GlobalConditionKey, ...]:
    document = _load("iam_global_condition_keys.yaml")
    return tuple(
        GlobalConditionKey(
            name=str(entry["name"]),
            value_type=str(entry["type"]),
            multivalued=bool(entry["multivalued"]),
        )
        for entry in document["keys"]
    )


@dataclass(frozen=True)
class PortRange:
    low: int
    high: int

    def __contains__(self, port: int) -> bool:
        return self.low <= port <= self.high

    def overlaps(self, other: PortRange) -> bool:
        return self.low <= other.high and other.low <= self.high

    def __str__(self) -> str:
        return str(self.low) if self.low == self.high else f"{self.low}-{self.high}"


@dataclass(frozen=True)
class ServicePorts:
    """The TCP ports an AWS service's interface endpoint serves, and where AWS says so."""

    services: tuple[str, ...]
    ports: tuple[PortRange, ...]
    source: str
    quote: str

    def describe(self) -> str:
        return ", ".join(str(port) for port in self.ports)


_RANGE = re.compile(r"^\s*(\d+)\s*[-\u2013]\s*(\d+)\s*$")


def parse_port(value: Any) -> PortRange:
    """443 -> 443-443; "1024-1064" or "1024\u20131064" (as AWS writes ranges) -> 1024-1064."""
    if isinstance(value, int) and not isinstance(value, bool):
        return PortRange(value, value)
    match = _RANGE.match(str(value))
    if not match:
        raise ValueError(f"not a port or port range: {value!r}")
    return PortRange(int(match.group(1)), int(match.group(2)))


@dataclass(frozen=True)
class PortTable:
    default: ServicePorts
    exceptions: tuple[ServicePorts, ...]

    _found: dict[str, ServicePorts] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    """Answers given, by short name: every endpoint of a service asks the same question."""

    def for_service(self, short_name: str) -> ServicePorts:
        """Ports of the service named com.amazonaws.<region>.<short_name>."""
        found = self._found.get(short_name)
        if found is None:
            found = self._found[short_name] = self._match(short_name)
        return found

    def _match(self, short_name: str) -> ServicePorts:
        for entry in self.exceptions:
            if any(fnmatch.fnmatchcase(short_name, pattern) for pattern in entry.services):
                return entry
        return self.default


@functools.cache
def service_ports() -> PortTable:
    document = _load("service_ports.yaml")
    default = ServicePorts(
        services=(),
        ports=tuple(parse_port(p) for p in document["default_ports"]),
        source=str(document["default_source"]),
        quote=str(document["default_quote"]),
    )
    exceptions = tuple(
        ServicePorts(
            services=tuple(str(s) for s in entry["services"]),
            ports=tuple(parse_port(p) for p in entry["ports"]),
            source=str(entry["source"]),
            quote=str(entry["quote"]) + " " + str(entry.get("quote_extra", "")),
        )
        for entry in document["services"]
    )
    return PortTable(default, exceptions)
