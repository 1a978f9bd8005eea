"""The snapshot document: a versioned JSON file that `collect` writes and `scan --snapshot` reads.

The format is documented in docs/snapshot-format.md. A document holds one entry per account
(account-wide facts) and one per account-region (a *scope*); each keeps its own collection
errors, so documents collected in shards merge without ambiguity.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vpce_audit.model import AccountSnapshot, RegionSnapshot
from vpce_audit.snapshot.codec import DecodeError, decode, encode

FORMAT_NAME = "vpce-audit-snapshot"
SCHEMA_VERSION = 2


class SnapshotError(Exception):
    """A snapshot file that cannot be used; the message is fit for the user."""


@dataclass(frozen=True)
class SnapshotDocument:
    tool_version: str
    created_at: str
    accounts: tuple[AccountSnapshot, ...]
    regions: tuple[RegionSnapshot, ...]
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        seen_accounts: set[str] = set()
        for account in self.accounts:
            if account.account_id in seen_accounts:
                raise SnapshotError(f"account {account.account_id} appears twice")
            seen_accounts.add(account.account_id)
        seen_scopes: set[tuple[str, str]] = set()
        for region in self.regions:
            scope = (region.account_id, region.region)
            if scope in seen_scopes:
                raise SnapshotError(f"scope {region.account_id}/{region.region} appears twice")
            seen_scopes.add(scope)


def to_json(document: SnapshotDocument) -> str:
    body: dict[str, Any] = {
        "format": FORMAT_NAME,
        "schema_version": document.schema_version,
        "tool_version": document.tool_version,
        "created_at": document.created_at,
        "accounts": encode(sorted(document.accounts, key=lambda a: a.account_id)),
        "regions": encode(sorted(document.regions, key=lambda r: (r.account_id, r.region))),
    }
    return json.dumps(body, indent=2, sort_keys=False) + "\n"


def from_json(text: str, source: str = "snapshot") -> SnapshotDocument:
    try:
        body = json.loads(text)
    except json.JSONDecodeError as error:
        raise SnapshotError(
            f"{source} is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    if not isinstance(body, dict) or body.get("format") != FORMAT_NAME:
        raise SnapshotError(f'{source} is not a vpce-audit snapshot (no "format": "{FORMAT_NAME}")')
    version = body.get("schema_version")
    if version != SCHEMA_VERSION:
        raise SnapshotError(
            f"{source} has snapshot schema version {version!r}; this vpce-audit reads version "
            f"{SCHEMA_VERSION}. Re-collect it with this version."
        )
    try:
        tool_version = _require_str(body, "tool_version")
        created_at = _require_str(body, "created_at")
        accounts = decode(tuple[AccountSnapshot, ...], body.get("accounts", []), "$.accounts")
        regions = decode(tuple[RegionSnapshot, ...], body.get("regions", []), "$.regions")
    except DecodeError as error:
        raise SnapshotError(f"{source} is malformed at {error}") from None
    return SnapshotDocument(
        tool_version=tool_version, created_at=created_at, accounts=accounts, regions=regions
    )


def _require_str(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise DecodeError(f"$.{key}", "expected a string")
    return value


def read(path: Path) -> SnapshotDocument:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SnapshotError(f"cannot read snapshot {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise SnapshotError(f"snapshot {path} is not UTF-8 text") from None
    return from_json(text, source=str(path))


def merge(
    documents: Iterable[SnapshotDocument], tool_version: str, created_at: str
) -> SnapshotDocument:
    """Join snapshots collected in shards. The same scope in two shards is an error, not a guess."""
    accounts: dict[str, AccountSnapshot] = {}
    regions: list[RegionSnapshot] = []
    for document in documents:
        for account in document.accounts:
            known = accounts.get(account.account_id)
            if known is None:
                accounts[account.account_id] = account
            elif _account_facts(known) != _account_facts(account):
                # Shards split by region each describe the account; they must agree.
                raise SnapshotError(
                    f"account {account.account_id} has different account-wide facts in two "
                    "shards; re-collect them together"
                )
        regions.extend(document.regions)
    return SnapshotDocument(
        tool_version=tool_version,
        created_at=created_at,
        accounts=tuple(accounts.values()),
        regions=tuple(regions),
    )


def _account_facts(account: AccountSnapshot) -> tuple[object, ...]:
    return (account.organization_id, account.hosted_zones, account.errors)
