"""vpce_audit/data/service_ports.yaml: every entry pinned to the AWS page that documents it."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

import yaml

from vpce_audit.data import PortRange, parse_port, service_ports

SERVICE_NAME = re.compile(r"^[a-z0-9][a-z0-9.*-]*$")


def _document() -> dict[str, Any]:
    text = resources.files("vpce_audit.data").joinpath("service_ports.yaml").read_text()
    document: dict[str, Any] = yaml.safe_load(text)
    return document


def _named_in(port: Any, text: str) -> bool:
    """The port (or range, as AWS writes it) appears in the text as a number of its own."""
    return re.search(rf"(?<![0-9]){re.escape(str(port))}(?![0-9])", text) is not None


def test_every_entry_cites_an_aws_page_whose_quote_names_each_port() -> None:
    document = _document()
    assert document["default_source"].startswith("https://docs.aws.amazon.com/")
    assert all(_named_in(p, document["default_quote"]) for p in document["default_ports"])
    for entry in document["services"]:
        assert entry["source"].startswith("https://docs.aws.amazon.com/"), entry["services"]
        assert entry.get("extra_source", "https://docs.aws.amazon.com/").startswith(
            "https://docs.aws.amazon.com/"
        )
        quoted = f"{entry['quote']} {entry.get('quote_extra', '')}"
        standard = {int(k): v for k, v in (entry.get("standard_ports") or {}).items()}
        for port in entry["ports"]:
            assert _named_in(port, quoted) or (port in standard and standard[port].strip()), (
                entry["services"],
                port,
            )
        assert all(SERVICE_NAME.match(name) for name in entry["services"])


def test_the_cases_the_rules_v2_review_named() -> None:
    table = service_ports()

    def ports(short: str) -> set[tuple[int, int]]:
        return {(p.low, p.high) for p in table.for_service(short).ports}

    assert ports("ssm") == {(443, 443)}  # the default
    assert ports("cassandra") == ports("cassandra-fips") == {(9142, 9142)}
    assert ports("email-smtp") == {(25, 25), (465, 465), (587, 587), (2465, 2465), (2587, 2587)}
    assert ports("iot.data") == {(443, 443), (8443, 8443), (8883, 8883)}
    assert ports("git-codecommit") == {(22, 22), (443, 443)}
    # Athena's JDBC / ODBC drivers stream results on 444 through the endpoint.
    assert ports("athena") == ports("athena-fips") == {(443, 443), (444, 444)}
    assert (1024, 1064) in ports("datasync")
    # Aurora DSQL: cluster connection endpoints carry PostgreSQL; the management API is HTTPS.
    assert ports("dsql-fnh4") == {(5432, 5432)}
    assert ports("dsql") == {(443, 443)}


def test_port_ranges_parse_as_aws_writes_them() -> None:
    assert parse_port(443) == PortRange(443, 443)
    assert parse_port("1400-1499") == PortRange(1400, 1499)
    assert parse_port("1024\u20131064") == PortRange(1024, 1064)
