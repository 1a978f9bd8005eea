"""Pictures for the HTML report: inline SVG drawn from the snapshot, one function per family.

Each function takes the snapshot and a finding and returns an SVG string, or None when the
snapshot lacks what the picture needs. The SVG is plain boxes, lines and labels; every element
that stands for a resource is a ``<g>`` with a ``data-resource`` attribute holding the resource's
id (made visible with ``safe_text.visible``, then escaped), so a reader, a test or a script can
tell which resources a picture holds.

Every string the pictures did not write themselves (ids, names, CIDRs, DNS servers) goes through
``_text`` (``visible`` then ``html.escape``); nothing in a picture refers to anything outside
the SVG (no ``href``, no ``url(...)``, no external font), and the output is a pure function of
its arguments.
"""

from __future__ import annotations

import html
import ipaddress
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from vpce_audit.findings import Finding
from vpce_audit.model import HostedZone, Route, RouteTable, Vpc, VpcEndpoint
from vpce_audit.safe_text import visible
from vpce_audit.snapshot.views import ScopeView, Snapshot

# Layout constants (pixels).
_BOX_H = 28
_GAP = 12
_CHAR_W = 7  # monospace 12px, approximately
_MAX_ITEMS = 8  # per column; the rest are summarised as "+N more"

_CIDR = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3}/\d{1,2})(?![\d/])")

_T = TypeVar("_T")

Picture = Callable[[Snapshot, Finding], "str | None"]


# -- SVG primitives ---------------------------------------------------------------------------


def _text(value: object) -> str:
    """Any value, made visible and escaped for an SVG text node or an attribute."""
    return html.escape(visible(str(value)), quote=True)


