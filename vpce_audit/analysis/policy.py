"""Endpoint-policy parsing and semantics.

Policies are parsed into statements with every IAM shorthand normalised (a single string for a
list, ``"*"`` for ``{"AWS": "*"}``, ...) so rules reason about meaning, not text.

Meaning is decided by evaluating *requests*: a caller (an outsider with credentials of an
untrusted account, an anonymous caller, a trusted insider, an AWS service principal, or the
principals of one named account), an action of the endpoint's service, and a resource (one an
attacker can create, one of your own, or one the policy names). Each statement is true, false or
"maybe" for a request; a condition is read as IAM reads it
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html):
negated operators and ``...IfExists`` are true when the key is absent, ``ForAllValues`` is true
for an absent key, and keys the caller controls (its own tags, names, network) restrict nobody.
``aws:SourceIp`` is absent from every request that arrives through a VPC endpoint
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourceip).
A request is allowed when an Allow statement may match it and no Deny statement certainly does:
an attacker picks the values that escape a Deny.
"""

from __future__ import annotations

import enum
import fnmatch
import functools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from vpce_audit.analysis.service_names import iam_action_prefix, service_short_name
from vpce_audit.analysis.trust import (
    UNIQUE_PRINCIPAL_ID,
    is_valid_aws_principal,
    principal_account,
)
from vpce_audit.cached import cached_property
from vpce_audit.data import global_condition_keys
from vpce_audit.model import ACCOUNT_ID

# What AWS applies to an endpoint that supports policies when none was set.
DEFAULT_FULL_ACCESS_POLICY = (
    '{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*",'
    '"Action":"*","Resource":"*"}]}'
)


class PolicyParseError(ValueError):
    """The policy text is not a policy; the message says why."""


class Truth(enum.IntEnum):
    """Whether a statement or condition holds for a request; AND is ``min``, OR is ``max``."""

    NEVER = 0
    MAYBE = 1
    ALWAYS = 2

    def negated(self) -> Truth:
        """NOT: ALWAYS and NEVER swap, MAYBE stays."""
        return Truth(2 - self)


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
    uses_variables: bool = False
    """A value holds a policy variable (``${aws:PrincipalAccount}``), which IAM resolves in
    policies of version 2012-10-17 only."""

    @property
    def parts(self) -> OperatorParts:
        return operator_parts(self.operator)


@dataclass(frozen=True)
class Statement:
    effect: str
    """'Allow' or 'Deny'."""
    index: int = 0
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

    @property
    def label(self) -> str:
        return f"statement {self.index + 1}" + (f" ({self.sid})" if self.sid else "")


@dataclass(frozen=True)
class Policy:
    statements: tuple[Statement, ...]
    version: str | None = None
    is_default: bool = False
    """No policy was set: the AWS default full-access policy applies."""

    @property
    def allows(self) -> tuple[Statement, ...]:
        return tuple(s for s in self.statements if s.is_allow)

    @property
    def denies(self) -> tuple[Statement, ...]:
        return tuple(s for s in self.statements if s.is_deny)


def parse_policy(text: str | None) -> Policy:
    """Parse endpoint-policy text; None or empty means the AWS default full-access policy.

    Estates reuse a few policies across many endpoints: parses are cached (a Policy is
    immutable; errors are raised again each time)."""
    return _parse_policy(text)


@functools.lru_cache(maxsize=4096)
def _parse_policy(text: str | None) -> Policy:
    is_default = text is None or not text.strip()
    if text is None or not text.strip():
        text = DEFAULT_FULL_ACCESS_POLICY
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise PolicyParseError(f"not valid JSON ({error.msg} at line {error.lineno})") from None
    except RecursionError:
        raise PolicyParseError("nested too deeply to be a policy") from None
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
    variables = version == "2012-10-17"
    return Policy(
        statements=tuple(
            _parse_statement(raw, index, variables) for index, raw in enumerate(raw_statements)
        ),
        version=version if isinstance(version, str) else None,
        is_default=is_default,
    )


def _parse_statement(raw: object, index: int, variables: bool) -> Statement:
    where = f"statement {index + 1}"
    if not isinstance(raw, dict):
        raise PolicyParseError(f"{where} is not an object")
    effect = raw.get("Effect")
    if effect not in {"Allow", "Deny"}:
        raise PolicyParseError(f"{where} has Effect {str(effect)[:40]!r} (expected Allow or Deny)")
    sid = raw.get("Sid")
    return Statement(
        effect=effect,
        index=index,
        sid=sid if isinstance(sid, str) else None,
        principals=_principals(raw.get("Principal"), where),
        not_principals=_principals(raw.get("NotPrincipal"), where),
        actions=_strings(raw.get("Action"), f"{where} Action"),
        not_actions=_strings(raw.get("NotAction"), f"{where} NotAction"),
        resources=_strings(raw.get("Resource"), f"{where} Resource"),
        not_resources=_strings(raw.get("NotResource"), f"{where} NotResource"),
        conditions=_conditions(raw.get("Condition"), where, variables),
    )


