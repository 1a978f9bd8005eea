"""Which accounts a scan covers, and the credentials for each.

One account by default: the one the credentials belong to. ``--org`` lists the organisation's
ACTIVE accounts (``organizations:ListAccounts``, answered only in the management account or a
delegated administrator) and assumes ``--role-name`` in every member; ``--role-arn`` names roles
in other accounts directly; ``--profile`` may repeat. The scanning account always uses its own
credentials. Assumed credentials are refreshed by botocore before they expire, so a scan may
outlive a one-hour role session.

A role that cannot be assumed is not a reason to stop: the account is recorded with an
``sts:AssumeRole`` collection error (the scan is then incomplete, exit 3) and the others are
scanned.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from vpce_audit.clock import utc_now
from vpce_audit.collect.botocore_reuse import fresh_session
from vpce_audit.collect.calls import ACCESS_DENIED_CODES, bounded_items, describe_error
from vpce_audit.collect.runner import (
    AccountWork,
    ClientFactory,
    CollectionRequest,
    CredentialsError,
    IdentityError,
    account_calls,
    caller_account,
    global_service_region,
)
from vpce_audit.collect.schedule import interruptible_pool
from vpce_audit.model import ACCOUNT_ID, GLOBAL_REGION, AccountSnapshot, CollectionError
from vpce_audit.snapshot.views import partition_for_region
from vpce_audit.text import brief

DEFAULT_ROLE_NAME = "OrganizationAccountAccessRole"
DEFAULT_SESSION_NAME = "vpce-audit"
log = logging.getLogger(__name__)

ASSUME_ROLE_IN_FLIGHT = 16
"""AssumeRole calls at once while an organisation's accounts are reached."""
ROLE_SESSION_SECONDS = 3600
# A path of up to 512 characters, then a name of up to 64, as --role-name accepts
# (https://docs.aws.amazon.com/IAM/latest/APIReference/API_Role.html).
ROLE_ARN = re.compile(
    r"arn:aws[a-z-]*:iam::([0-9]{12}):role/(?=[\w+=,.@/-]{1,576}\Z)(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}",
    re.ASCII,
)


class AssumeRoleError(Exception):
    """A role that could not be assumed (or gave another account's credentials)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class AccountSelection:
    """What the command line says about accounts."""

    org: bool = False
    role_name: str = DEFAULT_ROLE_NAME
    role_arns: tuple[str, ...] = ()
    external_id: str | None = None
    session_name: str = DEFAULT_SESSION_NAME
    accounts: frozenset[str] | None = None
    """--accounts: only these (None: every one)."""
    exclude_accounts: frozenset[str] = frozenset()

    def wanted(self, account_id: str) -> bool:
        if account_id in self.exclude_accounts:
            return False
        return self.accounts is None or account_id in self.accounts


@dataclass(frozen=True)
class Target:
    account_id: str
    role_arn: str | None
    """None: the scanning credentials' own account."""
    organization_members: tuple[str, ...] | None = None
    """With --org: every account of the organisation, as the listing account read them. A
    member may not list them itself (ListAccounts answers only in the management account or
    a delegated administrator), and without them the policy rules cannot tell a sibling
    account from an outsider when the listing account is not itself scanned."""


def role_account(role_arn: str) -> str:
    """The account of a role ARN; ValueError when it is not one."""
    match = ROLE_ARN.fullmatch(role_arn)
    if match is None:
        raise ValueError(f"{role_arn[:80]!r} is not an IAM role ARN")
    return match.group(1)


