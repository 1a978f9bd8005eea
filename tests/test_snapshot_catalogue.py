"""Schema 4: AWS's endpoint services stored once per region (vpce_audit/snapshot/catalogue.py),
and the fast paths of reading and writing that must give exactly what the plain ones give."""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import ACCOUNT, OTHER_ACCOUNT, REGION, document, region, service
from vpce_audit.analysis.cidrs import parse_network
from vpce_audit.analysis.routes import RouteIndex
from vpce_audit.json_text import Preformatted, dumps_indented, shared
from vpce_audit.model import _PLAIN_IPV4_CIDR, EndpointServiceDetail, PrefixList, Route, RouteTable
from vpce_audit.snapshot.catalogue import intern
from vpce_audit.snapshot.document import SCHEMA_VERSION, SnapshotError, from_json, to_json

PRIVATE = EndpointServiceDetail(
    service_name="com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0",
    service_types=("Interface",),
    owner=OTHER_ACCOUNT,
    vpc_endpoint_policy_supported=False,
)
OTHER_REGION_S3 = service("com.amazonaws.us-east-1.s3", service_region="us-east-1")


def _aws_services(zones: tuple[str, ...] = ("eu-west-1a", "eu-west-1b")) -> list[Any]:
    # Fresh objects each call, as two account-regions' collections would make them.
    return [
        service("ec2", availability_zones=zones),
        service("s3", kind="Gateway"),
        service("s3", availability_zones=zones),
        service("sts", availability_zones=zones),
    ]


def _sorted(details: list[Any]) -> tuple[Any, ...]:
    # The collector's order (collect/region.py _identity).
    return tuple(sorted(details, key=lambda d: (d.service_name, repr(d))))


def _estate() -> Any:
    return document(
        region(ACCOUNT, endpoint_service_details=_sorted([*_aws_services(), PRIVATE])),
        region(OTHER_ACCOUNT, endpoint_service_details=_sorted(_aws_services())),
        region(
            OTHER_ACCOUNT,
            "us-east-1",
            endpoint_service_details=_sorted(
                [service("s3", kind="Gateway", region_name="us-east-1")]
            ),
        ),
        region(
            "333333333333",
            endpoint_service_details=_sorted(
                [*_aws_services(("eu-west-1b", "eu-west-1c")), OTHER_REGION_S3]
            ),
        ),
    )


def test_aws_services_are_written_once_per_region_and_content() -> None:
    body = json.loads(to_json(_estate()))
    catalogues = {c["catalogue_id"]: c for c in body["service_catalogues"]}
    # Two accounts saw the same list in eu-west-1; a third saw other zone names (another
    # catalogue); us-east-1 has its own.
    assert sorted(c["region"] for c in catalogues.values()) == [
        "eu-west-1",
        "eu-west-1",
        "us-east-1",
    ]
    by_scope = {(r["account_id"], r["region"]): r for r in body["regions"]}
    first, second = by_scope[(ACCOUNT, REGION)], by_scope[(OTHER_ACCOUNT, REGION)]
    third = by_scope[("333333333333", REGION)]
    assert first["service_catalogue"] == second["service_catalogue"] != third["service_catalogue"]
    assert len(catalogues[first["service_catalogue"]]["details"]) == 4
    # What only one account sees stays with it: a PrivateLink service, another region's service.
    assert [d["service_name"] for d in first["endpoint_service_details"]] == [PRIVATE.service_name]
    assert second["endpoint_service_details"] == []
    assert [d["service_name"] for d in third["endpoint_service_details"]] == [
        OTHER_REGION_S3.service_name
    ]


def test_reading_joins_the_catalogues_back_in_the_collectors_order() -> None:
    estate = _estate()
    text = to_json(estate)
    read_back = from_json(text)
    assert read_back.schema_version == SCHEMA_VERSION
    original = {(r.account_id, r.region): r for r in estate.regions}
    for scope in read_back.regions:
        assert scope == original[(scope.account_id, scope.region)]
    assert to_json(read_back) == text


def test_account_regions_that_saw_one_catalogue_share_its_objects_in_memory() -> None:
    regions = {(r.account_id, r.region): r for r in from_json(to_json(_estate())).regions}
    first = regions[(ACCOUNT, REGION)].endpoint_service_details
    second = regions[(OTHER_ACCOUNT, REGION)].endpoint_service_details
    shared = [d for d in first if d.owner == "amazon"]
    assert len(shared) == 4 and all(a is b for a, b in zip(shared, second, strict=True))


