"""Who counts as trusted: the scanned accounts, their organisation and its members, and the
organisations and accounts the configuration adds.

Organisation ids come from DescribeOrganization, which even a member account may call; the member
list from ListAccounts, which only the management account or a delegated administrator may call.
Where the list could not be read, an account that is neither scanned nor configured *may* belong
to the scanned organisation: its trust is ``UNKNOWN``, and rules say so (at low severity) instead
of calling it untrusted. Members of *configured* partner organisations are never listed: an
account id of a partner is trusted only when ``trusted_account_ids`` names it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from vpce_audit.model import ACCOUNT_ID

ACCOUNT_IN_ARN = re.compile(r"^arn:aws[a-z-]*:(?:iam|sts)::([^:]*):")
# An organisation, or an OU inside it: endpoint-service permissions may name either.
ORG_IN_ARN = re.compile(
    r"^arn:aws[a-z-]*:organizations::[^:]*:(?:organization|ou)/(o-[a-z0-9]+)(?:/[^*?]*)?$"
)
UNIQUE_ID_PATTERN = r"A(?:RO|ID)A[A-Z0-9]{12,}"
UNIQUE_PRINCIPAL_ID = re.compile(rf"^{UNIQUE_ID_PATTERN}$")
"""An IAM role (AROA...) or user (AIDA...) unique id."""
VALID_PRINCIPAL_ARN = re.compile(
    r"^arn:aws[a-z-]*:(?:"
    r"iam::\d{12}:(?:root|user/[^*?]+|role/[^*?]+|federated-user/[^*?]+)"
    r"|sts::\d{12}:(?:assumed-role/[^*?]+|federated-user/[^*?]+)"
    r")$"
)


class Trust(enum.Enum):
    TRUSTED = "trusted"
    UNTRUSTED = "untrusted"
    UNKNOWN = "unknown"
    """Not scanned or configured, and the organisation's member list could not be read."""


@dataclass(frozen=True)
class TrustedSet:
    account_ids: frozenset[str]
    org_ids: frozenset[str]
    orgs_with_unknown_members: frozenset[str] = frozenset()
    """Scanned organisations whose member list could not be read."""
    principal_accounts: Mapping[str, str] = field(default_factory=dict)
    """IAM unique id -> account id, for the roles and users of scanned accounts."""

    @classmethod
    def build(
        cls,
        scanned_accounts: Iterable[str],
        scanned_org_ids: Iterable[str | None],
        configured_accounts: Iterable[str] = (),
        configured_orgs: Iterable[str] = (),
        *,
        member_accounts: Iterable[str] = (),
        orgs_with_unknown_members: Iterable[str] = (),
        principal_accounts: Mapping[str, str] | None = None,
    ) -> TrustedSet:
        return cls(
            account_ids=frozenset(scanned_accounts)
            | frozenset(configured_accounts)
            | frozenset(member_accounts),
            org_ids=frozenset(o for o in scanned_org_ids if o) | frozenset(configured_orgs),
            orgs_with_unknown_members=frozenset(orgs_with_unknown_members),
            principal_accounts=dict(principal_accounts or {}),
        )

    @property
    def membership_known(self) -> bool:
        return not self.orgs_with_unknown_members

    def account_trust(self, account_id: str) -> Trust:
        if account_id in self.account_ids:
            return Trust.TRUSTED
        return Trust.UNTRUSTED if self.membership_known else Trust.UNKNOWN

    def trusts_account(self, account_id: str) -> bool:
        """Strict: only accounts known to be trusted."""
        return account_id in self.account_ids

    def trusts_org(self, org_id: str) -> bool:
        return org_id in self.org_ids

    def assuming_unknown_trusted(self) -> TrustView:
        return TrustView(self, unknown_is_trusted=True)

    def assuming_unknown_untrusted(self) -> TrustView:
        return TrustView(self, unknown_is_trusted=False)

    def account_of_unique_id(self, unique_id: str) -> str | None:
        return self.principal_accounts.get(unique_id)


@dataclass(frozen=True)
class TrustView:
    """A two-valued reading of a TrustedSet: accounts of unknown membership are taken as trusted
    (what is flagged then is certainly outside) or as untrusted (what is flagged then may be)."""

    trusted: TrustedSet
    unknown_is_trusted: bool

    def trusts_account(self, account_id: str) -> bool:
        trust = self.trusted.account_trust(account_id)
        return trust is Trust.TRUSTED or (trust is Trust.UNKNOWN and self.unknown_is_trusted)

    def trusts_org(self, org_id: str) -> bool:
        return self.trusted.trusts_org(org_id)

    def account_of_unique_id(self, unique_id: str) -> str | None:
        return self.trusted.account_of_unique_id(unique_id)


def principal_account(principal: str) -> str | None:
    """The account a principal belongs to: a bare id, or the account field of an IAM/STS ARN.

    Returns None when the principal names no single account (a wildcard, a service, junk).
    """
    if ACCOUNT_ID.fullmatch(principal):
        return principal
    match = ACCOUNT_IN_ARN.match(principal)
    if match and ACCOUNT_ID.fullmatch(match.group(1)):
        return match.group(1)
    return None


def is_valid_aws_principal(principal: str) -> bool:
    """Whether IAM accepts the value in a policy's ``Principal: {"AWS": ...}``: ``*``, an account
    id, an IAM / STS principal ARN without wildcards, or a unique id AWS stored in its place."""
    return bool(
        principal == "*"
        or ACCOUNT_ID.fullmatch(principal)
        or VALID_PRINCIPAL_ARN.match(principal)
        or UNIQUE_PRINCIPAL_ID.match(principal)
    )


def principal_is_trusted(principal: str, trusted: TrustedSet) -> bool:
    """For principals that name accounts or organisations (endpoint-service permissions, policy
    Principal elements). Wildcards are never trusted."""
    return principal_trust(principal, trusted) is Trust.TRUSTED


def principal_trust(principal: str, trusted: TrustedSet) -> Trust:
    """Trust of an endpoint-service permission principal or policy principal. Wildcards and values
    that name no account are untrusted."""
    org = ORG_IN_ARN.match(principal)
    if org:
        return Trust.TRUSTED if trusted.trusts_org(org.group(1)) else Trust.UNTRUSTED
    account = principal_account(principal)
    if account is None and UNIQUE_PRINCIPAL_ID.match(principal):
        account = trusted.account_of_unique_id(principal)
        if account is None:
            return Trust.UNKNOWN
    if account is None:
        return Trust.UNTRUSTED
    return trusted.account_trust(account)
