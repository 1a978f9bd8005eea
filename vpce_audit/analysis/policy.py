"""Endpoint-policy parsing and semantics.

Policies are parsed into statements with every IAM shorthand normalised (a single string for a
list, ``"*"`` for ``{"AWS": "*"}``, ...) so rules reason about meaning, not text. Matching
follows IAM: action names are case-insensitive and ``*`` / ``?`` are wildcards.
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass
from typing import Any

# What AWS applies to an endpoint that supports policies when none was set.
DEFAULT_FULL_ACCESS_POLICY = (
    '{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*",'
    '"Action":"*","Resource":"*"}]}'
)

# Endpoint service names whose IAM action prefix differs from the first label of the service.
_ACTION_PREFIX_EXCEPTIONS = {
    "monitoring": "cloudwatch",
    "kinesis-streams": "kinesis",
    "kinesis-firehose": "firehose",
    "sagemaker": "sagemaker",
    "ecr": "ecr",
    "email-smtp": "ses",
    "elasticloadbalancing": "elasticloadbalancing",
    "execute-api": "execute-api",
    "s3express": "s3express",
}


class PolicyParseError(ValueError):
    """The policy text is not a policy; the message says why."""


@dataclass(frozen=True)
class Principal:
    kind: str
    """'AWS', 'Service', 'Federated' or 'CanonicalUser'; '*' for the bare wildcard."""
    value: str

    @property
    def is_everyone(self) -> bool:
        return self.value == "*" and self.kind in {"*", "AWS"}


@dataclass(frozen=True)
class Condition:
    operator: str
    """As written, e.g. 'StringEquals', 'ForAnyValue:StringLike', 'ArnLikeIfExists'."""
    key: str
    """Lower-cased: IAM condition keys are case-insensitive."""
    values: tuple[str, ...]


@dataclass(frozen=True)
class Statement:
    effect: str
    """'Allow' or 'Deny'."""
    sid: str | None = None
    principals: tuple[Principal, ...] | None = None
    not_principals: tuple[Principal, ...] | None = None
    actions: tuple[str, ...] | None = None
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] | None = None
    not_resources: tuple[str, ...] | None = None
    conditions: tuple[Condition, ...] = ()

    @property
    def is_allow(self) -> bool:
        return self.effect == "Allow"

    @property
    def is_deny(self) -> bool:
        return self.effect == "Deny"

    @property
    def applies_to_everyone(self) -> bool:
        return self.principals is not None and any(p.is_everyone for p in self.principals)


@dataclass(frozen=True)
class Policy:
    statements: tuple[Statement, ...]
    version: str | None = None

    @property
    def allows(self) -> tuple[Statement, ...]:
        return tuple(s for s in self.statements if s.is_allow)

    @property
    def denies(self) -> tuple[Statement, ...]:
        return tuple(s for s in self.statements if s.is_deny)


def parse_policy(text: str | None) -> Policy:
    """Parse endpoint-policy text; None or empty means the AWS default full-access policy."""
    if text is None or not text.strip():
        text = DEFAULT_FULL_ACCESS_POLICY
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise PolicyParseError(f"not valid JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(document, dict):
        raise PolicyParseError("the policy is not a JSON object")
    raw_statements = document.get("Statement")
    if raw_statements is None:
        raise PolicyParseError("the policy has no Statement")
    if isinstance(raw_statements, dict):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list):
        raise PolicyParseError("Statement is neither an object nor a list")
    version = document.get("Version")
    return Policy(
        statements=tuple(_parse_statement(raw, index) for index, raw in enumerate(raw_statements)),
        version=version if isinstance(version, str) else None,
    )


def _parse_statement(raw: Any, index: int) -> Statement:
    where = f"statement {index + 1}"
    if not isinstance(raw, dict):
        raise PolicyParseError(f"{where} is not an object")
    effect = raw.get("Effect")
    if effect not in {"Allow", "Deny"}:
        raise PolicyParseError(f"{where} has Effect {effect!r} (expected Allow or Deny)")
    sid = raw.get("Sid")
    return Statement(
        effect=effect,
        sid=sid if isinstance(sid, str) else None,
        principals=_principals(raw.get("Principal"), where),
        not_principals=_principals(raw.get("NotPrincipal"), where),
        actions=_strings(raw.get("Action"), f"{where} Action"),
        not_actions=_strings(raw.get("NotAction"), f"{where} NotAction"),
        resources=_strings(raw.get("Resource"), f"{where} Resource"),
        not_resources=_strings(raw.get("NotResource"), f"{where} NotResource"),
        conditions=_conditions(raw.get("Condition"), where),
    )


def _strings(value: Any, where: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise PolicyParseError(f"{where} must be a string or a list of strings")


def _principals(value: Any, where: str) -> tuple[Principal, ...] | None:
    if value is None:
        return None
    if value == "*":
        return (Principal("*", "*"),)
    if not isinstance(value, dict):
        raise PolicyParseError(f'{where} Principal must be "*" or an object')
    found: list[Principal] = []
    for kind, members in value.items():
        for member in _strings(members, f"{where} Principal.{kind}") or ():
            found.append(Principal(str(kind), member))
    return tuple(found)


def _conditions(value: Any, where: str) -> tuple[Condition, ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise PolicyParseError(f"{where} Condition must be an object")
    found: list[Condition] = []
    for operator, block in value.items():
        if not isinstance(block, dict):
            raise PolicyParseError(f"{where} Condition {operator} must be an object")
        for key, raw_values in block.items():
            values = raw_values if isinstance(raw_values, list) else [raw_values]
            found.append(
                Condition(str(operator), str(key).lower(), tuple(_text(v) for v in values))
            )
    return tuple(found)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- matching -----------------------------------------------------------------------------


def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(pattern.lower()), re.DOTALL)


def action_matches(pattern: str, action: str) -> bool:
    """IAM action matching: case-insensitive, ``*`` and ``?`` wildcards."""
    return _glob(pattern).match(action.lower()) is not None


def action_prefix_for_service(service_name: str) -> str:
    """The IAM action prefix for an endpoint service name.

    ``com.amazonaws.eu-west-1.s3`` -> ``s3``; ``com.amazonaws.eu-west-1.ecr.dkr`` -> ``ecr``.
    """
    parts = service_name.split(".")
    short = parts[3] if len(parts) > 3 and parts[0] == "com" else parts[-1]
    return _ACTION_PREFIX_EXCEPTIONS.get(short, short)


# Two action names that no real action equals; a pattern matching both matches every action of
# the service, because only a wildcard can stand for an arbitrary suffix.
_UNLIKELY_ACTIONS = ("\x00", "\x01\x02\x03")


def covers_all_actions(pattern: str, action_prefix: str) -> bool:
    """Whether one Action pattern grants every action of the service (``*``, ``s3:*``, ...)."""
    return all(action_matches(pattern, f"{action_prefix}:{name}") for name in _UNLIKELY_ACTIONS)


def is_full_access(policy: Policy, action_prefix: str) -> bool:
    """Everyone may do everything to everything, unconditionally, with nothing denied.

    The shape of the AWS default endpoint policy: an Allow statement with Principal ``*``,
    every action of the service, Resource ``*``, no Condition and no Not* element, in a policy
    that has no Deny statement to narrow it.
    """
    if policy.denies:
        return False
    return any(_is_unrestricted_allow(statement, action_prefix) for statement in policy.allows)


def _is_unrestricted_allow(statement: Statement, action_prefix: str) -> bool:
    if statement.conditions or statement.not_principals is not None:
        return False
    if statement.not_actions is not None or statement.not_resources is not None:
        return False
    return (
        statement.applies_to_everyone
        and any(covers_all_actions(a, action_prefix) for a in statement.actions or ())
        and "*" in (statement.resources or ())
    )
