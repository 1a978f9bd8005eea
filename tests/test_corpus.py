"""Real, public VPC endpoint policies (tests/corpus/) judged by the 1xx rules.

Each manifest entry names its source (repository and commit, or URL) and licence, the endpoint
service it was written for, and the exact set of rules that must flag it, with a one-line reason.
The verdicts were written from the rules' documented semantics by someone who did not read the
implementation. Every organisation and account id substituted for a placeholder is trusted, as the
data-perimeter examples intend; ids written literally in a policy are not. The scanned account is
111111111111 in organisation o-corpus00001, whose member list is known.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import endpoint, region, service, snapshot
from vpce_audit.model import AccountSnapshot
from vpce_audit.rules.base import Settings
from vpce_audit.rules.builtin.endpoint_policy import (
    endpoint_policy_full_access,
    endpoint_policy_no_principal_perimeter,
    endpoint_policy_no_resource_perimeter,
    endpoint_policy_unsafe_construct,
    endpoint_policy_untrusted_principal,
)
from vpce_audit.rules.engine import evaluate

CORPUS = Path(__file__).resolve().parent / "corpus"
ACCOUNT = "111111111111"
ORG = "o-corpus00001"
RULES = [
    endpoint_policy_full_access,
    endpoint_policy_no_principal_perimeter,
    endpoint_policy_no_resource_perimeter,
    endpoint_policy_untrusted_principal,
    endpoint_policy_unsafe_construct,
]


def _manifest() -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = yaml.safe_load((CORPUS / "manifest.yaml").read_text())
    return entries


ENTRIES = _manifest()


def test_the_corpus_is_large_and_documented() -> None:
    assert len(ENTRIES) >= 40
    ids = [entry["id"] for entry in ENTRIES]
    assert len(set(ids)) == len(ids)
    files = {entry["file"] for entry in ENTRIES}
    on_disk = {str(p.relative_to(CORPUS)) for p in (CORPUS / "policies").rglob("*.json")}
    assert files == on_disk
    for entry in ENTRIES:
        assert entry["source"].startswith("https://"), entry["id"]
        assert entry["licence"], entry["id"]
        assert entry["reason"].strip(), entry["id"]
        assert set(entry["expected"]) <= {"VPCE101", "VPCE102", "VPCE103", "VPCE104", "VPCE105"}
    data_perimeter = [e for e in ENTRIES if "data-perimeter-policy-examples" in e["source"]]
    assert len(data_perimeter) >= 10


def _substituted(entry: dict[str, Any]) -> tuple[str, frozenset[str], frozenset[str]]:
    text = (CORPUS / entry["file"]).read_text()
    placeholders: dict[str, Any] = entry.get("placeholders") or {}
    for placeholder, value in placeholders.items():
        text = text.replace(str(placeholder), str(value))
    values = {str(v) for v in placeholders.values()}
    accounts = frozenset(v for v in values if v.isdigit() and len(v) == 12)
    orgs = frozenset(v for v in values if v.startswith("o-"))
    return text, accounts, orgs


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["id"] for e in ENTRIES])
def test_corpus_policy(entry: dict[str, Any]) -> None:
    policy, accounts, orgs = _substituted(entry)
    kind = entry["endpoint_type"]
    estate = region(
        name="us-east-1",
        endpoint_service_details=[service(entry["service"], kind, region_name="us-east-1")],
        vpc_endpoints=[
            endpoint(
                "vpce-corpus",
                "vpc-1",
                entry["service"],
                kind,
                policy=policy,
                region_name="us-east-1",
            )
        ],
    )
    account = AccountSnapshot(
        ACCOUNT,
        "2026-11-26T00:00:00Z",
        organization_id=ORG,
        organization_member_ids=(ACCOUNT,),
    )
    settings = Settings(trusted_account_ids=accounts, trusted_org_ids=orgs - {ORG})
    result = evaluate(snapshot(estate, accounts=(account,)), RULES, settings)
    assert not result.rule_errors, result.rule_errors
    found = {f.rule_id for f in result.findings}
    assert found == set(entry["expected"]), (
        entry["reason"],
        [f.message for f in result.findings],
    )