def test_collection_interns_aws_entries_but_not_an_accounts_own() -> None:
    one, other = _aws_services()[0], _aws_services()[0]
    assert one is not other and intern(one) is intern(other)
    copy = EndpointServiceDetail(**{**PRIVATE.__dict__})
    assert intern(copy) is copy


def _mutated(change: Any) -> str:
    body = json.loads(to_json(_estate()))
    change(body)
    return json.dumps(body)


def _first_catalogue(body: dict[str, Any]) -> dict[str, Any]:
    return body["service_catalogues"][0]  # type: ignore[no-any-return]


def _as_version_3(body: dict[str, Any]) -> None:
    """Labelled schema 3, without what only schema 6 and 8 hold (Resolver rules, security
    groups' VPC associations, endpoints' address types)."""
    body.update(schema_version=3)
    for scope in body["regions"]:
        scope.pop("resolver_rules")
        scope.pop("security_group_vpc_associations")
        for endpoint in scope["vpc_endpoints"]:
            endpoint.pop("ip_address_type")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: b.pop("service_catalogues"), "missing required key 'service_catalogues'"),
        (lambda b: b["regions"][0].pop("service_catalogue"), "missing required key"),
        (
            lambda b: b["regions"][0].update(service_catalogue="eu-west-1/0000"),
            "regions[0].service_catalogue: 'eu-west-1/0000' is not in service_catalogues",
        ),
        (lambda b: b["regions"][0].update(service_catalogue=7), "expected a string or null"),
        (
            lambda b: b["service_catalogues"].append(_first_catalogue(b)),
            "appears twice; each catalogue is listed once",
        ),
        (
            lambda b: b["regions"][0].update(
                service_catalogue=next(
                    c["catalogue_id"] for c in b["service_catalogues"] if c["region"] != REGION
                )
            ),
            "lists region us-east-1, not eu-west-1",
        ),
        (
            # An entry in both the catalogue and the account-region: the rules' index by name
            # would keep one silently.
            lambda b: b["regions"][1]["endpoint_service_details"].append(
                next(
                    c
                    for c in b["service_catalogues"]
                    if c["catalogue_id"] == b["regions"][1]["service_catalogue"]
                )["details"][0]
            ),
            "appears twice",
        ),
        (
            lambda b: (
                _as_version_3(b),
                [r.pop("service_catalogue") for r in b["regions"]],
            ),
            "unknown key(s) service_catalogues for schema version 3",
        ),
        (
            lambda b: (_as_version_3(b), b.pop("service_catalogues")),
            "unknown key(s) service_catalogue for RegionSnapshot",
        ),
    ],
)
def test_catalogue_references_are_read_strictly(change: Any, message: str) -> None:
    with pytest.raises(SnapshotError, match=re.escape(message)):
        from_json(_mutated(change))


# -- the fast paths give what the plain ones give ---------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=30,
)


@given(json_values)
def test_indented_json_is_what_json_dumps_writes(value: Any) -> None:
    assert dumps_indented(value) == json.dumps(value, indent=2, ensure_ascii=True)


def test_a_preformatted_value_writes_itself_and_json_dumps_writes_its_plain_value() -> None:
    value = {"a": [1, "b"]}
    written: list[str] = []

    def write(newline: str) -> str:
        written.append(newline)
        return json.dumps(value, indent=2).replace("\n", newline)

    document = {"x": [Preformatted(lambda: value, write)]}
    assert dumps_indented(document) == json.dumps({"x": [value]}, indent=2)
    assert written == ["\n    "]  # the line the value starts on: two levels deep
    unusual = {**document, "y": float("nan")}  # json.dumps writes it all, from plain()
    assert dumps_indented(unusual) == json.dumps({"x": [value], "y": float("nan")}, indent=2)


def test_a_shared_value_is_written_as_itself_at_each_depth() -> None:
    value = {"id": "VPCE101", "help": {"text": "a\nb", "tags": ["x", 1, None]}}
    fragment = shared(value)
    document = {"runs": [{"rules": [fragment, fragment]}, {"rules": [fragment]}], "top": fragment}
    plain = {"runs": [{"rules": [value, value]}, {"rules": [value]}], "top": value}
    assert dumps_indented(document) == json.dumps(plain, indent=2)
    assert dumps_indented({**document, "nan": float("nan")}) == json.dumps(
        {**plain, "nan": float("nan")}, indent=2
    )
    assert dumps_indented(shared({"n": float("inf")})) == json.dumps({"n": float("inf")}, indent=2)