def targets(
    base: ClientFactory, home: str, caller: str, selection: AccountSelection
) -> tuple[Target, ...]:
    """The accounts to scan, the caller's first if it is one of them."""
    found: dict[str, Target] = {}
    if selection.org:
        partition = partition_for_region(home)
        active, members = organization_accounts(base, home)
        if caller not in members:
            # The management account and a delegated administrator are members: a listing
            # without the caller (or with no account) does not describe its organisation, and
            # a scan of it would be "complete" over an unknown scope.
            raise CredentialsError(
                "--org could not list the organisation's accounts: ListAccounts answered "
                f"{len(members)} account(s), and not the scanning account {caller} itself"
            )
        for member in active:
            role = None if member == caller else _role_arn(partition, member, selection.role_name)
            found[member] = Target(member, role, members)
    given: dict[str, str] = {}
    for role_arn in selection.role_arns:
        account = role_account(role_arn)
        if account in given and given[account] != role_arn:
            raise CredentialsError(
                f"--role-arn names account {account} twice ({given[account]} and {role_arn}); "
                "give one role per account"
            )
        given[account] = role_arn
        listed = found[account].organization_members if account in found else None
        found[account] = Target(account, None if account == caller else role_arn, listed)
    if not found:
        found[caller] = Target(caller, None)
    chosen = [target for target in found.values() if selection.wanted(target.account_id)]
    # An account asked for by id and not found would otherwise be left out without a word.
    absent = sorted((selection.accounts or frozenset()) - set(found))
    if absent:
        where = "an ACTIVE account of the organisation" if selection.org else "an account to scan"
        raise CredentialsError(
            f"--accounts names {', '.join(absent[:5])}"
            + (f" and {len(absent) - 5} more" if len(absent) > 5 else "")
            + f", which {'is' if len(absent) == 1 else 'are'} not {where}"
            + ("" if selection.org else " (give --org, or a --role-arn for it)")
        )
    if not chosen:
        raise CredentialsError("--accounts / --exclude-accounts leave no account to scan")
    # Not an error (an account that left the organisation may stay in a scheduled scan's
    # exclusions), but a typo would exclude nothing without a word.
    stray = sorted(selection.exclude_accounts - set(found))
    if stray:
        log.warning(
            "--exclude-accounts names %s, which %s not among the accounts to scan; nothing is "
            "excluded for %s",
            ", ".join(stray[:5]) + (f" and {len(stray) - 5} more" if len(stray) > 5 else ""),
            "is" if len(stray) == 1 else "are",
            "it" if len(stray) == 1 else "them",
        )
    return tuple(sorted(chosen, key=lambda t: (t.account_id != caller, t.account_id)))


def _role_arn(partition: str, account_id: str, role_name: str) -> str:
    return f"arn:{partition}:iam::{account_id}:role/{role_name}"


REFUSALS = ACCESS_DENIED_CODES | {
    "AWSOrganizationsNotInUseException",
    "AccessDeniedForDependencyException",
}
"""ListAccounts' ways of saying the caller may not list the organisation (as opposed to a
network or service failure)."""


