"""Who counts as trusted: the scanned accounts, their organisation, and configured extras.

Organisation ids come from DescribeOrganization, which even a member account may call. When an
organisation is enumerated, its member accounts will join the trusted accounts here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

ACCOUNT_IN_ARN = re.compile(r"^arn:aws[a-z-]*:(?:iam|sts)::([^:]*):")
# An organisation, or an OU inside it: endpoint-service permissions may name either.
ORG_IN_ARN = re.compile(
    r"^arn:aws[a-z-]*:organizations::[^:]*:(?:organization|ou)/(o-[a-z0-9]+)(?:/[^*?]*)?$"
)
ACCOUNT_ID = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class TrustedSet:
    account_ids: frozenset[str]
    org_ids: frozenset[str]

    @classmethod
    def build(
        cls,
        scanned_accounts: Iterable[str],
        scanned_org_ids: Iterable[str | None],
        configured_accounts: Iterable[str] = (),
        configured_orgs: Iterable[str] = (),
    ) -> TrustedSet:
        return cls(
            account_ids=frozenset(scanned_accounts) | frozenset(configured_accounts),
            org_ids=frozenset(o for o in scanned_org_ids if o) | frozenset(configured_orgs),
        )

    def trusts_account(self, account_id: str) -> bool:
        return account_id in self.account_ids

    def trusts_org(self, org_id: str) -> bool:
        return org_id in self.org_ids


def principal_account(principal: str) -> str | None:
    """The account a principal belongs to: a bare id, or the account field of an IAM/STS ARN.

    Returns None when the principal names no single account (a wildcard, a service, junk).
    """
    if ACCOUNT_ID.match(principal):
        return principal
    match = ACCOUNT_IN_ARN.match(principal)
    if match and ACCOUNT_ID.match(match.group(1)):
        return match.group(1)
    return None


def principal_is_trusted(principal: str, trusted: TrustedSet) -> bool:
    """For principals that name accounts or organisations (endpoint-service permissions, policy
    Principal elements). Wildcards are never trusted."""
    org = ORG_IN_ARN.match(principal)
    if org:
        return trusted.trusts_org(org.group(1))
    account = principal_account(principal)
    return account is not None and trusted.trusts_account(account)