def test_indented_json_leaves_what_it_does_not_know_to_json_dumps() -> None:
    value = {"a": (1, 2), "b": {3: float("nan")}}
    assert dumps_indented(value) == json.dumps(value, indent=2, ensure_ascii=True)
    # Keys are encoded once per report: a key seen before, then a number equal to nothing seen.
    repeated = [{"1": "x", "é": [{"1": None}]}, {1: "y"}, {True: 0}]
    assert dumps_indented(repeated) == json.dumps(repeated, indent=2, ensure_ascii=True)

    class LooksLikeA(str):  # equal to "a" and hashed like it, but written as "b"
        def __eq__(self, other: object) -> bool:
            return other == "a" or str.__eq__(self, other)

        def __hash__(self) -> int:
            return hash("a")

    impostor = [{"a": 1}, {LooksLikeA("b"): 2}]
    assert dumps_indented(impostor) == json.dumps(impostor, indent=2, ensure_ascii=True)
    assert '"b": 2' in dumps_indented(impostor)


octet = st.one_of(
    st.integers(0, 300).map(str), st.sampled_from(["00", "01", "010", "-1", " 1", "\u0663"])
)
prefix = st.one_of(st.integers(0, 40).map(str), st.sampled_from(["", "08", "-0", "3 "]))


@given(octet, octet, octet, octet, prefix)
def test_the_plain_ipv4_cidr_shortcut_accepts_only_what_ipaddress_accepts(
    a: str, b: str, c: str, d: str, length: str
) -> None:
    text = f"{a}.{b}.{c}.{d}/{length}"
    network = parse_network(text)
    expected = isinstance(network, ipaddress.IPv4Network)
    # Only a shortcut: what it takes must parse; what it leaves is parsed the slow way.
    if _PLAIN_IPV4_CIDR.fullmatch(text) is not None:
        assert expected
    elif expected and length == str(int(length)) and all(o == str(int(o)) for o in (a, b, c, d)):
        pytest.fail(f"{text} is a plain CIDR the shortcut should take")


blocks = st.builds(
    lambda a, b, length: f"10.{a}.{b}.0/{length}",
    st.integers(0, 3),
    st.integers(0, 255),
    st.integers(8, 24),
)


@given(st.lists(blocks, min_size=1, max_size=8, unique=True), blocks)
def test_route_index_picks_the_longest_covering_route(cidrs: list[str], destination: str) -> None:
    routes = tuple(Route(destination_cidr=c, target_id=f"nat-{i}") for i, c in enumerate(cidrs))
    table = RouteTable("rtb-1", "vpc-1", is_main=True, subnet_ids=(), routes=routes)
    index = RouteIndex(table, {})
    target = ipaddress.IPv4Network(destination, strict=False)
    choice = index.choice(target)
    covering = [
        ipaddress.IPv4Network(c, strict=False)
        for c in cidrs
        if target.subnet_of(ipaddress.IPv4Network(c, strict=False))
    ]
    expected = str(max(covering, key=lambda n: n.prefixlen)) if covering else None
    assert choice.matched_prefix == expected
    inside = sorted(str(network) for _, network in index.inside(target))
    assert inside == sorted(
        str(ipaddress.IPv4Network(c, strict=False))
        for c in cidrs
        if ipaddress.IPv4Network(c, strict=False) != target
        and ipaddress.IPv4Network(c, strict=False).subnet_of(target)
    )


def test_route_index_leaves_unknown_prefix_lists_as_contenders() -> None:
    table = RouteTable(
        "rtb-1",
        "vpc-1",
        is_main=True,
        subnet_ids=(),
        routes=(
            Route(destination_cidr="0.0.0.0/0", target_id="nat-1"),
            Route(destination_prefix_list_id="pl-unread", target_id="tgw-1"),
        ),
    )
    unread = PrefixList("pl-unread", "corp", owner_id=ACCOUNT, cidrs=None)
    choice = RouteIndex(table, {"pl-unread": unread}).choice(ipaddress.IPv4Network("52.218.0.0/17"))
    assert choice.route is not None and choice.route.target_id == "nat-1"
    assert [r.target_id for r in choice.contenders] == ["tgw-1"]