def organization_accounts(
    base: ClientFactory, home: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The organisation's ACTIVE accounts (those to scan), and every account of it, whatever
    its state (the members the policy rules trust). Without them --org cannot know its scope: a
    refusal is a usage error (exit 2), not a partial scan."""
    organizations = base.client("organizations", global_service_region(home))
    try:
        paginator = organizations.get_paginator("list_accounts")
        pages = bounded_items(paginator.paginate, base.call_budget)
        accounts = [account for page in pages for account in page.get("Accounts") or ()]
    except Exception as error:
        code, message = describe_error(error)
        if code in REFUSALS:
            raise CredentialsError(
                f"--org needs organizations:ListAccounts, which answers only in the management "
                f"account or a delegated administrator ({code}: {message[:200]})"
            ) from None
        raise CredentialsError(
            f"--org could not list the organisation's accounts ({code}: {message[:200]})"
        ) from None
    malformed = [
        account.get("Id")
        for account in accounts
        if not isinstance(account.get("Id"), str) or not ACCOUNT_ID.fullmatch(account["Id"])
    ]
    if malformed:
        # Never a role ARN, a scope or a snapshot built on it: the snapshot would refuse itself
        # when read back, and no account of the organisation could be trusted to be the one
        # listed. The organisation's scope is then unknown, as when the listing is refused.
        raise CredentialsError(
            f"--org could not list the organisation's accounts: ListAccounts answered with "
            f"{len(malformed)} account id(s) that are not 12 digits, such as {brief(malformed[0])}"
        )
    # Status is deprecated in favour of State; either says whether the account is usable.
    active = [
        str(account["Id"])
        for account in accounts
        if (account.get("State") or account.get("Status")) == "ACTIVE" and account.get("Id")
    ]
    members = {str(account["Id"]) for account in accounts if account.get("Id")}
    return tuple(sorted(active)), tuple(sorted(members))


def assumed_clients(
    base: ClientFactory, home: str, role_arn: str, selection: AccountSelection
) -> ClientFactory:
    """Clients for a role in another account, with credentials botocore refreshes before they
    expire. Raises AssumeRoleError when the role cannot be assumed now."""
    from botocore.credentials import RefreshableCredentials

    sts = base.client("sts", home)
    params: dict[str, Any] = {
        "RoleArn": role_arn,
        "RoleSessionName": selection.session_name,
        "DurationSeconds": ROLE_SESSION_SECONDS,
    }
    if selection.external_id:
        params["ExternalId"] = selection.external_id

    def fetch() -> dict[str, str]:
        # sts:AssumeRole obtains credentials and changes nothing in the estate; it is the one
        # call outside the read-only allowlist (operations.CREDENTIAL_OPERATIONS).
        credentials = sts.assume_role(**params)["Credentials"]
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": credentials["Expiration"].isoformat(),
        }

    try:
        first = base.bounded(fetch)
    except Exception as error:
        code, message = describe_error(error)
        raise AssumeRoleError(code, message[:300]) from None
    session = fresh_session()
    base.share_models(session)
    # botocore's documented extension point for refreshable credentials is the session's
    # credential object; RefreshableCredentials refreshes before expiry_time.
    session._credentials = RefreshableCredentials.create_from_metadata(
        metadata=first, refresh_using=fetch, method="sts-assume-role"
    )
    session.set_config_variable("region", home)
    return base.with_session(session)


def prepare(
    base: ClientFactory,
    home: str,
    chosen: Iterable[Target],
    selection: AccountSelection,
    request: CollectionRequest,
) -> tuple[list[AccountWork], list[AccountSnapshot]]:
    """Credentials for every target: work for the reachable accounts, and a snapshot holding the
    AssumeRole error for each account whose role could not be assumed."""
    targets = list(chosen)

    def reach(target: Target) -> AccountWork | AccountSnapshot:
        if target.role_arn is None:
            clients = base
        else:
            try:
                clients = assumed_clients(base, home, target.role_arn, selection)
            except AssumeRoleError as error:
                return _unreachable(target, error.code, error.message)
            try:
                confirmed = caller_account(clients, home)
            except IdentityError as error:
                # The role was assumed; confirming whose credentials they are failed.
                return _unreachable(target, error.code, str(error), "GetCallerIdentity")
            if confirmed != target.account_id:
                return _unreachable(
                    target,
                    "WrongAccount",
                    f"the credentials are {confirmed}'s",
                    "GetCallerIdentity",
                )
        calls = account_calls(target.account_id, clients, request)
        return AccountWork(
            target.account_id, clients, calls, home, listed_members=target.organization_members
        )

    # Role assumptions are independent round trips: at once, not one after another.
    workers = max(1, min(ASSUME_ROLE_IN_FLIGHT, len(targets)))
    with interruptible_pool(workers, "assume") as pool:
        reached = list(pool.map(reach, targets))
    works = [item for item in reached if isinstance(item, AccountWork)]
    unreachable = [item for item in reached if isinstance(item, AccountSnapshot)]
    return works, unreachable


def _unreachable(
    target: Target, code: str, message: str, operation: str = "AssumeRole"
) -> AccountSnapshot:
    return AccountSnapshot(
        account_id=target.account_id,
        collected_at=utc_now(),
        errors=(
            CollectionError(
                account_id=target.account_id,
                region=GLOBAL_REGION,
                service="sts",
                operation=operation,
                error_code=code,
                message=(
                    f"cannot assume {target.role_arn}: {message}"
                    if operation == "AssumeRole"
                    else f"assumed {target.role_arn}, but {message}"
                ),
                resource_kind="regions",
            ),
        ),
    )
