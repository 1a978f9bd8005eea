"""AWS's endpoint services, stored once per region instead of once per account-region.

``DescribeVpcEndpointServices`` lists every AWS service a region offers endpoints to: some 400
entries, ~470 KB of JSON, the same for every account of the region but for the zone names
(``us-east-1a`` is not the same zone in two accounts, so a service offered in some zones only is
listed with different names). An organisation of 500 accounts in 17 regions would store it 8,500
times, about 4 GB, before any VPC. A snapshot (schema 4) therefore keeps these entries in
``service_catalogues``, each named by a digest of its content, and each account-region names the
catalogue it saw; the entries of its own (PrivateLink services, services of other regions) stay
in the account-region. Reading joins them again, and the account-regions that saw one catalogue
share its objects in memory.

What goes in a catalogue: entries AWS owns (``owner == "amazon"``) for the region itself (no
``service_region``). Anything else is specific to the account.
"""

from __future__ import annotations

import dataclasses
import hashlib
import heapq
import json
from dataclasses import dataclass

from vpce_audit.model import EndpointServiceDetail, Region, RegionSnapshot
from vpce_audit.snapshot.codec import encode

AWS_OWNER = "amazon"
DIGEST_LENGTH = 20
"""Hex digits of SHA-256 in a catalogue id: 80 bits, no collision among a snapshot's few."""


@dataclass(frozen=True)
class ServiceCatalogue:
    """AWS's services as one region listed them to one or more accounts."""

    catalogue_id: str
    """``<region>/<digest>``: vpce-audit names a catalogue by its content."""
    region: Region
    details: tuple[EndpointServiceDetail, ...]


def is_shared(detail: EndpointServiceDetail) -> bool:
    return detail.owner == AWS_OWNER and detail.service_region is None


class CatalogueWriter:
    """Splits account-regions' service entries into catalogues while a snapshot is written."""

    def __init__(self) -> None:
        self._by_content: dict[tuple[str, tuple[int, ...]], ServiceCatalogue] = {}
        self._by_id: dict[str, ServiceCatalogue] = {}

    def split(self, region: RegionSnapshot) -> tuple[str | None, RegionSnapshot]:
        """The id of the region's catalogue (None when it lists no AWS service), and the region
        with only its own entries."""
        shared = tuple(d for d in region.endpoint_service_details if is_shared(d))
        if not shared:
            return None, region
        own = tuple(d for d in region.endpoint_service_details if not is_shared(d))
        # Account-regions collected in one run share detail objects (``intern``): the objects'
        # identities find a catalogue already written without hashing 400 entries again. They
        # stay alive while the snapshot is written, so an id is not reused meanwhile.
        key = (region.region, tuple(map(id, shared)))
        catalogue = self._by_content.get(key)
        if catalogue is None:
            encoded = encode(shared)
            digest = hashlib.sha256(
                json.dumps(encoded, sort_keys=True, separators=(",", ":")).encode()
            ).hexdigest()[:DIGEST_LENGTH]
            catalogue_id = f"{region.region}/{digest}"
            catalogue = self._by_id.setdefault(
                catalogue_id, ServiceCatalogue(catalogue_id, region.region, shared)
            )
            self._by_content[key] = catalogue
        return catalogue.catalogue_id, _with_details(region, own)

    def catalogues(self) -> list[ServiceCatalogue]:
        return [self._by_id[key] for key in sorted(self._by_id)]


def join(region: RegionSnapshot, catalogue: ServiceCatalogue) -> RegionSnapshot:
    """The region with the catalogue's entries among its own, in the collector's order (by
    service name; AWS's names and the account's own never coincide)."""
    own = region.endpoint_service_details
    if not own:
        return _with_details(region, catalogue.details)  # one tuple shared by every such region
    merged = heapq.merge(catalogue.details, own, key=lambda detail: detail.service_name)
    return _with_details(region, tuple(merged))


def _with_details(
    region: RegionSnapshot, details: tuple[EndpointServiceDetail, ...]
) -> RegionSnapshot:
    return dataclasses.replace(region, endpoint_service_details=details)


_interned: dict[EndpointServiceDetail, EndpointServiceDetail] = {}


def intern(detail: EndpointServiceDetail) -> EndpointServiceDetail:
    """One object for equal AWS service entries across the account-regions of a run: memory
    grows with the estate, not with accounts x the catalogue."""
    if not is_shared(detail):
        return detail
    return _interned.setdefault(detail, detail)
