"""Endpoint-policy parsing and semantics.

Policies are parsed into statements with every IAM shorthand normalised (a single string for a
list, ``"*"`` for ``{"AWS": "*"}``, ...) so rules reason about meaning, not text. Matching
follows IAM: action names are case-insensitive and ``*`` / ``?`` are wildcards.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import re
from dataclasses import dataclass
from typing import Any

from vpce_audit.analysis.trust import TrustedSet, principal_account

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


@functools.lru_cache(maxsize=4096)
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


# -- perimeters ------------------------------------------------------------------------------
#
# A perimeter condition limits a statement to trusted principals (identity perimeter) or to
# trusted resources (resource perimeter). Conditions are read by meaning:
#
# * in an Allow, only positive operators restrict (StringEquals, StringLike, ArnEquals, ArnLike,
#   their IgnoreCase form, ForAnyValue: forms). IfExists forms and ForAllValues: do not: both are
#   true when the key is absent, which it is for anonymous callers and for principals outside any
#   organisation. Negated operators allow everything but a few values.
# * in a Deny, negated operators carve out everything outside the perimeter: a Deny for every
#   principal, action and resource unless the key matches trusted values.

IDENTITY_KEYS = frozenset(
    {"aws:principalorgid", "aws:principalorgpaths", "aws:principalaccount", "aws:principalarn"}
)
RESOURCE_KEYS = frozenset(
    {"aws:resourceorgid", "aws:resourceorgpaths", "aws:resourceaccount", "s3:resourceaccount"}
)
# Keys a perimeter Deny may also test without losing its teeth (AWS's data-perimeter examples
# exempt AWS services acting on your behalf).
DENY_COMPANION_KEYS = frozenset(
    {
        "aws:principalisawsservice",
        "aws:viaawsservice",
        "aws:calledvia",
        "aws:calledviafirst",
        "aws:calledvialast",
    }
)
_POSITIVE = frozenset(
    {"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"}
)
_NEGATIVE = frozenset(
    {"stringnotequals", "stringnotequalsignorecase", "stringnotlike", "arnnotequals", "arnnotlike"}
)

S3_WRITE_ACTIONS = (
    "s3:PutObject",
    "s3:PutObjectAcl",
    "s3:PutObjectTagging",
    "s3:PutObjectRetention",
    "s3:PutObjectLegalHold",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:ReplicateObject",
    "s3:RestoreObject",
    "s3:AbortMultipartUpload",
    "s3:CreateBucket",
    "s3:DeleteBucket",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketAcl",
    "s3:PutBucketVersioning",
    "s3:PutLifecycleConfiguration",
    "s3:PutReplicationConfiguration",
    "s3:PutEncryptionConfiguration",
    "s3:BypassGovernanceRetention",
)
DYNAMODB_WRITE_ACTIONS = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
    "dynamodb:CreateTable",
    "dynamodb:UpdateTable",
    "dynamodb:DeleteTable",
    "dynamodb:RestoreTableFromBackup",
    "dynamodb:RestoreTableToPointInTime",
    "dynamodb:ImportTable",
    "dynamodb:ExportTableToPointInTime",
    "dynamodb:CreateGlobalTable",
    "dynamodb:UpdateGlobalTable",
)


@dataclass(frozen=True)
class OperatorParts:
    qualifier: str
    """'', 'foranyvalue' or 'forallvalues'."""
    base: str
    """Lower-case operator without qualifier or IfExists, e.g. 'stringequals'."""
    if_exists: bool


def operator_parts(operator: str) -> OperatorParts:
    text = operator.lower()
    qualifier = ""
    if ":" in text:
        qualifier, text = text.split(":", 1)
    if_exists = text.endswith("ifexists")
    return OperatorParts(qualifier, text.removesuffix("ifexists"), if_exists)


def restricts_in_allow(condition: Condition) -> bool:
    parts = operator_parts(condition.operator)
    return parts.base in _POSITIVE and not parts.if_exists and parts.qualifier != "forallvalues"


def carves_out_in_deny(condition: Condition) -> bool:
    return operator_parts(condition.operator).base in _NEGATIVE


def perimeter_value_trusted(key: str, value: str, trusted: TrustedSet) -> bool:
    """Whether one condition value names only trusted organisations or accounts."""
    if "*" in value.split("/", 1)[0] or "?" in value.split("/", 1)[0]:
        return False
    if key in {"aws:principalorgid", "aws:resourceorgid"}:
        return trusted.trusts_org(value)
    if key in {"aws:principalorgpaths", "aws:resourceorgpaths"}:
        return trusted.trusts_org(value.split("/", 1)[0])
    if key == "aws:principalarn":
        account = principal_account(value)
        return account is not None and trusted.trusts_account(account)
    return trusted.trusts_account(value)


@dataclass(frozen=True)
class Perimeter:
    """What a policy does to limit one statement along one dimension (identity or resource)."""

    present: bool
    untrusted_values: tuple[str, ...] = ()

    @property
    def holds(self) -> bool:
        return self.present and not self.untrusted_values


def _perimeter_from(conditions: list[Condition], trusted: TrustedSet) -> Perimeter:
    if not conditions:
        return Perimeter(False)
    untrusted = sorted(
        {
            value
            for condition in conditions
            for value in condition.values
            if not perimeter_value_trusted(condition.key, value, trusted)
        }
    )
    return Perimeter(True, tuple(untrusted))


def statement_perimeter(
    statement: Statement, keys: frozenset[str], trusted: TrustedSet
) -> Perimeter:
    """The perimeter an Allow statement's own conditions draw."""
    return _perimeter_from(
        [c for c in statement.conditions if c.key in keys and restricts_in_allow(c)], trusted
    )


