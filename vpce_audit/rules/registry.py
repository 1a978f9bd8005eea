"""Which rules exist: the built-in ones, registered explicitly, plus entry-point plugins.

A third-party package adds rules by declaring, in its pyproject.toml::

    [project.entry-points."vpce_audit.rules"]
    my_rules = "my_package.rules:RULES"

where the object is a ``vpce_audit.rules.base.Rule`` or an iterable of them. Two rules with the
same id are a hard error: ids are what suppressions and GitHub alerts hang on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import metadata

from vpce_audit.rules.base import Rule
from vpce_audit.rules.metadata import retired_metadata

ENTRY_POINT_GROUP = "vpce_audit.rules"
RULE_ERROR_ID = "VPCE000"


class RegistryError(Exception):
    """Rules cannot be registered (duplicate id, broken plugin)."""


@dataclass(frozen=True)
class RuleRegistry:
    rules: tuple[Rule, ...]

    def __post_init__(self) -> None:
        retired = {meta.rule_id for meta in retired_metadata()}
        seen: dict[str, Rule] = {}
        for rule in self.rules:
            if rule.rule_id in seen or rule.rule_id == RULE_ERROR_ID:
                raise RegistryError(f"duplicate rule id {rule.rule_id}")
            if rule.rule_id in retired:
                raise RegistryError(f"rule id {rule.rule_id} is retired and cannot be reused")
            seen[rule.rule_id] = rule

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(rule.rule_id for rule in self.rules)

    def get(self, rule_id: str) -> Rule | None:
        for rule in self.rules:
            if rule.rule_id == rule_id.upper():
                return rule
        return None


def builtin_rules() -> tuple[Rule, ...]:
    from vpce_audit.rules.builtin import BUILTIN_RULES

    return BUILTIN_RULES


def plugin_rules() -> tuple[Rule, ...]:
    found: list[Rule] = []
    for entry_point in sorted(
        metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name
    ):
        try:
            loaded = entry_point.load()
        except Exception as error:  # a broken plugin must not look like "no findings"
            raise RegistryError(
                f"rule plugin {entry_point.name!r} ({entry_point.value}) failed to load: {error}"
            ) from error
        found.extend(_as_rules(loaded, entry_point.name))
    return tuple(found)


def _as_rules(loaded: object, source: str) -> Iterable[Rule]:
    if isinstance(loaded, Rule):
        return (loaded,)
    if isinstance(loaded, Iterable):
        rules = tuple(loaded)
        if all(isinstance(item, Rule) for item in rules):
            return rules
    raise RegistryError(f"rule plugin {source!r} is not a Rule or an iterable of Rules")


def load_registry(*, include_plugins: bool = True) -> RuleRegistry:
    rules = builtin_rules() + (plugin_rules() if include_plugins else ())
    return RuleRegistry(tuple(sorted(rules, key=lambda rule: rule.rule_id)))