def _clip(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _width_for(label: str, minimum: int = 90) -> int:
    return max(minimum, len(label) * _CHAR_W + 16)


def _box(
    where: tuple[int, int, int],
    label: str,
    resource: str | None,
    kind: str,
    *,
    note: str = "",
    height: int = _BOX_H,
) -> str:
    """A labelled box at (x, y, width); ``label`` and ``resource`` are raw (escaped here)."""
    x, y, width = where
    attribute = f' data-resource="{_text(resource)}"' if resource is not None else ""
    shown = _clip(label, max(8, (width - 16) // _CHAR_W))
    title = f"<title>{_text(label + (' — ' + note if note else ''))}</title>"
    parts = [
        f'<g class="node {kind}"{attribute}>{title}',
        f'<rect x="{x}" y="{y}" width="{width}" height="{height}" rx="4"/>',
        f'<text x="{x + 8}" y="{y + 18}">{_text(shown)}</text>',
    ]
    if note:
        parts.append(f'<text class="note" x="{x + 8}" y="{y + height + 12}">{_text(note)}</text>')
    parts.append("</g>")
    return "".join(parts)


def _arrow(start: tuple[int, int], end: tuple[int, int], kind: str = "", label: str = "") -> str:
    """A line with a drawn arrowhead (no marker: markers need url(#...) references)."""
    (x1, y1), (x2, y2) = start, end
    head = f"{x2},{y2} {x2 - 8},{y2 - 4} {x2 - 8},{y2 + 4}"
    parts = [
        f'<g class="edge {kind}">',
        f'<line x1="{x1}" y1="{y1}" x2="{x2 - 8}" y2="{y2}"/>',
        f'<polygon points="{head}"/>',
    ]
    if label:
        parts.append(
            # Beside the arrow's end, where arrows from one table fan out and labels do not meet.
            f'<text x="{x2 - 12}" y="{y2 - 4}" text-anchor="end">{_text(_clip(label, 34))}</text>'
        )
    parts.append("</g>")
    return "".join(parts)


def _svg(width: int, height: int, title: str, body: Iterable[str], family: str) -> str:
    return (
        f'<svg class="picture {family}" role="img" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}"><title>{_text(title)}</title>' + "".join(body) + "</svg>"
    )


def _legend(x: int, y: int, items: Sequence[tuple[str, str]]) -> str:
    parts = []
    left = x
    for kind, label in items:
        parts.append(
            f'<g class="legend {kind}"><rect x="{left}" y="{y}" width="14" height="10"/>'
            f'<text x="{left + 20}" y="{y + 9}">{_text(label)}</text></g>'
        )
        left += 20 + len(label) * _CHAR_W + 24
    return "".join(parts)


def _scope_of(snapshot: Snapshot, finding: Finding) -> ScopeView | None:
    return snapshot.scope_by_place.get((finding.account_id, finding.region))


def _more(items: Sequence[_T]) -> tuple[list[_T], int]:
    shown = list(items[:_MAX_ITEMS])
    return shown, len(items) - len(shown)


# -- routing (4xx) ----------------------------------------------------------------------------


def _route_destination(scope: ScopeView, route: Route) -> str:
    if route.destination_prefix_list_id:
        plist = scope.prefix_lists_by_id.get(route.destination_prefix_list_id)
        name = f" ({plist.prefix_list_name})" if plist else ""
        return route.destination_prefix_list_id + name
    return route.destination_cidr or route.destination_ipv6_cidr or "?"


def _other_service(scope: ScopeView, route: Route, finding: Finding) -> bool:
    """Whether the route goes to the prefix list of a service the finding does not speak of
    (the DynamoDB list's route in a finding about S3 traffic)."""
    plist = scope.prefix_lists_by_id.get(route.destination_prefix_list_id or "")
    if plist is None or not plist.prefix_list_name.startswith("com.amazonaws."):
        return False
    service = plist.prefix_list_name.rsplit(".", 1)[-1].lower()
    return service not in finding.message.lower()


def _route_kind(scope: ScopeView, route: Route, related: frozenset[str], finding: Finding) -> str:
    target = route.target_id or ""
    if _other_service(scope, route, finding):
        return "endpoint"
    if not route.is_active:
        return "blackhole"
    if route.destination_prefix_list_id and target.startswith("vpce-"):
        beaten = finding.rule_id == "VPCE404" or any(
            r.startswith(("nat-", "tgw-")) for r in related
        )
        return "lost" if beaten else "endpoint"
    if target in related and target.startswith(("nat-", "tgw-")):
        return "win"
    if route.destination_prefix_list_id:
        return "lost"
    if finding.rule_id == "VPCE404" and (route.destination_cidr or "?") in finding.message:
        return "win"
    return ""


def routing_picture(snapshot: Snapshot, finding: Finding) -> str | None:
    """The subnets, through the route table, to the targets of its routes; the route that wins
    for the service's traffic and the prefix-list (gateway endpoint) route it beats marked."""
    scope = _scope_of(snapshot, finding)
    table: RouteTable | None = scope.route_tables_by_id.get(finding.resource_id) if scope else None
    if scope is None or table is None:
        return None
    related = frozenset(finding.related_resources)
    subnets = scope.subnets_by_route_table.get(table.route_table_id, ())
    named = [s for s in subnets if s in related]
    subnet_ids, more_subnets = _more(named + [s for s in subnets if s not in related])
    routes = [r for r in table.routes if r.target_id != "local"]
    shown_routes, more_routes = _more(routes)
    # Endpoints the finding names that no route reaches (VPCE405: listed, but not routed).
    routed = {r.target_id for r in routes}
    unrouted = sorted(r for r in related if r.startswith("vpce-") and r not in routed)

    table_label = table.route_table_id + (" (main)" if table.is_main else "")
    subnet_w = max([_width_for(s) for s in subnet_ids] + [150])
    table_w = _width_for(table_label, 170)
    target_w = max([_width_for(r.target_id or "?") for r in shown_routes] + [170])
    x_table = 10 + subnet_w + 60
    x_target = x_table + table_w + 280
    rows = max(len(subnet_ids) + (1 if more_subnets else 0), len(shown_routes) + len(unrouted), 1)
    rows += 1 if more_routes else 0
    height = 40 + rows * (_BOX_H + _GAP) + 40
    width = x_target + target_w + 20
    body: list[str] = [
        f'<text class="heading" x="10" y="16">{_text("subnets")}</text>',
        f'<text class="heading" x="{x_table}" y="16">{_text("route table")}</text>',
        f'<text class="heading" x="{x_target}" y="16">{_text("route → target")}</text>',
    ]
    y_table = 30 + (rows - 1) * (_BOX_H + _GAP) // 2
    for index, subnet_id in enumerate(subnet_ids):
        y = 30 + index * (_BOX_H + _GAP)
        body.append(_box((10, y, subnet_w), subnet_id, subnet_id, "subnet"))
        body.append(_arrow((10 + subnet_w, y + 14), (x_table, y_table + 14)))
    if more_subnets:
        y = 30 + len(subnet_ids) * (_BOX_H + _GAP)
        body.append(f'<text x="10" y="{y + 18}">{_text(f"+{more_subnets} more")}</text>')
    if not subnet_ids:
        body.append(f'<text x="10" y="48">{_text("(no subnet)")}</text>')
    body.append(_box((x_table, y_table, table_w), table_label, table.route_table_id, "table"))
    for index, route in enumerate(shown_routes):
        y = 30 + index * (_BOX_H + _GAP)
        kind = _route_kind(scope, route, related, finding)
        target = route.target_id or "?"
        body.append(
            _arrow(
                (x_table + table_w, y_table + 14),
                (x_target, y + 14),
                kind,
                _route_destination(scope, route),
            )
        )
        body.append(_box((x_target, y, target_w), target, route.target_id, f"target {kind}"))
    for offset, endpoint_id in enumerate(unrouted):
        y = 30 + (len(shown_routes) + offset) * (_BOX_H + _GAP)
        body.append(
            _box(
                (x_target, y, target_w), endpoint_id, endpoint_id, "target missing", note="no route"
            )
        )
    if more_routes:
        y = 30 + (len(shown_routes) + len(unrouted)) * (_BOX_H + _GAP)
        body.append(f'<text x="{x_target}" y="{y + 18}">{_text(f"+{more_routes} more")}</text>')
    body.append(
        _legend(
            10,
            height - 18,
            (
                ("win", "winning route"),
                ("lost", "prefix-list route beaten"),
                ("missing", "no route"),
            ),
        )
    )
    title = f"{finding.rule_id}: routes of {table.route_table_id}"
    return _svg(width, height, title, body, "routing")


# -- address space (5xx) ----------------------------------------------------------------------


def _networks(cidrs: Iterable[str]) -> list[ipaddress.IPv4Network]:
    found = []
    for cidr in cidrs:
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            continue
        if isinstance(network, ipaddress.IPv4Network):
            found.append(network)
    return found


def _vpc_rows(snapshot: Snapshot, vpc_ids: Iterable[str]) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for vpc_id in vpc_ids:
        found = snapshot.vpcs_by_id.get(vpc_id)
        if found is None:
            continue
        vpc: Vpc = found[1]
        name = f" {vpc.name}" if vpc.name else ""
        rows += [(f"{vpc_id}{name}", vpc_id, cidr) for cidr in vpc.cidr_blocks]
    return rows


def address_picture(snapshot: Snapshot, finding: Finding) -> str | None:
    """The blocks of the VPCs a finding names (and the prefixes its message names) on one
    address line, their overlaps marked."""
    scope = _scope_of(snapshot, finding)
    if scope is None:
        return None
    vpc_ids: list[str] = []
    if finding.resource_id in snapshot.vpcs_by_id:
        vpc_ids.append(finding.resource_id)
    vpc_ids += [r for r in finding.related_resources if r.startswith("vpc-") and r not in vpc_ids]
    if finding.resource_id.startswith("tgw-"):
        vpc_ids += sorted(
            {
                a.resource_id
                for a in scope.data.transit_gateway_attachments
                if a.transit_gateway_id == finding.resource_id
                and a.resource_type == "vpc"
                and a.resource_id
                and a.resource_id not in vpc_ids
            }
        )
    rows = _vpc_rows(snapshot, vpc_ids)
    known = {cidr for _, _, cidr in rows}
    for cidr in _CIDR.findall(finding.message):
        if cidr not in known:
            known.add(cidr)
            rows.append((f"{cidr} (named in the finding)", "", cidr))
    parsed = [(label, resource, net) for label, resource, cidr in rows for net in _networks([cidr])]
    if not parsed:
        return None
    parsed = parsed[:12]
    low = min(int(net.network_address) for _, _, net in parsed)
    high = max(int(net.broadcast_address) for _, _, net in parsed) + 1
    label_w = max(_width_for(label, 160) for label, _, _ in parsed)
    line_x, line_w = label_w + 20, 520
    span = max(high - low, 1)

    def x_of(address: int) -> int:
        return line_x + (address - low) * line_w // span

    height = 40 + (len(parsed) + 1) * (_BOX_H + _GAP) + 30
    width = line_x + line_w + 20
    body: list[str] = []
    subject_is_vpc = bool(vpc_ids) and vpc_ids[0] == finding.resource_id
    if not subject_is_vpc:
        body.append(
            _box(
                (10, 6, _width_for(finding.resource_id)),
                finding.resource_id,
                finding.resource_id,
                "subject",
            )
        )
    top = 44 if not subject_is_vpc else 10
    # Overlaps: every intersection of two rows' blocks, shaded across the line.
    overlaps: set[tuple[int, int]] = set()
    for i, (_, _, first) in enumerate(parsed):
        for _, _, second in parsed[i + 1 :]:
            if first.overlaps(second):
                start = max(int(first.network_address), int(second.network_address))
                end = min(int(first.broadcast_address), int(second.broadcast_address)) + 1
                overlaps.add((start, end))
    bottom = top + len(parsed) * (_BOX_H + _GAP)
    for start, end in sorted(overlaps):
        body.append(
            f'<rect class="overlap" x="{x_of(start)}" y="{top - 4}"'
            f' width="{max(x_of(end) - x_of(start), 2)}" height="{bottom - top + 4}"/>'
        )
    for index, (label, resource, net) in enumerate(parsed):
        y = top + index * (_BOX_H + _GAP)
        start, end = int(net.network_address), int(net.broadcast_address) + 1
        attribute = f' data-resource="{_text(resource)}"' if resource else ""
        kind = "block" if resource else "block external"
        body.append(
            f'<g class="{kind}"{attribute}><title>{_text(label + " " + str(net))}</title>'
            f'<text x="10" y="{y + 18}">{_text(_clip(label, 34))}</text>'
            f'<rect x="{x_of(start)}" y="{y + 4}" width="{max(x_of(end) - x_of(start), 2)}"'
            f' height="{_BOX_H - 8}" rx="3"/>'
            f'<text class="cidr" x="{x_of(start) + 4}" y="{y + 18}">{_text(net)}</text></g>'
        )
    body.append(
        f'<line class="axis" x1="{line_x}" y1="{bottom}" x2="{line_x + line_w}" y2="{bottom}"/>'
    )
    body.append(
        f'<text class="note" x="{line_x}" y="{bottom + 14}">'
        f"{_text(ipaddress.IPv4Address(low))}</text>"
        f'<text class="note" x="{line_x + line_w}" y="{bottom + 14}" text-anchor="end">'
        f"{_text(ipaddress.IPv4Address(high - 1))}</text>"
    )
    body.append(_legend(10, height - 14, (("overlap", "overlapping addresses"),)))
    return _svg(width, height, f"{finding.rule_id}: address space", body, "address")


# -- placement (30x) --------------------------------------------------------------------------


def placement_picture(snapshot: Snapshot, finding: Finding) -> str | None:
    """The endpoint's VPC, zone by zone: its subnets, those with the endpoint's network
    interfaces marked, the zones without one flagged; security groups and network ACLs the
    finding names beside them."""
    found = snapshot.endpoints_by_id.get(finding.resource_id)
    if found is None:
        return None
    scope, endpoint = found
    vpc_subnets = scope.subnets_by_vpc.get(endpoint.vpc_id, ())
    zones = sorted({s.availability_zone for s in vpc_subnets} | _endpoint_zones(scope, endpoint))
    if not zones:
        return None
    related = frozenset(finding.related_resources)
    column_w = 230
    by_zone = {
        zone: sorted(
            (s for s in vpc_subnets if s.availability_zone == zone),
            key=lambda s: (s.subnet_id not in endpoint.subnet_ids, s.subnet_id),
        )[:5]
        for zone in zones
    }
    deepest = max(len(subnets) for subnets in by_zone.values()) or 1
    top = 120
    zone_h = 40 + deepest * (_BOX_H * 2 + _GAP)
    width = 20 + len(zones) * (column_w + _GAP) + 20
    height = top + zone_h + 40
    body: list[str] = [
        _box(
            (10, 6, width - 20),
            f"{endpoint.vpc_id} (VPC)",
            endpoint.vpc_id,
            "vpc",
            height=height - 16,
        ),
    ]
    endpoint_label = f"{endpoint.endpoint_id} {endpoint.service_name}"
    body.append(
        _box(
            (24, 40, _width_for(endpoint_label, 200)),
            endpoint_label,
            endpoint.endpoint_id,
            "endpoint",
        )
    )
    groups = list(endpoint.security_group_ids)
    x = 24
    for group_id in groups[:4]:
        kind = "group flagged" if group_id in related else "group"
        body.append(_box((x, 78, _width_for(group_id, 150)), group_id, group_id, kind))
        x += _width_for(group_id, 150) + _GAP
    for column, zone in enumerate(zones):
        x = 24 + column * (column_w + _GAP)
        subnets = by_zone[zone]
        has_interface = any(s.subnet_id in endpoint.subnet_ids for s in subnets)
        kind = "zone" if has_interface else "zone empty"
        note = "" if has_interface else "no endpoint interface"
        body.append(
            f'<g class="{kind}"><rect x="{x}" y="{top}" width="{column_w}" height="{zone_h}"'
            f' rx="6"/><text x="{x + 8}" y="{top + 18}">{_text(zone)}</text>'
            + (
                f'<text class="warn" x="{x + 8}" y="{top + 34}">{_text(note)}</text>'
                if note
                else ""
            )
            + "</g>"
        )
        for row, subnet in enumerate(subnets):
            y = top + 44 + row * (_BOX_H * 2 + _GAP)
            with_interface = subnet.subnet_id in endpoint.subnet_ids
            label = subnet.subnet_id + (" ● interface" if with_interface else "")
            body.append(
                _box(
                    (x + 8, y, column_w - 16),
                    label,
                    subnet.subnet_id,
                    "subnet interface" if with_interface else "subnet",
                )
            )
            acl = scope.network_acl_by_subnet.get(subnet.subnet_id)
            if acl is not None and acl.network_acl_id in related:
                body.append(
                    _box(
                        (x + 20, y + _BOX_H + 2, column_w - 28),
                        acl.network_acl_id,
                        acl.network_acl_id,
                        "acl flagged",
                    )
                )
    body.append(
        _legend(
            24, height - 24, (("interface", "subnet with an interface"), ("empty", "zone without"))
        )
    )
    return _svg(
        width, height, f"{finding.rule_id}: placement of {endpoint.endpoint_id}", body, "placement"
    )


def _endpoint_zones(scope: ScopeView, endpoint: VpcEndpoint) -> set[str]:
    return {
        scope.subnets_by_id[s].availability_zone
        for s in endpoint.subnet_ids
        if s in scope.subnets_by_id
    }


# -- DNS (2xx) --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _DnsChain:
    scope: ScopeView
    vpc: Vpc
    zones: tuple[HostedZone, ...]
    endpoints: tuple[VpcEndpoint, ...]


def _dns_chain(snapshot: Snapshot, finding: Finding) -> _DnsChain | None:
    """The VPC a DNS finding concerns, the zones that answer in it (those the finding names
    first) and the endpoints it names (its subject first)."""
    related = frozenset(finding.related_resources)
    endpoints: list[VpcEndpoint] = []
    if finding.resource_id in snapshot.endpoints_by_id:
        scope, subject = snapshot.endpoints_by_id[finding.resource_id]
        vpc_id = subject.vpc_id
        endpoints.append(subject)
    elif finding.resource_id in snapshot.vpcs_by_id:
        scope = snapshot.vpcs_by_id[finding.resource_id][0]
        vpc_id = finding.resource_id
    else:
        return None
    for resource in sorted(related):
        if resource in snapshot.endpoints_by_id and all(
            e.endpoint_id != resource for e in endpoints
        ):
            endpoints.append(snapshot.endpoints_by_id[resource][1])
    found = snapshot.vpcs_by_id.get(vpc_id)
    if found is None:
        return None
    zones = list(snapshot.zones_for(scope, vpc_id))
    zones.sort(key=lambda z: (z.hosted_zone_id not in related, z.name, z.hosted_zone_id))
    for zone_id in sorted(related):
        if zone_id in snapshot.zones_by_id and all(z.hosted_zone_id != zone_id for z in zones):
            zones.insert(0, snapshot.zones_by_id[zone_id])
    return _DnsChain(scope, found[1], tuple(zones[:6]), tuple(endpoints[:6]))


def dns_picture(snapshot: Snapshot, finding: Finding) -> str | None:
    """The resolution chain of the VPC: its DNS attributes, its DHCP options, the private zones
    that answer in it, the endpoints; the broken link marked."""
    chain = _dns_chain(snapshot, finding)
    if chain is None:
        return None
    related = frozenset(finding.related_resources)
    scope, vpc, zones, endpoints = chain.scope, chain.vpc, chain.zones, chain.endpoints
    vpc_id = vpc.vpc_id

    attributes_broken = vpc.enable_dns_support is False or vpc.enable_dns_hostnames is False
    options = scope.dhcp_options_by_id.get(vpc.dhcp_options_id or "")
    servers = options.domain_name_servers if options else ()
    dhcp_broken = bool(servers) and "AmazonProvidedDNS" not in servers
    dhcp_broken = dhcp_broken or (vpc.dhcp_options_id or "") in related

    def flag(broken: bool) -> str:
        return " broken" if broken else ""

    column_w = 250
    columns = [10 + i * (column_w + 50) for i in range(4)]
    rows = max(len(zones), len(endpoints), 2)
    height = 40 + rows * (_BOX_H * 2 + _GAP) + 30
    width = columns[-1] + column_w + 10
    headings = ("VPC attributes", "DHCP options", "private hosted zones", "endpoints")
    body = [
        f'<text class="heading" x="{x}" y="16">{_text(h)}</text>'
        for x, h in zip(columns, headings, strict=True)
    ]

    def yes_no(value: bool | None) -> str:
        return "unknown" if value is None else ("on" if value else "OFF")

    attributes = (
        f"support {yes_no(vpc.enable_dns_support)}, hostnames {yes_no(vpc.enable_dns_hostnames)}"
    )
    body.append(
        _box(
            (columns[0], 30, column_w),
            vpc_id,
            vpc_id,
            "vpc" + flag(attributes_broken),
            note=attributes,
        )
    )
    dhcp_label = vpc.dhcp_options_id or "(no DHCP options)"
    dhcp_note = ", ".join(servers) if servers else "AmazonProvidedDNS"
    body.append(
        _box(
            (columns[1], 30, column_w),
            dhcp_label,
            vpc.dhcp_options_id,
            "dhcp" + flag(dhcp_broken),
            note=_clip(dhcp_note, 34),
        )
    )
    body.append(
        _arrow((columns[0] + column_w, 44), (columns[1], 44), "broken" if attributes_broken else "")
    )
    for index, zone in enumerate(zones):
        y = 30 + index * (_BOX_H * 2 + _GAP)
        broken = zone.hosted_zone_id in related
        body.append(
            _arrow(
                (columns[1] + column_w, 44), (columns[2], y + 14), "broken" if dhcp_broken else ""
            )
        )
        body.append(
            _box(
                (columns[2], y, column_w),
                zone.name,
                zone.hosted_zone_id,
                "zone" + flag(broken),
                note=zone.hosted_zone_id,
            )
        )
    if not zones:
        body.append(f'<text x="{columns[2]}" y="48">{_text("(no private zone)")}</text>')
    for index, endpoint in enumerate(endpoints):
        y = 30 + index * (_BOX_H * 2 + _GAP)
        broken = endpoint.is_deleted or (
            endpoint.endpoint_id in related | {finding.resource_id}
            and (not endpoint.private_dns_enabled or finding.rule_id in ("VPCE204", "VPCE207"))
        )
        source_y = 30 + min(index, max(len(zones) - 1, 0)) * (_BOX_H * 2 + _GAP) + 14
        source_x = columns[2] + column_w if zones else columns[1] + column_w
        body.append(_arrow((source_x, source_y), (columns[3], y + 14), "broken" if broken else ""))
        dns = "private DNS on" if endpoint.private_dns_enabled else "private DNS off"
        body.append(
            _box(
                (columns[3], y, column_w),
                endpoint.endpoint_id,
                endpoint.endpoint_id,
                "endpoint" + flag(broken),
                note=f"{endpoint.service_name.rsplit('.', 1)[-1]}, {dns}"
                + (", deleted" if endpoint.is_deleted else ""),
            )
        )
    body.append(_legend(10, height - 14, (("broken", "broken link"),)))
    return _svg(width, height, f"{finding.rule_id}: DNS resolution chain of {vpc_id}", body, "dns")


# -- dispatch ---------------------------------------------------------------------------------

PICTURES: tuple[tuple[str, Picture], ...] = (
    ("VPCE2", dns_picture),
    ("VPCE30", placement_picture),
    ("VPCE4", routing_picture),
    ("VPCE5", address_picture),
)


def has_pictures(rule_id: str) -> bool:
    """Whether the rule's findings are drawn (where the snapshot holds what they need)."""
    return rule_id.startswith(tuple(prefix for prefix, _ in PICTURES))


def picture_for(snapshot: Snapshot, finding: Finding) -> str | None:
    """The finding's picture, or None when its family has none or the snapshot lacks the data.
    A picture that fails to draw is left out: the report never fails for a picture."""
    for prefix, draw in PICTURES:
        if finding.rule_id.startswith(prefix):
            try:
                return draw(snapshot, finding)
            except (KeyError, ValueError, AttributeError, TypeError):
                return None
    return None
