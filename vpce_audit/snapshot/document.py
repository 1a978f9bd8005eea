"""The snapshot document: a versioned JSON file that `collect` writes and `scan --snapshot` reads.

The format is documented in docs/snapshot-format.md. A document holds one entry per account
(account-wide facts) and one per account-region (a *scope*); each keeps its own collection
errors, so documents collected in shards merge without ambiguity.

Reading is strict from the first byte: a snapshot is a security tool's evidence, and every way a
file could be read "leniently" (a misspelt key defaulting to nothing, a repeated key whose second
value wins, an error of an unknown kind) is a way to make a scan report clean on data it never saw.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import operator
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeAlias

from vpce_audit.json_text import dumps_indented
from vpce_audit.model import (
    ACCOUNT_RESOURCE_KINDS,
    GLOBAL_REGION,
    REGION_RESOURCE_KINDS,
    AccountSnapshot,
    CollectionError,
    RegionSnapshot,
    Timestamp,
    moment,
)
from vpce_audit.snapshot.catalogue import CatalogueWriter, ServiceCatalogue, join
from vpce_audit.snapshot.codec import Check, DecodeError, decode, encode
from vpce_audit.text import TooLarge, brief, clip, read_bounded

FORMAT_NAME = "vpce-audit-snapshot"
SCHEMA_VERSION = 8
READABLE_SCHEMA_VERSIONS = (2, 3, 4, 5, 6, 7, 8)
"""Version 8 adds the DNS protocols of Route 53 Resolver endpoints and of forwarding rules'
targets (``ResolverEndpoint.protocols``, ``ResolverRule.target_protocols``), security groups'
associations with other VPCs (``RegionSnapshot.security_group_vpc_associations``) and the
address type of VPC endpoints (``VpcEndpoint.ip_address_type``), each absent, so unknown, in
older versions; version 7 adds the subnets and appliance mode of transit-gateway
VPC attachments (``TransitGatewayAttachment.subnet_ids``, ``appliance_mode``; absent, so
unknown, in older versions); version 6 adds
the Route 53 Resolver rules associated with each account-region's VPCs
(``RegionSnapshot.resolver_rules``; absent, so unknown, in older versions); version 5 adds the
Name tags of subnets, route tables, endpoints and security groups; version 4 stores AWS's
endpoint services once per region (``service_catalogues``, see
``vpce_audit.snapshot.catalogue``); version 3 added RegionSnapshot.out_of_scope. Older versions
are read as they are (without what they lack)."""
CATALOGUE_SCHEMA_VERSION = 4
CATALOGUE_KEY = "service_catalogue"
"""The key of an account-region (schema 4) naming the catalogue it saw, or null."""
# No value of the model needs more digits (ports, rule numbers, the schema version); a longer
# number is refused before int() spends time on it.
MAX_INTEGER_DIGITS = 20
REGION_KINDS = ("a kind of an account-region (REGION_RESOURCE_KINDS)", REGION_RESOURCE_KINDS)
ACCOUNT_KINDS = ("an account-wide kind (ACCOUNT_RESOURCE_KINDS)", ACCOUNT_RESOURCE_KINDS)


class SnapshotError(Exception):
    """A snapshot file that cannot be used; the message is fit for the user."""


MAX_SHARDS = 100_000
_PLAN = re.compile(r"[0-9a-f]{0,64}")
ShardCount: TypeAlias = Annotated[
    int, Check(lambda n: 2 <= n <= MAX_SHARDS, "a number of shards (2 or more)")
]


@dataclass(frozen=True)
class ShardSet:
    """Which shards of a ``collect --shard K/N`` split a snapshot holds: one shard as collected,
    several once merged. A snapshot that holds every shard (or was never split) has none."""

    of: ShardCount
    collected: tuple[int, ...]
    plan: str = ""
    """A digest of what chose the account-regions (regions, exclusions, accounts, roles,
    profiles): shards of different choices are no parts of one whole."""

    def problem(self) -> str | None:
        """Why the set is not one a collection or a merge writes, or None."""
        if list(self.collected) != sorted(set(self.collected)) or not all(
            1 <= k <= self.of for k in self.collected
        ):
            return f"{brief(list(self.collected))} are not distinct shards of {self.of}, in order"
        if not self.missing:
            return "it names every shard: a whole collection names none"
        if not _PLAN.fullmatch(self.plan):
            return "its plan is not a digest vpce-audit writes (up to 64 hexadecimal digits)"
        return None

    @property
    def missing(self) -> tuple[int, ...]:
        held = set(self.collected)
        return tuple(k for k in range(1, self.of + 1) if k not in held)

    def describe_missing(self) -> str:
        missing = self.missing
        shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        return f"shard{'s' if len(missing) > 1 else ''} {shown} of {self.of}"


@dataclass(frozen=True)
class SnapshotDocument:
    tool_version: str
    created_at: str
    accounts: tuple[AccountSnapshot, ...]
    regions: tuple[RegionSnapshot, ...]
    schema_version: int = SCHEMA_VERSION
    shards: ShardSet | None = None
    """Set when the document holds only some shards of a split collection: what it lacks was
    not collected (``Snapshot.coverage_gaps``), whatever its account-regions say."""

    @property
    def has_something_to_report(self) -> bool:
        """Whether a scan of it can say anything: it holds an account-region or a recorded
        error, or it is part of a split whose missing shards leave its accounts' account-regions
        there uncollected (``Snapshot.coverage_gaps``). A shard may hold no account-region (the
        hash put none of its accounts' regions there); merged with some of the others it is
        still an incomplete whole, not nothing."""
        return (
            bool(self.regions)
            or any(a.errors for a in self.accounts)
            or (self.shards is not None and bool(self.accounts))
        )

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
    writer = CatalogueWriter()
    regions: list[dict[str, Any]] = []
    for region in sorted(document.regions, key=lambda r: (r.account_id, r.region)):
        catalogue_id, own = writer.split(region)
        encoded: dict[str, Any] = encode(own)
        encoded[CATALOGUE_KEY] = catalogue_id
        regions.append(encoded)
    body: dict[str, Any] = {
        "format": FORMAT_NAME,
        # Always the current version: an older document read in is written as its upgrade.
        "schema_version": SCHEMA_VERSION,
        "tool_version": document.tool_version,
        "created_at": document.created_at,
        # Only in a shard (or an incomplete merge of shards): a whole collection reads as before.
        **({} if document.shards is None else {"shards": encode(document.shards)}),
        "accounts": encode(sorted(document.accounts, key=lambda a: a.account_id)),
        "regions": regions,
        "service_catalogues": encode(writer.catalogues()),
    }
    return dumps_indented(body) + "\n"


@dataclass(frozen=True)
class SnapshotFile:
    """The top level of a snapshot file as the codec reads it: every key required, no other."""

    format: str
    schema_version: int
    tool_version: str
    created_at: Timestamp
    accounts: tuple[AccountSnapshot, ...]
    regions: tuple[RegionSnapshot, ...]
    service_catalogues: tuple[ServiceCatalogue, ...] = ()
    shards: ShardSet | None = None
    """Required from schema version 4 (``_take_catalogue_references``), absent before."""


class _Refused(Exception):
    """Raised from inside json.loads for what the JSON grammar (or Python's json) lets through."""


def from_json(
    text: str, source: str = "snapshot", *, require_scope: bool = True
) -> SnapshotDocument:
    """The document in ``text``. ``require_scope=False`` accepts one that holds no
    account-region and no error: a shard may hold none, and is judged once merged."""
    body = _parse(text, source)
    if not isinstance(body, dict) or body.get("format") != FORMAT_NAME:
        raise SnapshotError(f'{source} is not a vpce-audit snapshot (no "format": "{FORMAT_NAME}")')
    version = body.get("schema_version")
    # type(), not isinstance() or ==: true == 1 and 2.0 == 2 in Python, not in the format.
    if type(version) is int and version not in READABLE_SCHEMA_VERSIONS:
        raise SnapshotError(
            f"{source} has snapshot schema version {brief(version)}; this vpce-audit reads "
            f"versions {READABLE_SCHEMA_VERSIONS[0]} to {SCHEMA_VERSION}. Re-collect it with "
            "this version."
        )
    try:
        _check_versioned_keys(body)
        references = _take_catalogue_references(body)
        file = _join_catalogues(decode(SnapshotFile, body, "$"), references)
        if file.shards is not None and file.shards.problem() is not None:
            raise DecodeError("$.shards", str(file.shards.problem()))
        _check_error_placement(file)
        _check_unique_ids(file)
        _check_target_protocols(file)
    except DecodeError as error:
        raise SnapshotError(f"{source} is malformed at {error}") from None
    try:
        document = SnapshotDocument(
            tool_version=file.tool_version,
            created_at=file.created_at,
            accounts=file.accounts,
            regions=file.regions,
            schema_version=file.schema_version,
            shards=file.shards,
        )
    except SnapshotError as error:
        raise SnapshotError(f"{source}: {error}") from None
    if require_scope and not document.has_something_to_report:
        # Nothing to evaluate and no error saying why: a scan of it would be "clean".
        raise SnapshotError(f"{source}: the snapshot holds no account-region to scan")
    return document


RESOLVER_RULES_SCHEMA_VERSION = 6
RESOLVER_RULES_KEY = "resolver_rules"
ATTACHMENT_SUBNETS_SCHEMA_VERSION = 7
ATTACHMENT_SUBNETS_KEY = "subnet_ids"
DNS_PROTOCOLS_SCHEMA_VERSION = 8
GROUP_ASSOCIATIONS_SCHEMA_VERSION = 8
GROUP_ASSOCIATIONS_KEY = "security_group_vpc_associations"
ENDPOINT_ADDRESS_TYPE_SCHEMA_VERSION = 8


def _account_regions(body: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for index, region in enumerate(body.get("regions") or ()):
        yield f"$.regions[{index}]", region


Holders: TypeAlias = Callable[[dict[str, Any]], Iterator[tuple[str, Any]]]


def _items_of(key: str) -> Holders:
    """The objects listed under ``key`` in every account-region."""

    def items(body: dict[str, Any]) -> Iterator[tuple[str, Any]]:
        for path, region in _account_regions(body):
            listed = region.get(key) if isinstance(region, dict) else None
            for index, item in enumerate(listed if isinstance(listed, list) else ()):
                yield f"{path}.{key}[{index}]", item

    return items


_ATTACHMENTS = _items_of("transit_gateway_attachments")
_VERSIONED_KEYS: tuple[tuple[int, str, Holders], ...] = (
    (RESOLVER_RULES_SCHEMA_VERSION, RESOLVER_RULES_KEY, _account_regions),
    (ATTACHMENT_SUBNETS_SCHEMA_VERSION, ATTACHMENT_SUBNETS_KEY, _ATTACHMENTS),
    (ATTACHMENT_SUBNETS_SCHEMA_VERSION, "appliance_mode", _ATTACHMENTS),
    (DNS_PROTOCOLS_SCHEMA_VERSION, "protocols", _items_of("resolver_endpoints")),
    (DNS_PROTOCOLS_SCHEMA_VERSION, "target_protocols", _items_of(RESOLVER_RULES_KEY)),
    (GROUP_ASSOCIATIONS_SCHEMA_VERSION, GROUP_ASSOCIATIONS_KEY, _account_regions),
    (ENDPOINT_ADDRESS_TYPE_SCHEMA_VERSION, "ip_address_type", _items_of("vpc_endpoints")),
)
"""Keys a schema version added, each with the objects that hold it from that version on."""


def _check_versioned_keys(body: dict[str, Any]) -> None:
    """Each key a schema version added is in every object that holds it from that version on
    (null where its value is unknown), and in none before: a version-5 file with
    ``resolver_rules``, or a version-7 attachment without ``subnet_ids``, is not what any
    vpce-audit wrote (the codec alone would take a missing key as unknown, an extra one as
    known)."""
    version = body.get("schema_version")
    if type(version) is not int or not isinstance(body.get("regions"), list):
        return  # the codec says what is wrong
    for since, key, holders in _VERSIONED_KEYS:
        required = version >= since
        for path, holder in holders(body):
            if not isinstance(holder, dict) or (key in holder) == required:
                continue
            if required:
                raise DecodeError(path, f"missing required key {key!r}")
            raise DecodeError(path, f"unknown key(s) {key} for schema version {version}")


def _take_catalogue_references(body: dict[str, Any]) -> list[str | None] | None:
    """Each account-region's catalogue id, removed from its object so that the rest decodes as a
    RegionSnapshot; None for a document before schema 4, which has neither."""
    version = body.get("schema_version")
    if type(version) is not int or version < CATALOGUE_SCHEMA_VERSION:
        return None
    if "service_catalogues" not in body:
        raise DecodeError("$", "missing required key 'service_catalogues' for SnapshotFile")
    regions = body.get("regions")
    if not isinstance(regions, list):
        return None  # the codec says what is wrong with it
    references: list[str | None] = []
    for index, region in enumerate(regions):
        if not isinstance(region, dict):
            references.append(None)
            continue
        where = f"$.regions[{index}].{CATALOGUE_KEY}"
        if CATALOGUE_KEY not in region:
            raise DecodeError(f"$.regions[{index}]", f"missing required key {CATALOGUE_KEY!r}")
        reference = region.pop(CATALOGUE_KEY)
        if reference is not None and not isinstance(reference, str):
            raise DecodeError(where, "expected a string or null")
        references.append(reference)
    return references


def _join_catalogues(file: SnapshotFile, references: list[str | None] | None) -> SnapshotFile:
    if references is None:
        if file.service_catalogues:
            raise DecodeError(
                "$", f"unknown key(s) service_catalogues for schema version {file.schema_version}"
            )
        return file
    catalogues: dict[str, ServiceCatalogue] = {}
    for index, catalogue in enumerate(file.service_catalogues):
        if catalogue.catalogue_id in catalogues:
            raise DecodeError(
                f"$.service_catalogues[{index}]",
                f"{brief(catalogue.catalogue_id)} appears twice; each catalogue is listed once",
            )
        catalogues[catalogue.catalogue_id] = catalogue
    regions = []
    for index, (region, reference) in enumerate(zip(file.regions, references, strict=True)):
        if reference is None:
            regions.append(region)
            continue
        seen = catalogues.get(reference)
        where = f"$.regions[{index}].{CATALOGUE_KEY}"
        if seen is None:
            raise DecodeError(where, f"{brief(reference)} is not in service_catalogues")
        if seen.region != region.region:
            raise DecodeError(
                where, f"{brief(reference)} lists region {seen.region}, not {region.region}"
            )
        regions.append(join(region, seen))
    return dataclasses.replace(file, regions=tuple(regions))


# What identifies an item of each collection, where it is not the item's first field (its id).
# The same service name is listed once per type (Gateway, Interface), and one service has one
# connection per endpoint.
_IDENTITY_FIELDS = {
    "endpoint_service_details": ("service_name", "service_types"),
    "endpoint_connections": ("service_id", "endpoint_id"),
    "vpc_zones": ("vpc_id", "region"),
    "security_group_vpc_associations": ("group_id", "vpc_id"),
}


def _check_unique_ids(file: SnapshotFile) -> None:
    """Refuse two items with one id in a collection: the rules index by id, so a second copy
    would silently replace the first (a VPC listed twice, once with DNS hostnames on)."""
    containers: list[tuple[str, Any]] = [
        (f"$.accounts[{i}]", account) for i, account in enumerate(file.accounts)
    ]
    containers += [(f"$.regions[{i}]", region) for i, region in enumerate(file.regions)]
    # A catalogue's entries are one tuple in every account-region that saw only them: checked
    # once (the tuples live as long as this check, so their ids are not reused meanwhile).
    checked: set[int] = set()
    for where, container in containers:
        for name in _field_names(type(container)):
            items = getattr(container, name)
            if name == "errors" or not isinstance(items, tuple) or not items:
                continue
            if id(items) in checked:
                continue
            checked.add(id(items))
            if not dataclasses.is_dataclass(items[0]):
                continue
            names = _IDENTITY_FIELDS.get(name) or _field_names(type(items[0]))[:1]
            keys = list(map(operator.attrgetter(*names), items))
            if len(set(keys)) == len(keys):
                continue
            seen: set[Any] = set()
            for index, key in enumerate(keys):
                if key in seen:
                    first = key[0] if len(names) > 1 else key
                    raise DecodeError(
                        f"{where}.{name}[{index}]",
                        f"{brief(first)} appears twice; each resource is listed once",
                    )
                seen.add(key)


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: Any) -> tuple[str, ...]:
    # dataclasses.fields() builds its tuple anew on every call: once per class is enough (an
    # organisation's snapshot has thousands of account-regions).
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(fld.name for fld in dataclasses.fields(cls))
    return names


# JSON may escape half of a UTF-16 pair ("\\ud800") alone: json.loads makes it a lone
# surrogate, which is no Unicode character, cannot be written as UTF-8, and no AWS API returns.
# Found among the escapes themselves, so that their number, not the document's size, is the
# cost (a snapshot escapes every emoji of a Name tag as a pair); the pattern starts with a
# literal, which the regular expression engine looks for at C speed.
_SURROGATE_ESCAPE = re.compile(r"\\u([dD][89a-fA-F][0-9a-fA-F]{2})")
_ESCAPE_LENGTH = len("\\ud800")


def _lone_surrogate(text: str) -> str | None:
    """The first surrogate ``text`` escapes outside a high-low pair, or None."""
    escaped: dict[int, int] = {}  # where an escape starts: its code unit, in the text's order
    for match in _SURROGATE_ESCAPE.finditer(text):
        start = before = match.start()
        while before and text[before - 1] == "\\":
            before -= 1
        if (start - before) % 2 == 0:  # an odd run would make this backslash an escaped one
            escaped[start] = int(match.group(1), 16)
    paired: set[int] = set()
    for start, unit in escaped.items():
        if start in paired:
            continue
        if unit <= 0xDBFF:  # high: a low must follow at once
            low = escaped.get(start + _ESCAPE_LENGTH)
            if low is not None and low >= 0xDC00:
                paired.add(start + _ESCAPE_LENGTH)
                continue
        return chr(unit)
    return None


def _parse(text: str, source: str) -> Any:
    try:
        body = json.loads(
            text,
            object_pairs_hook=_object,
            parse_constant=_non_finite,
            parse_int=_integer,
        )
        lone = _lone_surrogate(text)
        if lone is not None:
            raise _Refused(
                f"it holds a lone surrogate ({lone!a}), half of a UTF-16 pair: not a Unicode "
                "character"
            )
        return body
    except json.JSONDecodeError as error:
        raise SnapshotError(
            f"{source} is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    except _Refused as error:
        raise SnapshotError(f"{source} is not a usable snapshot: {error}") from None
    except RecursionError:
        raise SnapshotError(f"{source} is nested too deeply to be a snapshot") from None
    except ValueError as error:  # pragma: no cover - json raises no other, but never a traceback
        raise SnapshotError(f"{source} is not valid JSON ({clip(error)})") from None


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of two equal keys; a second "regions" or "policy_document" must
    # not silently replace the first.
    body = dict(pairs)
    if len(body) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Refused(f"the key {brief(key)} appears twice in one object")
            seen.add(key)
    return body


def _non_finite(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number")


def _integer(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise _Refused(f"a number of {len(digits)} digits is longer than any snapshot value")
    return int(digits)


def _check_error_placement(file: SnapshotFile) -> None:
    """Each collection error sits where the engine looks for it: a region kind in its scope, an
    account-wide kind in its account, naming the account and region that hold it. One elsewhere
    would be ignored, and the rules that need the missing data would run as if it were complete."""
    for index, account in enumerate(file.accounts):
        for position, error in enumerate(account.errors):
            where = f"$.accounts[{index}].errors[{position}]"
            _check_error(error, where, account.account_id, GLOBAL_REGION, ACCOUNT_KINDS)
    for index, scope in enumerate(file.regions):
        for position, error in enumerate(scope.errors):
            where = f"$.regions[{index}].errors[{position}]"
            _check_error(error, where, scope.account_id, scope.region, REGION_KINDS)


def _check_target_protocols(file: SnapshotFile) -> None:
    """A forwarding rule's ``target_protocols`` name the protocol of each of its targets, one
    for one: a list of another length would pair a target with another's protocol."""
    for index, scope in enumerate(file.regions):
        for position, rule in enumerate(scope.resolver_rules or ()):
            protocols = rule.target_protocols
            if protocols is not None and len(protocols) != len(rule.target_ips):
                raise DecodeError(
                    f"$.regions[{index}].resolver_rules[{position}].target_protocols",
                    f"{len(protocols)} protocols for {len(rule.target_ips)} target addresses",
                )


def _check_error(
    error: CollectionError,
    where: str,
    account_id: str,
    region: str,
    kinds: tuple[str, tuple[str, ...]],
) -> None:
    what, allowed = kinds
    if error.resource_kind not in allowed:
        raise DecodeError(f"{where}.resource_kind", f"{error.resource_kind!r} is not {what}")
    # The values passed their checks: short enough to quote whole.
    if error.account_id != account_id:
        raise DecodeError(f"{where}.account_id", f"{error.account_id} is not {account_id}")
    if error.region != region:
        raise DecodeError(f"{where}.region", f"{error.region!r} is not {region!r}")


MAX_SNAPSHOT_BYTES = 2 * 1024**3
"""A snapshot of thousands of accounts is hundreds of megabytes; 2 GiB is a runaway input."""


def read(path: Path, *, require_scope: bool = True) -> SnapshotDocument:
    try:
        text = read_bounded(path, MAX_SNAPSHOT_BYTES)
    except TooLarge as error:
        raise SnapshotError(f"cannot read snapshot {path}: {error}") from None
    except OSError as error:
        raise SnapshotError(f"cannot read snapshot {path}: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise SnapshotError(
            f"snapshot {path} is not UTF-8 text (an invalid byte at offset {error.start})"
        ) from None
    return from_json(text, source=str(path), require_scope=require_scope)


def merge(
    documents: Iterable[SnapshotDocument], tool_version: str, created_at: str
) -> SnapshotDocument:
    """Join snapshots collected in shards (``collect --shard K/N``) or separately.

    The same account-region in two snapshots is an error, not a guess, and so are snapshots of
    different schema versions. An account described by several snapshots is merged: its
    organisation, members and hosted zones come from the most recent description (for shards of
    one split, a member list that description left to another account comes from the other
    shard), the zones of its VPCs and its IAM principals are joined, and every recorded error is
    kept."""
    documents = tuple(documents)
    versions = sorted({document.schema_version for document in documents})
    if len(versions) > 1:
        raise SnapshotError(
            f"the snapshots have schema versions {', '.join(map(str, versions))}; collect them "
            "with one vpce-audit version"
        )
    shards = _merged_shards([document.shards for document in documents])
    split = any(document.shards is not None for document in documents)
    accounts: dict[str, AccountSnapshot] = {}
    regions: dict[tuple[str, str], RegionSnapshot] = {}
    for document in documents:
        for region in document.regions:
            key = (region.account_id, region.region)
            if key in regions:
                raise SnapshotError(
                    f"{region.account_id}/{region.region} is in two snapshots; each "
                    "account-region must be collected once"
                )
            regions[key] = region
        for account in document.accounts:
            known = accounts.get(account.account_id)
            accounts[account.account_id] = (
                account if known is None else _merge_account(known, account, split=split)
            )
    for account_id, error in _unlisted_by_some_shards(documents).items():
        account = accounts[account_id]
        accounts[account_id] = dataclasses.replace(account, errors=(*account.errors, error))
    return SnapshotDocument(
        tool_version=tool_version,
        created_at=created_at,
        accounts=tuple(accounts.values()),
        regions=tuple(regions.values()),
        schema_version=versions[0] if versions else SCHEMA_VERSION,
        shards=shards,
    )


def _unlisted_by_some_shards(documents: tuple[SnapshotDocument, ...]) -> dict[str, CollectionError]:
    """The error of each account that some shards of a split do not describe. Every shard
    collects the account-wide facts of every account it lists; one it lacks was not listed
    there (it joined or left the organisation between the listings), so its account-regions
    in that shard were never collected."""
    split = [(d.shards, d) for d in documents if d.shards is not None]
    if len(split) < 2:
        return {}
    every = {account.account_id for _, d in split for account in d.accounts}
    unlisted: dict[str, list[int]] = {}
    for shards, document in split:
        described = {account.account_id for account in document.accounts}
        for account_id in every - described:
            unlisted.setdefault(account_id, []).extend(shards.collected)
    total = split[0][0].of  # one split: _merged_shards refused any other
    return {
        account_id: CollectionError(
            account_id=account_id,
            region=GLOBAL_REGION,
            service="organizations",
            operation="ListAccounts",
            error_code="ListedBySomeShards",
            message=(
                f"shard(s) {', '.join(map(str, sorted(shards)))} of {total} did not list this "
                "account (it joined or left the organisation while the shards listed it): its "
                "account-regions in those shards were not collected"
            ),
            resource_kind="regions",
        )
        for account_id, shards in unlisted.items()
    }


def _merged_shards(parts: list[ShardSet | None]) -> ShardSet | None:
    """The shards the merged snapshots hold together; None when they are every shard of one
    split, or none of them was split. Shards of different splits, a shard given twice, and a
    shard merged with a whole collection are refused: their union means nothing."""
    split = [part for part in parts if part is not None]
    if not split:
        return None
    if len(split) < len(parts):
        raise SnapshotError(
            "a shard (collect --shard) cannot be merged with a snapshot that was not split"
        )
    counts = sorted({part.of for part in split})
    if len(counts) > 1:
        raise SnapshotError(
            f"the shards come from different splits (of {' and of '.join(map(str, counts))}); "
            "merge the shards of one split"
        )
    if len({part.plan for part in split}) > 1:
        raise SnapshotError(
            "the shards were collected with different regions, accounts, roles or profiles; "
            "collect every shard of a split with the same options"
        )
    held = Counter(k for part in split for k in part.collected)
    twice = sorted(k for k, times in held.items() if times > 1)
    if twice:
        raise SnapshotError(f"shard {twice[0]} of {counts[0]} is in two snapshots")
    merged = ShardSet(counts[0], tuple(sorted(held)), split[0].plan)
    return None if not merged.missing else merged


def _merge_account(
    one: AccountSnapshot, other: AccountSnapshot, *, split: bool = False
) -> AccountSnapshot:
    later = _instant(other.collected_at) > _instant(one.collected_at)
    newer, older = (other, one) if later else (one, other)
    zones = {(z.vpc_id, z.region): z for z in (*older.vpc_zones, *newer.vpc_zones)}
    principals = None
    if older.iam_principals is not None or newer.iam_principals is not None:
        joined = {
            p.unique_id: p for p in (*(older.iam_principals or ()), *(newer.iam_principals or ()))
        }
        principals = tuple(joined[key] for key in sorted(joined))
    errors = tuple(dict.fromkeys((*older.errors, *newer.errors)))
    # Each shard of a split stores an organisation's member list on one account
    # (runner.members_listed_once), and two shards may pick different ones: there, a list the
    # newer part left out is the older part's, if the organisation is the same. Between
    # separate collections the newer description stands (a list refused since, an account
    # that moved to another organisation).
    members = newer.organization_member_ids
    if members is None and split and older.organization_id == newer.organization_id:
        members = older.organization_member_ids
    return dataclasses.replace(
        newer,
        organization_member_ids=members,
        vpc_zones=tuple(zones[key] for key in sorted(zones)),
        iam_principals=principals,
        errors=tuple(sorted(errors, key=lambda error: error.sort_key)),
    )


def _instant(text: str) -> datetime.datetime:
    # Decoding checked every timestamp; one built in code and never decoded sorts first.
    return moment(text) or datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)