def _strings(value: object, where: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise PolicyParseError(f"{where} must be a string or a list of strings")


def _principals(value: object, where: str) -> tuple[Principal, ...] | None:
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


def _conditions(value: object, where: str, variables: bool) -> tuple[Condition, ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise PolicyParseError(f"{where} Condition must be an object")
    found: list[Condition] = []
    for operator, block in value.items():
        if not isinstance(block, dict):
            raise PolicyParseError(f"{where} Condition {str(operator)[:40]} must be an object")
        for key, raw_values in block.items():
            values = tuple(
                _text(v) for v in (raw_values if isinstance(raw_values, list) else [raw_values])
            )
            found.append(
                Condition(
                    str(operator),
                    str(key).lower(),
                    values,
                    uses_variables=variables and any("${" in v for v in values),
                )
            )
    return tuple(found)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- operators ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OperatorParts:
    qualifier: str
    """'', 'foranyvalue' or 'forallvalues'."""
    base: str
    """Lower-case operator without qualifier or IfExists, e.g. 'stringequals'."""
    if_exists: bool

    @property
    def negated(self) -> bool:
        return "not" in self.base and self.base != "null"


def operator_parts(operator: str) -> OperatorParts:
    text = operator.lower()
    qualifier = ""
    if ":" in text:
        qualifier, text = text.split(":", 1)
    if_exists = text.endswith("ifexists")
    return OperatorParts(qualifier, text.removesuffix("ifexists"), if_exists)


POSITIVE_STRING_OPERATORS = frozenset(
    {"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"}
)
NEGATED_STRING_OPERATORS = frozenset(
    {"stringnotequals", "stringnotequalsignorecase", "stringnotlike", "arnnotequals", "arnnotlike"}
)


def restricts_in_allow(condition: Condition) -> bool:
    """A condition that can narrow an Allow to the listed values: a positive operator that is
    false when the key is absent."""
    parts = condition.parts
    return (
        parts.base in POSITIVE_STRING_OPERATORS
        and not parts.if_exists
        and parts.qualifier != "forallvalues"
    )


@functools.lru_cache(maxsize=8192)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    text = pattern.lower() if ignore_case else pattern
    return re.compile(fnmatch.translate(text), re.DOTALL)


def _has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


class Match(enum.Enum):
    EXACT = "exact"
    EXACT_IGNORE_CASE = "exact-ignore-case"
    GLOB = "glob"
    BOOL = "bool"
    OPAQUE = "opaque"
    """Numeric, date, IP and binary operators: vpce-audit does not compare such values."""


def _match_kind(base: str) -> Match:
    if base in {"stringequals", "stringnotequals"}:
        return Match.EXACT
    if base in {"stringequalsignorecase", "stringnotequalsignorecase"}:
        return Match.EXACT_IGNORE_CASE
    if base in {"stringlike", "stringnotlike", "arnequals", "arnlike", "arnnotequals"}:
        return Match.GLOB
    if base == "arnnotlike":
        return Match.GLOB
    if base == "bool":
        return Match.BOOL
    return Match.OPAQUE


def value_matches(value: str, pattern: str, kind: Match) -> bool:
    if kind is Match.EXACT:
        return value == pattern
    if kind is Match.EXACT_IGNORE_CASE:
        return value.lower() == pattern.lower()
    if kind is Match.BOOL:
        return value.lower() == pattern.lower()
    if kind is Match.GLOB:
        return _glob(pattern, False).match(value) is not None
    return False


# -- what a key may hold for a request ---------------------------------------------------------


class TrustPredicates(Protocol):
    def trusts_account(self, account_id: str) -> bool: ...

    def trusts_org(self, org_id: str) -> bool: ...

    def account_of_unique_id(self, unique_id: str) -> str | None: ...


class Domain:
    """The values a condition key may hold for one kind of request.

    ``may_match`` says whether some present value matches a pattern, ``must_match`` whether
    every present value does; ``present`` and ``absent`` say whether the key can be there or
    missing. The base class is a key the attacker sets freely (its own tags, names, ...).
    """

    @property
    def present(self) -> bool:
        return True

    @property
    def absent(self) -> bool:
        return True

    def may_match(self, pattern: str, kind: Match) -> bool:
        return True

    def must_match(self, pattern: str, kind: Match) -> bool:
        return kind is Match.GLOB and pattern.strip("*") == ""


ANY = Domain()


class _Absent(Domain):
    @property
    def present(self) -> bool:
        return False


ABSENT = _Absent()


class _OrdinaryTag(Domain):
    """A principal tag of an ordinary insider. A statement that requires a tag to hold one exact
    value is a deliberate grant (the data perimeter's exception tags, e.g.
    ``dp:exclude:resource = true``), which ordinary principals do not carry; a pattern such as
    ``*`` matches whatever tag they have, so it restricts nobody."""

    def may_match(self, pattern: str, kind: Match) -> bool:
        return kind is Match.OPAQUE or (kind is Match.GLOB and _has_wildcard(pattern))


ORDINARY_TAG = _OrdinaryTag()


@dataclass(frozen=True, eq=False)
class Fixed(Domain):
    """The key holds one of these values (or, with ``can_be_absent``, may be missing)."""

    values: tuple[str, ...]
    can_be_absent: bool = False

    @property
    def absent(self) -> bool:
        return self.can_be_absent

    def may_match(self, pattern: str, kind: Match) -> bool:
        if kind is Match.OPAQUE:
            return True
        return any(value_matches(v, pattern, kind) for v in self.values)

    def must_match(self, pattern: str, kind: Match) -> bool:
        if kind is Match.OPAQUE:
            return False
        return all(value_matches(v, pattern, kind) for v in self.values)


@dataclass(frozen=True, eq=False)
class Outside(Domain):
    """An identifier the attacker owns: any value the trusted set does not hold.

    ``what`` is 'account', 'org', 'org-path' or 'userid'. An attacker's principal may also be in
    no organisation at all, so organisation keys can be absent.
    """

    what: str
    trust: TrustPredicates
    can_be_absent: bool = False

    @property
    def absent(self) -> bool:
        return self.can_be_absent

    def _literal_trusted(self, literal: str) -> bool:
        if self.what == "account":
            return self.trust.trusts_account(literal)
        if self.what == "org":
            return self.trust.trusts_org(literal)
        if self.what == "org-path":
            return self.trust.trusts_org(literal.split("/", 1)[0])
        unique_id = literal.split(":", 1)[0]
        account = self.trust.account_of_unique_id(unique_id)
        return account is not None and self.trust.trusts_account(account)

    def _decisive_part(self, pattern: str) -> str:
        if self.what == "org-path":
            return pattern.split("/", 1)[0]
        if self.what == "userid":
            return pattern.split(":", 1)[0]
        return pattern

    def may_match(self, pattern: str, kind: Match) -> bool:
        if kind is Match.OPAQUE:
            return True
        part = self._decisive_part(pattern)
        if kind is Match.GLOB and _has_wildcard(part):
            return True
        return not self._literal_trusted(part)

    def must_match(self, pattern: str, kind: Match) -> bool:
        return kind is Match.GLOB and self._decisive_part(pattern).strip("*") == ""


@dataclass(frozen=True, eq=False)
class PrincipalArns(Domain):
    """ARNs of principals in one account, or (``account`` None) in an account the attacker owns."""

    account: str | None
    trust: TrustPredicates
    can_be_absent: bool = False

    @property
    def absent(self) -> bool:
        return self.can_be_absent

    def _account_field(self, pattern: str) -> str | None:
        parts = pattern.split(":", 5)
        return parts[4] if len(parts) >= 6 else None

    def may_match(self, pattern: str, kind: Match) -> bool:
        if pattern.strip("*") == "" and kind is Match.GLOB:
            return True
        field_ = self._account_field(pattern)
        if field_ is None:
            return False
        if self.account is None:
            if kind is Match.GLOB and _has_wildcard(field_):
                return True
            return not self.trust.trusts_account(field_)
        if kind is Match.GLOB:
            return _glob(field_, False).match(self.account) is not None
        return field_ == self.account

    def must_match(self, pattern: str, kind: Match) -> bool:
        if kind is not Match.GLOB:
            return False
        if pattern.strip("*") == "":
            return True
        account = self.account or "\x00"
        sample = f"arn:aws:iam::{account}:\x00/\x00"
        return _glob(pattern, False).match(sample) is not None


def condition_truth(condition: Condition, domain: Domain) -> Truth:
    """Whether one condition holds, given what its key may hold."""
    parts = condition.parts
    if parts.base == "null":
        wants_absent = any(v.lower() == "true" for v in condition.values)
        can = domain.absent if wants_absent else domain.present
        must = not domain.present if wants_absent else not domain.absent
        return Truth.ALWAYS if must else Truth.MAYBE if can else Truth.NEVER
    kind = _match_kind(parts.base)
    negated = parts.negated
    # Truth when the key is present.
    if domain.present:
        some = any(domain.may_match(v, kind) for v in condition.values)
        every = any(domain.must_match(v, kind) for v in condition.values)
        if negated:
            some, every = not every, not some
        if kind is Match.OPAQUE:
            some, every = True, False
    else:
        some = every = False
    # Truth when the key is absent.
    if parts.if_exists or parts.qualifier == "forallvalues":
        absent_result = True
    elif negated:
        absent_result = parts.qualifier != "foranyvalue"
    else:
        absent_result = False
    possible = (domain.present and some) or (domain.absent and absent_result)
    certain = (not domain.present or every) and (not domain.absent or absent_result)
    if certain and (domain.present or domain.absent):
        return Truth.ALWAYS
    return Truth.MAYBE if possible else Truth.NEVER


# -- the request model -------------------------------------------------------------------------


class CallerKind(enum.Enum):
    OUTSIDER = "outsider"
    """An authenticated principal of an account outside the trusted set."""
    ANONYMOUS = "anonymous"
    INSIDER = "insider"
    """An ordinary principal of a trusted account (without exception tags)."""
    SERVICE = "service"
    """An AWS service principal."""
    ACCOUNT = "account"
    """The principals of one account a policy names."""


@dataclass(frozen=True)
class Caller:
    kind: CallerKind
    account: str | None = None
    """For ACCOUNT callers: the account id, or the unique id that could not be resolved."""

    def describe(self) -> str:
        if self.kind is CallerKind.ACCOUNT:
            return f"principals of {self.account}"
        return {
            CallerKind.OUTSIDER: "principals of any other account",
            CallerKind.ANONYMOUS: "anonymous callers",
            CallerKind.INSIDER: "your own principals",
            CallerKind.SERVICE: "AWS service principals",
        }[self.kind]


OUTSIDER = Caller(CallerKind.OUTSIDER)
ANONYMOUS = Caller(CallerKind.ANONYMOUS)
INSIDER = Caller(CallerKind.INSIDER)
SERVICE = Caller(CallerKind.SERVICE)


class Owner(enum.Enum):
    ATTACKER = "attacker"
    """A resource an attacker creates for the purpose (any bucket, a table in any account)."""
    TRUSTED = "trusted"
    """Some resource of the trusted accounts that the policy does not name."""
    NAMED = "named"
    """A resource the policy names (its owner is whatever the ARN says, often unknown)."""


@dataclass(frozen=True)
class Target:
    """The resource of a request: its ARN (wildcards stand for attacker-chosen text)."""

    arn: str
    owner: Owner
    account: str | None = None
    """The owning account, when the ARN says it."""
    presumed: Owner | None = None
    """For a named resource whose ARN does not say its owner (an S3 bucket): the owner this
    target supposes, ATTACKER or TRUSTED. Such a resource is judged twice, once each way, so
    that conditions on its owner are judged together rather than each on its own."""

    @property
    def arbitrary(self) -> bool:
        return self.owner is Owner.ATTACKER

    @property
    def named(self) -> bool:
        return self.owner is Owner.NAMED

    def owner_for(self, trust: TrustPredicates) -> Owner | None:
        """ATTACKER or TRUSTED when it is known or supposed; None when not (an account whose
        organisation membership is unknown to ``trust``)."""
        if self.owner is not Owner.NAMED:
            return self.owner
        if self.presumed is not None:
            return self.presumed
        if self.account is None:
            return None
        return Owner.TRUSTED if trust.trusts_account(self.account) else Owner.ATTACKER


IDENTITY_KEYS = frozenset(
    {
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:userid",
    }
)
SERVICE_PRINCIPAL_KEYS = frozenset(
    {"aws:principalisawsservice", "aws:principalservicename", "aws:principalservicenameslist"}
)
RESOURCE_KEYS = frozenset(
    {"aws:resourceorgid", "aws:resourceorgpaths", "aws:resourceaccount", "s3:resourceaccount"}
)
# Keys a caller chooses freely, or that describe its session; present only for signed requests.
_CALLER_CHOSEN_PREFIXES = ("aws:principaltag/",)
_CALLER_CHOSEN_KEYS = frozenset(
    {
        "aws:principaltype",
        "aws:username",
        "aws:sourceidentity",
        "aws:federatedprovider",
        "aws:tokenissuetime",
        "aws:multifactorauthage",
        "aws:multifactorauthpresent",
        "aws:assumedroot",
        "aws:ec2instancesourcevpc",
        "aws:ec2instancesourceprivateipv4",
        "aws:signinsessionarn",
    }
)
# Set only where an AWS service principal calls for a resource owner ("the aws:SourceAccount
# condition key is only available when the call to your resource is made directly by an AWS
# service principal",
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html): a
# caller's own request through the endpoint carries none of them.
_SERVICE_SOURCE_KEYS = frozenset(
    {
        "aws:sourceaccount",
        "aws:sourcearn",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:sourceowner",
    }
)
# Requests through an endpoint come from inside the VPC, made by the caller itself: not
# forwarded by an AWS service on its behalf.
_DIRECT_CALL_KEYS = {
    "aws:viaawsservice": Fixed(("false",)),
    "aws:calledvia": ABSENT,
    "aws:calledviafirst": ABSENT,
    "aws:calledvialast": ABSENT,
    "aws:viaawsmcpservice": Fixed(("false",)),
    "aws:calledviaawsmcp": ABSENT,
}


@dataclass(frozen=True)
class RequestContext:
    """One request, and what its condition keys may hold."""

    caller: Caller
    action: str
    target: Target
    trust: TrustPredicates

    def domain(self, key: str) -> Domain:
        if key == "aws:sourceip":
            return ABSENT
        if key in _DIRECT_CALL_KEYS:
            return _DIRECT_CALL_KEYS[key]
        if key in _SERVICE_SOURCE_KEYS:
            return ANY if self.caller.kind is CallerKind.SERVICE else ABSENT
        if key in IDENTITY_KEYS or key in SERVICE_PRINCIPAL_KEYS:
            return self._identity(key)
        if key in _CALLER_CHOSEN_KEYS or key.startswith(_CALLER_CHOSEN_PREFIXES):
            return self._caller_chosen(key)
        if key in RESOURCE_KEYS:
            return self._resource(key)
        if key.startswith("aws:") and not is_known_global_key(key):
            return ABSENT  # a key AWS never sets: a typo
        return ANY

    def variable_truth(self, condition: Condition) -> Truth:
        """A condition whose value is a policy variable.

        The one form endpoint policies use is "the resource is the caller's own":
        ``aws:ResourceAccount`` (or ``s3:ResourceAccount``) equal to ``${aws:PrincipalAccount}``,
        ``aws:ResourceOrgID`` equal to ``${aws:PrincipalOrgID}``. A variable that cannot be
        resolved (the caller has no such key) makes the statement invalid: it matches nothing
        (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html).
        Other uses are not modelled and may go either way.
        """
        parts = condition.parts
        values = sorted({value.lower() for value in condition.values})
        what = _OWN_RESOURCE_VARIABLES.get((condition.key, values[0])) if len(values) == 1 else None
        if what is None or parts.qualifier or parts.base not in _STRING_COMPARISONS:
            return Truth.MAYBE
        kind = self.caller.kind
        # Unsigned requests carry aws:PrincipalAccount = "anonymous" but no aws:PrincipalOrgID
        # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
        if kind is CallerKind.SERVICE or (kind is CallerKind.ANONYMOUS and what == "org"):
            return Truth.NEVER  # the caller has no such key: the variable does not resolve
        own = self._resource_is_callers(what)
        return own.negated() if parts.negated else own

    def _resource_is_callers(self, what: str) -> Truth:
        """Whether the request's resource belongs to the caller's own account (or org)."""
        caller, target, trust = self.caller, self.target, self.trust
        if caller.kind is CallerKind.ANONYMOUS:
            return Truth.NEVER  # its account is "anonymous", which owns nothing
        if what == "account" and target.account and caller.kind is CallerKind.ACCOUNT:
            return Truth.ALWAYS if target.account == caller.account else Truth.NEVER
        caller_trusted = caller.kind is CallerKind.INSIDER or (
            caller.kind is CallerKind.ACCOUNT and trust.trusts_account(caller.account or "")
        )
        owner = target.owner_for(trust)
        if owner is Owner.ATTACKER:
            return Truth.NEVER if caller_trusted else Truth.MAYBE
        if owner is Owner.TRUSTED:
            return Truth.MAYBE if caller_trusted else Truth.NEVER
        return Truth.MAYBE

    def _caller_chosen(self, key: str) -> Domain:
        kind = self.caller.kind
        if kind in {CallerKind.ANONYMOUS, CallerKind.SERVICE}:
            return ABSENT
        if kind is CallerKind.INSIDER and key.startswith("aws:principaltag/"):
            return ORDINARY_TAG
        return ANY

    def _identity(self, key: str) -> Domain:
        caller, trust = self.caller, self.trust
        kind = caller.kind
        if key in SERVICE_PRINCIPAL_KEYS:
            if key == "aws:principalisawsservice":
                if kind is CallerKind.ANONYMOUS:
                    return ABSENT
                return Fixed(("true",) if kind is CallerKind.SERVICE else ("false",))
            return Domain() if kind is CallerKind.SERVICE else ABSENT
        if kind is CallerKind.ANONYMOUS and key == "aws:principalaccount":
            return Fixed(("anonymous",))  # AWS sets it so for unsigned requests
        if kind in {CallerKind.ANONYMOUS, CallerKind.SERVICE}:
            return ABSENT
        if kind is CallerKind.OUTSIDER:
            return {
                "aws:principalorgid": Outside("org", trust, can_be_absent=True),
                "aws:principalorgpaths": Outside("org-path", trust, can_be_absent=True),
                "aws:principalaccount": Outside("account", trust),
                "aws:principalarn": PrincipalArns(None, trust),
                "aws:userid": Outside("userid", trust),
            }[key]
        if kind is CallerKind.INSIDER:
            # Some trusted principal: any trusted value, never an untrusted one.
            return _Inside(_IDENTITY_KEY_KINDS.get(key, "other"), trust)
        account = caller.account or ""
        if key == "aws:principalaccount":
            return Fixed((account,))
        if key == "aws:principalarn":
            return PrincipalArns(account, trust)
        if ACCOUNT_ID.fullmatch(account) and not trust.trusts_account(account):
            if key == "aws:principalorgid":
                return Outside("org", trust, can_be_absent=True)
            if key == "aws:principalorgpaths":
                return Outside("org-path", trust, can_be_absent=True)
        return ANY

    def _resource(self, key: str) -> Domain:
        target, trust = self.target, self.trust
        what = _RESOURCE_KEY_KINDS[key]
        if what == "account" and target.account:
            return Fixed((target.account,))
        owner = target.owner_for(trust)
        if owner is Owner.ATTACKER:
            return Outside(what, trust, can_be_absent=what != "account")
        if owner is Owner.TRUSTED:
            return _Inside(what, trust)
        return ANY


_OWN_RESOURCE_VARIABLES = {
    ("aws:resourceaccount", "${aws:principalaccount}"): "account",
    ("s3:resourceaccount", "${aws:principalaccount}"): "account",
    ("aws:resourceorgid", "${aws:principalorgid}"): "org",
    # The same test written from the principal's side.
    ("aws:principalaccount", "${aws:resourceaccount}"): "account",
    ("aws:principalaccount", "${s3:resourceaccount}"): "account",
    ("aws:principalorgid", "${aws:resourceorgid}"): "org",
}
_STRING_COMPARISONS = frozenset(
    {
        "stringequals",
        "stringnotequals",
        "stringequalsignorecase",
        "stringnotequalsignorecase",
        "stringlike",
        "stringnotlike",
    }
)
_RESOURCE_KEY_KINDS = {
    "aws:resourceorgid": "org",
    "aws:resourceorgpaths": "org-path",
    "aws:resourceaccount": "account",
    "s3:resourceaccount": "account",
}
_IDENTITY_KEY_KINDS = {
    "aws:principalorgid": "org",
    "aws:principalorgpaths": "org-path",
    "aws:principalaccount": "account",
    "aws:principalarn": "arn",
}


@dataclass(frozen=True, eq=False)
class _Inside(Domain):
    """Some value of the trusted set (a trusted principal's or resource's account, org, ...)."""

    what: str
    trust: TrustPredicates

    def may_match(self, pattern: str, kind: Match) -> bool:
        if kind is Match.OPAQUE or _has_wildcard(pattern):
            return True
        if self.what == "account":
            return self.trust.trusts_account(pattern)
        if self.what == "org":
            return self.trust.trusts_org(pattern)
        if self.what == "org-path":
            return self.trust.trusts_org(pattern.split("/", 1)[0])
        if self.what == "arn":
            account = principal_account(pattern)
            return account is None or self.trust.trusts_account(account)
        return True


def statement_truth(statement: Statement, request: RequestContext, *, action: bool = True) -> Truth:
    """Whether the statement matches the request (principal, action, resource, conditions);
    with ``action=False`` the action is not considered (the caller checks it)."""
    truth = min(principal_truth(statement, request), resource_truth(statement, request.target))
    if action and not statement_allows_action(statement, request.action):
        return Truth.NEVER
    if truth is Truth.NEVER:
        return truth
    for condition in statement.conditions:
        if condition.uses_variables:
            truth = min(truth, request.variable_truth(condition))
        else:
            truth = min(truth, condition_truth(condition, request.domain(condition.key)))
        if truth is Truth.NEVER:
            break
    return truth


def principal_truth(statement: Statement, request: RequestContext) -> Truth:
    if statement.principals is not None:
        return max(
            (_principal_match(p, request) for p in statement.principals), default=Truth.NEVER
        )
    if statement.not_principals is not None:
        listed = max(
            (_principal_match(p, request) for p in statement.not_principals),
            default=Truth.NEVER,
        )
        return listed.negated()
    # No Principal element: AWS reads an endpoint policy statement without one as applying to
    # every principal (VPCE105 reports the omission).
    return Truth.ALWAYS


def _principal_match(principal: Principal, request: RequestContext) -> Truth:
    caller, trust = request.caller, request.trust
    if principal.is_everyone:
        return Truth.ALWAYS
    if principal.kind == "Service":
        return Truth.MAYBE if caller.kind is CallerKind.SERVICE else Truth.NEVER
    if principal.kind != "AWS" or not is_valid_aws_principal(principal.value):
        return Truth.NEVER
    account = principal_account(principal.value)
    if account is None:  # a unique id
        account = trust.account_of_unique_id(principal.value)
        if account is None:
            # No principal of the scanned accounts has it: IAM shows a deleted principal so, and
            # a deleted principal signs nothing. Only the caller standing for the id itself
            # matches it, for VPCE104 to report it as unknown.
            named_itself = caller.kind is CallerKind.ACCOUNT and caller.account == principal.value
            return Truth.MAYBE if named_itself else Truth.NEVER
    whole_account = bool(ACCOUNT_ID.fullmatch(principal.value)) or principal.value.endswith(":root")
    if caller.kind is CallerKind.ACCOUNT:
        if caller.account != account:
            return Truth.NEVER
        return Truth.ALWAYS if whole_account else Truth.MAYBE
    if caller.kind is CallerKind.INSIDER:
        return Truth.MAYBE if trust.trusts_account(account) else Truth.NEVER
    return Truth.NEVER


def statement_allows_action(statement: Statement, action: str) -> bool:
    if statement.actions is not None:
        return any(action_matches(pattern, action) for pattern in statement.actions)
    if statement.not_actions is not None:
        return not any(action_matches(pattern, action) for pattern in statement.not_actions)
    return False


def resource_truth(statement: Statement, target: Target) -> Truth:
    if statement.resources is not None:
        hit = any(_resource_matches(p, target.arn) for p in statement.resources)
        return Truth.ALWAYS if hit else Truth.NEVER
    if statement.not_resources is not None:
        hit = any(_resource_matches(p, target.arn) for p in statement.not_resources)
        return Truth.NEVER if hit else Truth.ALWAYS
    return Truth.NEVER


def action_matches(pattern: str, action: str) -> bool:
    """IAM action matching: case-insensitive, ``*`` and ``?`` wildcards."""
    return _glob(pattern, True).match(action.lower()) is not None


def _resource_matches(pattern: str, arn: str) -> bool:
    # ARNs match case-sensitively; * and ? are wildcards, also across ':' and '/'.
    return _glob(pattern, False).match(arn) is not None


# -- the endpoint's service --------------------------------------------------------------------


@dataclass(frozen=True)
class Prefixes:
    """The IAM action prefixes an endpoint's service accepts, and its primary one."""

    primary: str
    short_name: str

    def applies(self, action_pattern: str) -> bool:
        """Whether an Action pattern can name an action of this service."""
        if ":" not in action_pattern:
            return action_pattern.strip("*") == ""
        prefix = action_pattern.split(":", 1)[0].lower()
        if _has_wildcard(prefix):
            return _glob(prefix, True).match(self.primary) is not None
        return (
            prefix in {self.primary, self.short_name}
            or self.short_name.startswith(prefix + "-")
            or self.short_name.startswith(prefix + ".")
        )


@functools.lru_cache(maxsize=4096)
def prefixes_for_service(service_name: str) -> Prefixes:
    return Prefixes(
        primary=iam_action_prefix(service_name),
        short_name=service_short_name(service_name).removesuffix("-fips"),
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
WRITE_ACTIONS = {"s3": S3_WRITE_ACTIONS, "dynamodb": DYNAMODB_WRITE_ACTIONS}
DATA_SERVICES = frozenset(WRITE_ACTIONS)
"""Services whose endpoints carry data to resources of any account (gateway endpoints exist for
both): a policy that lets data out through them is the classic exfiltration path."""

# An action whose name starts with one of these verbs reads (IAM access levels Read / List).
_READ_VERBS = ("get", "list", "describe", "head", "batchget", "query", "scan", "search", "lookup")


def is_read_only_action(action: str) -> bool:
    prefix, _, name = action.partition(":")
    if action in WRITE_ACTIONS.get(prefix.lower(), ()):
        return False
    return name.lower().startswith(_READ_VERBS)


def _instantiate(pattern: str) -> str:
    """A concrete value a wildcard pattern stands for: wildcards become unlikely characters."""
    return pattern.replace("*", "\x00").replace("?", "\x01")


def instantiated_pattern(value: str) -> str | None:
    """The wildcard pattern ``_instantiate`` made ``value`` from (a candidate action such as
    ``sts:AssumeRoleWith*``), or None for a value that stands for itself."""
    if "\x00" not in value and "\x01" not in value:
        return None
    return value.replace("\x00", "*").replace("\x01", "?")


def candidate_actions(policy: Policy, prefixes: Prefixes) -> tuple[str, ...]:
    """Actions worth evaluating: the service's known writes, one action no policy names (only
    "every action" patterns match it), and every action the policy names or implies."""
    found: dict[str, None] = {}
    for action in WRITE_ACTIONS.get(prefixes.primary, ()):
        found[action] = None
    found[f"{prefixes.primary}:\x00"] = None
    for statement in policy.statements:
        for pattern in (*(statement.actions or ()), *(statement.not_actions or ())):
            if ":" in pattern and prefixes.applies(pattern):
                name = pattern.split(":", 1)[1]
                found[f"{prefixes.primary}:{_instantiate(name)}"] = None
    return tuple(found)


def _arn_account(arn: str) -> str | None:
    parts = arn.split(":", 5)
    return parts[4] if len(parts) >= 6 and parts[4] else None


def _bucket_part(arn: str) -> str:
    return arn.split(":", 5)[5].split("/", 1)[0] if arn.count(":") >= 5 else arn


def classify_resource(pattern: str, service: str) -> tuple[Target, ...]:
    """The resources a policy pattern stands for, as request targets.

    A pattern with a wildcard in its decisive part stands for resources an attacker can create
    and for some of your own: S3 bucket names are global and first come, first served, so a
    wildcard anywhere in the bucket name counts; other resources live in an account, so only a
    wildcard in the account field does. A pattern without one names a resource (its owner is
    whatever the ARN says).
    """
    arn = _instantiate(pattern)
    if pattern.strip("*") == "":
        wildcard, account = True, None
    elif service == "s3":
        wildcard, account = _has_wildcard(_bucket_part(pattern)), None
    else:
        account = _arn_account(pattern)
        wildcard = _has_wildcard(account if account is not None else pattern)
    if wildcard:
        return (Target(arn, Owner.ATTACKER), Target(arn + "\x02", Owner.TRUSTED))
    if account is None:
        return tuple(
            Target(arn, Owner.NAMED, presumed=owner) for owner in (Owner.ATTACKER, Owner.TRUSTED)
        )
    return (Target(arn, Owner.NAMED, account=account),)


def unnamed_targets(service: str, partition: str, region: str) -> tuple[Target, ...]:
    """Resources no policy names: an attacker's, created for the purpose, and one of your own.

    Their names use characters no real name has, so only wildcards match them.
    """
    found = []
    for owner in (Owner.ATTACKER, Owner.TRUSTED):
        tag = owner.value
        if service == "s3":
            found += [
                Target(f"arn:{partition}:s3:::\x00{tag}-bucket", owner),
                Target(f"arn:{partition}:s3:::\x00{tag}-bucket/\x00key", owner),
            ]
        elif service == "dynamodb":
            found.append(
                Target(f"arn:{partition}:dynamodb:{region}:\x00{tag}:table/\x00table", owner)
            )
        else:
            found.append(
                Target(f"arn:{partition}:{service}:{region}:\x00{tag}:\x00resource", owner)
            )
    return tuple(found)


def candidate_targets(
    policy: Policy, service: str, partition: str, region: str
) -> tuple[Target, ...]:
    found: dict[tuple[str, Owner | None], Target] = {
        (t.arn, t.presumed): t for t in unnamed_targets(service, partition, region)
    }
    for statement in policy.statements:
        for pattern in (*(statement.resources or ()), *(statement.not_resources or ())):
            for target in classify_resource(pattern, service):
                found.setdefault((target.arn, target.presumed), target)
    return tuple(found.values())


# -- evaluating requests -----------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    caller: Caller
    action: str
    target: Target


@dataclass(frozen=True)
class Verdict:
    """The outcome of one request: which Allow statements may let it through, and whether a
    Deny certainly stops it."""

    request: Request
    allowing: tuple[Statement, ...]
    denied_by: Statement | None

    @property
    def allowed(self) -> bool:
        return bool(self.allowing) and self.denied_by is None


@dataclass
class PolicyEvaluator:
    """Evaluates requests against one policy for one endpoint."""

    policy: Policy
    prefixes: Prefixes
    trust: TrustPredicates
    partition: str = "aws"
    region: str = "us-east-1"
    _cache: dict[Request, Verdict] = field(default_factory=dict)
    # A statement's truth splits into parts that depend on the action only, and parts that
    # depend on the caller and the resource only; each is computed once.
    _action_part: dict[tuple[int, str], bool] = field(default_factory=dict)
    _rest: dict[tuple[int, Caller, Target], Truth] = field(default_factory=dict)

    @property
    def service(self) -> str:
        return self.prefixes.primary

    @cached_property
    def actions(self) -> tuple[str, ...]:
        return candidate_actions(self.policy, self.prefixes)

    @cached_property
    def targets(self) -> tuple[Target, ...]:
        return candidate_targets(self.policy, self.service, self.partition, self.region)

    def truth(self, statement: Statement, request: Request) -> Truth:
        action_key = (statement.index, request.action)
        allows = self._action_part.get(action_key)
        if allows is None:
            allows = self._action_part[action_key] = statement_allows_action(
                statement, request.action
            )
        if not allows:
            return Truth.NEVER
        rest_key = (statement.index, request.caller, request.target)
        rest = self._rest.get(rest_key)
        if rest is None:
            context = RequestContext(request.caller, request.action, request.target, self.trust)
            rest = self._rest[rest_key] = statement_truth(statement, context, action=False)
        return rest

    def verdict(self, request: Request) -> Verdict:
        cached = self._cache.get(request)
        if cached is not None:
            return cached
        allowing = tuple(
            s
            for s in self.policy.allows
            if self.applies(s) and self.truth(s, request) is not Truth.NEVER
        )
        denied_by = None
        if allowing:
            denied_by = next(
                (s for s in self.policy.denies if self.truth(s, request) is Truth.ALWAYS), None
            )
        verdict = Verdict(request, allowing, denied_by)
        self._cache[request] = verdict
        return verdict

    def applies(self, statement: Statement) -> bool:
        """Whether the statement's actions can name an action of the endpoint's service."""
        if statement.actions is None:
            return statement.not_actions is not None
        return any(self.prefixes.applies(pattern) for pattern in statement.actions)

    def requests(
        self,
        callers: Iterable[Caller],
        actions: Iterable[str] | None = None,
        targets: Iterable[Target] | None = None,
    ) -> Iterator[Request]:
        action_list = tuple(self.actions if actions is None else actions)
        target_list = tuple(self.targets if targets is None else targets)
        for caller in callers:
            for action in action_list:
                for target in target_list:
                    yield Request(caller, action, target)

    def allowed(self, requests: Iterable[Request]) -> list[Verdict]:
        return [v for v in (self.verdict(r) for r in requests) if v.allowed]


def named_accounts(policy: Policy, trust: TrustPredicates) -> tuple[Caller, ...]:
    """One caller per untrusted account (or unresolved unique id) the policy names as a
    principal, in any statement: an Allow that names it grants it something, and a Deny that
    names it in ``NotPrincipal`` exempts it from the Deny, which the generic outsider (some other
    account) cannot tell. Principals of trusted accounts are insiders: the INSIDER caller stands
    for them."""
    found: dict[str, None] = {}
    for statement in policy.statements:
        for principal in (*(statement.principals or ()), *(statement.not_principals or ())):
            if principal.kind != "AWS" or principal.is_everyone:
                continue
            if not is_valid_aws_principal(principal.value):
                continue
            account = principal_account(principal.value)
            if account is None and UNIQUE_PRINCIPAL_ID.match(principal.value):
                account = trust.account_of_unique_id(principal.value) or principal.value
            if account is not None and not trust.trusts_account(account):
                found[account] = None
    return tuple(Caller(CallerKind.ACCOUNT, account) for account in found)


# -- policy shapes -----------------------------------------------------------------------------


def always_true_through_endpoint(condition: Condition) -> bool:
    """A condition every request through an endpoint satisfies (aws:SourceIp is absent there, so
    NotIpAddress and ...IfExists forms hold)."""
    if condition.key != "aws:sourceip":
        return False
    parts = condition.parts
    return parts.if_exists or parts.base == "notipaddress"


def never_true_through_endpoint(condition: Condition) -> bool:
    """A condition no request through an endpoint satisfies (IpAddress on aws:SourceIp)."""
    parts = condition.parts
    return condition.key == "aws:sourceip" and parts.base == "ipaddress" and not parts.if_exists


# Two action names that no real action equals; a pattern matching both matches every action of
# the service, because only a wildcard can stand for an arbitrary suffix.
_UNLIKELY_ACTIONS = ("\x00", "\x01\x02\x03")


def covers_all_actions(pattern: str, action_prefix: str) -> bool:
    """Whether one Action pattern grants every action of the service (``*``, ``s3:*``, ...)."""
    return all(action_matches(pattern, f"{action_prefix}:{name}") for name in _UNLIKELY_ACTIONS)


def policy_text_is_full_access(text: str | None, action_prefix: str) -> bool:
    """``is_full_access`` of endpoint-policy text; False when it does not parse. Cached: estates
    give thousands of endpoints the same few policies."""
    return _text_is_full_access(text, action_prefix)


@functools.lru_cache(maxsize=4096)
def _text_is_full_access(text: str | None, action_prefix: str) -> bool:
    try:
        return is_full_access(parse_policy(text), action_prefix)
    except PolicyParseError:
        return False


def is_full_access(policy: Policy, action_prefix: str) -> bool:
    """Everyone may do everything to everything, unconditionally, with nothing denied.

    The shape of the AWS default endpoint policy: an Allow statement with Principal ``*``,
    every action of the service, Resource ``*``, no Condition (conditions every request through
    an endpoint satisfies do not count) and no Not* element, in a policy without Deny.
    """
    if policy.denies:
        return False
    return any(_is_unrestricted_allow(statement, action_prefix) for statement in policy.allows)


def _is_unrestricted_allow(statement: Statement, action_prefix: str) -> bool:
    if any(not always_true_through_endpoint(c) for c in statement.conditions):
        return False
    if statement.not_principals is not None:
        return False
    if statement.not_actions is not None or statement.not_resources is not None:
        return False
    return (
        statement.applies_to_everyone
        and any(covers_all_actions(a, action_prefix) for a in statement.actions or ())
        and "*" in (statement.resources or ())
    )


@functools.cache
def _known_global_keys() -> tuple[frozenset[str], frozenset[str], tuple[str, ...]]:
    keys = global_condition_keys()
    exact = frozenset(k.name.lower() for k in keys if not k.name.endswith("/*"))
    multivalued = frozenset(k.name.lower() for k in keys if k.multivalued)
    prefixes = tuple(k.name.lower()[:-1] for k in keys if k.name.endswith("/*"))
    return exact, multivalued, prefixes


def is_known_global_key(key: str) -> bool:
    exact, _, prefixes = _known_global_keys()
    return key in exact or key in LEGACY_GLOBAL_KEYS or key.startswith(prefixes)


def is_multivalued_global_key(key: str) -> bool:
    return key in _known_global_keys()[1]


@functools.cache
def _spellings() -> dict[str, str]:
    return {k.name.lower(): k.name for k in global_condition_keys()}


def spelled_key(key: str) -> str:
    """A lower-cased global condition key as AWS writes it (aws:PrincipalOrgID), for messages."""
    return _spellings().get(key, key)


LEGACY_GLOBAL_KEYS = frozenset({"aws:sourceowner"})
"""Keys some services still set although the global-key page no longer lists them."""