def _denies_everything_but(
    statement: Statement, keys: frozenset[str], prefix: str
) -> list[Condition]:
    if not statement.is_deny or not statement.applies_to_everyone:
        return []
    if statement.not_actions is not None or statement.not_resources is not None:
        return []
    if not any(covers_all_actions(a, prefix) for a in statement.actions or ()):
        return []
    if "*" not in (statement.resources or ()):
        return []
    perimeter = [c for c in statement.conditions if c.key in keys and carves_out_in_deny(c)]
    others = [c for c in statement.conditions if c.key not in keys]
    if not perimeter or any(c.key not in DENY_COMPANION_KEYS for c in others):
        return []
    return perimeter


def deny_perimeter(
    policy: Policy, keys: frozenset[str], action_prefix: str, trusted: TrustedSet
) -> Perimeter:
    """The perimeter drawn by Deny statements that deny everything outside it."""
    conditions = [c for s in policy.denies for c in _denies_everything_but(s, keys, action_prefix)]
    return _perimeter_from(conditions, trusted)


def statement_allows(statement: Statement, action: str) -> bool:
    if statement.actions is not None:
        return any(action_matches(pattern, action) for pattern in statement.actions)
    if statement.not_actions is not None:
        return not any(action_matches(pattern, action) for pattern in statement.not_actions)
    return False


def allowed_writes(statement: Statement, write_actions: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(a for a in write_actions if statement_allows(statement, a))


@functools.lru_cache(maxsize=4096)
def _arn_glob(pattern: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(pattern), re.DOTALL)


def _resource_matches(pattern: str, arn: str) -> bool:
    # ARNs match case-sensitively; * and ? are wildcards, also across ':' and '/'.
    return _arn_glob(pattern).match(arn) is not None


def reaches_any(statement: Statement, sample_arns: tuple[str, ...]) -> bool:
    """Whether the statement's resources include arbitrary ones (any bucket, any table).

    ``sample_arns`` name resources no policy names on purpose (bucket '\\x00any'); a pattern
    that matches them matches resources of every account.
    """
    if statement.resources is not None:
        return any(_resource_matches(p, arn) for p in statement.resources for arn in sample_arns)
    if statement.not_resources is not None:
        return not all(
            any(_resource_matches(p, arn) for p in statement.not_resources) for arn in sample_arns
        )
    return False


def arbitrary_resource_arns(service: str, partition: str, region: str) -> tuple[str, ...]:
    if service == "s3":
        return (
            f"arn:{partition}:s3:::\x00any-bucket",
            f"arn:{partition}:s3:::\x00any-bucket/\x00key",
        )
    return (f"arn:{partition}:dynamodb:{region}:\x00account:table/\x00any-table",)
