"""`vpce-audit permissions`: the IAM policy and role templates generated from the read-only
allowlist equal the committed policy and StackSet template, grant exactly what a full collection
calls, trust exactly the principal given, and refuse values that could rewrite them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from tests.moto_estates import build_every_call_estate
from vpce_audit.collect.operations import CREDENTIAL_OPERATIONS, OPERATIONS, iam_actions
from vpce_audit.collect.runner import ClientFactory, CollectionRequest, collect
from vpce_audit.permissions import DEFAULT_ROLE_NAME, FORMATS, policy_document, render

ROOT = Path(__file__).resolve().parent.parent
ALLOWLIST = {op.iam_action for op in OPERATIONS if op.needs_permission}
ACCOUNT = "111122223333"
ROLE_ARN = "arn:aws:iam::111122223333:role/platform/vpce-scanner"


# --- CloudFormation, read with its short-form tags kept, and evaluated for given parameters ---


@dataclass(frozen=True)
class Tagged:
    tag: str
    value: Any


class CloudFormationLoader(yaml.SafeLoader):
    """Keeps CloudFormation's short-form tags (!Ref, !Sub, !If...) as Tagged values."""


def _tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Tagged:
    if isinstance(node, yaml.ScalarNode):
        return Tagged(suffix, loader.construct_scalar(node))
    if isinstance(node, yaml.SequenceNode):
        return Tagged(suffix, loader.construct_sequence(node, deep=True))
    return Tagged(suffix, loader.construct_mapping(node, deep=True))  # type: ignore[arg-type]


CloudFormationLoader.add_multi_constructor("!", _tagged)
NO_VALUE = object()


def _template(text: str) -> dict[str, Any]:
    loaded = yaml.load(text, Loader=CloudFormationLoader)
    assert isinstance(loaded, dict)
    return loaded


def _evaluate(value: Any, template: dict[str, Any], parameters: dict[str, str]) -> Any:
    """The value CloudFormation deploys, for the intrinsic functions the template uses."""
    if isinstance(value, dict):
        pairs = ((k, _evaluate(v, template, parameters)) for k, v in value.items())
        return {k: v for k, v in pairs if v is not NO_VALUE}
    if isinstance(value, list):
        return [_evaluate(item, template, parameters) for item in value]
    if not isinstance(value, Tagged):
        return value
    pseudo = {"AWS::Partition": "aws", "AWS::NoValue": NO_VALUE}
    if value.tag == "Ref":
        return pseudo[value.value] if value.value in pseudo else parameters[value.value]
    if value.tag == "Sub":
        names = {**parameters, "AWS::Partition": "aws"}
        return re.sub(r"\$\{([\w:]+)\}", lambda match: names[match.group(1)], value.value)
    if value.tag == "Equals":
        left, right = (_evaluate(item, template, parameters) for item in value.value)
        return left == right
    if value.tag == "Not":
        (inner,) = value.value
        return not _evaluate(inner, template, parameters)
    if value.tag == "If":
        condition, when_true, when_false = value.value
        holds = _evaluate(template["Conditions"][condition], template, parameters)
        return _evaluate(when_true if holds else when_false, template, parameters)
    raise AssertionError(f"unexpected tag !{value.tag}")


def _deployed(text: str, **given: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The role's properties as deployed with the parameters' defaults (and ``given``), and the
    parameters."""
    template = _template(text)
    parameters = template["Parameters"]
    values = {name: p["Default"] for name, p in parameters.items() if "Default" in p} | given
    assert set(values) == set(parameters), "a required parameter was not given"
    for name, value in values.items():
        pattern = parameters[name].get("AllowedPattern")
        assert pattern is None or re.fullmatch(pattern, value), (name, value)
    role = template["Resources"]["VpceAuditReadOnlyRole"]
    assert role["Type"] == "AWS::IAM::Role"
    return _evaluate(role["Properties"], template, values), parameters


def _actions(statement: dict[str, Any]) -> list[str]:
    assert statement["Effect"] == "Allow"
    assert statement["Resource"] == "*"
    actions = statement["Action"]
    assert isinstance(actions, list)
    return actions


# --- The policy document ---


def test_the_json_policy_is_the_allowlist_and_the_committed_document() -> None:
    text = render("json")
    policy = json.loads(text)
    assert policy["Version"] == "2012-10-17"
    (statement,) = policy["Statement"]
    assert set(statement) == {"Sid", "Effect", "Action", "Resource"}
    actions = _actions(statement)
    assert actions == sorted(actions) == list(iam_actions())
    assert set(actions) == ALLOWLIST and len(actions) == len(ALLOWLIST)
    assert policy == policy_document()
    assert text == (ROOT / "docs" / "iam-policy.json").read_text(encoding="utf-8")
    assert render("json") == text  # deterministic


def test_every_granted_action_is_read_only() -> None:
    levels = {op.iam_action: op.access_level for op in OPERATIONS}
    (statement,) = json.loads(render("json"))["Statement"]
    for action in _actions(statement):
        service, name = action.split(":")
        assert service in {
            "ec2",
            "route53",
            "route53resolver",
            "route53profiles",
            "organizations",
            "iam",
        }
        # The verbs of read-only actions; SearchTransitGatewayRoutes is one (access level List).
        assert re.fullmatch(r"(Describe|List|Get|Search)[A-Z]\w+", name), action
        assert levels[action] in {"Read", "List"}, action
        assert "*" not in action
    assert not {op.iam_action for op in CREDENTIAL_OPERATIONS} & set(statement["Action"])
    assert "sts:GetCallerIdentity" not in statement["Action"]  # every principal may call it


@pytest.fixture
def moto_session(aws_credentials: None, moto_gaps: object) -> Iterator[Any]:
    with mock_aws():
        yield boto3.session.Session(region_name="us-west-2")


def _answer(model: Any, **_: Any) -> Any:
    """After the call is recorded: two enabled regions (a full collection of every region moto
    knows takes a minute and calls nothing more), and a Route 53 Profile, which moto lacks."""
    answers = {
        "DescribeRegions": {
            "Regions": [
                {"RegionName": name, "OptInStatus": "opt-in-not-required"}
                for name in ("ap-southeast-2", "us-west-2")
            ]
        },
        "ListProfileAssociations": {
            "ProfileAssociations": [
                {"Id": "a", "ProfileId": "rp-1", "ResourceId": "vpc-1", "Status": "COMPLETE"}
            ]
        },
        "ListProfileResourceAssociations": {"ProfileResourceAssociations": []},
    }
    if model.name not in answers:
        return None
    return AWSResponse("https://example.invalid/", 200, {}, None), answers[model.name]


def test_the_policy_grants_exactly_what_a_full_collection_calls(moto_session: Any) -> None:
    build_every_call_estate(moto_session)
    calls: set[str] = set()

    def record(model: Any, **_: Any) -> None:
        # An IAM action's prefix is the service's signing name (route53resolver, ec2, ...).
        calls.add(f"{model.service_model.signing_name}:{model.name}")

    moto_session.events.register("before-call", record)
    moto_session.events.register("before-call", _answer)
    document = collect(ClientFactory(moto_session), CollectionRequest(regions=None))

    assert sorted(scope.region for scope in document.regions) == ["ap-southeast-2", "us-west-2"]
    assert calls == {op.iam_action for op in OPERATIONS}
    for fmt in FORMATS:
        assert set(_granted(fmt)) == calls - {"sts:GetCallerIdentity"}, fmt


def _granted(fmt: str) -> list[str]:
    if fmt == "json":
        (statement,) = json.loads(render("json"))["Statement"]
    elif fmt == "cloudformation":
        properties, _ = _deployed(render("cloudformation", principal=ACCOUNT))
        (statement,) = properties["Policies"][0]["PolicyDocument"]["Statement"]
    else:
        (statement,) = _terraform_policy(render("terraform", principal=ACCOUNT))["Statement"]
    return _actions(statement)


# --- CloudFormation ---


def test_cloudformation_without_a_principal_is_the_committed_stackset_template() -> None:
    text = render("cloudformation")
    committed = ROOT / "examples" / "read-only-role-stackset.yaml"
    assert text == committed.read_text(encoding="utf-8")
    # A StackSet's parameters: the scanning account is asked for, the external id optional.
    _, parameters = _deployed(text, ScannerAccountId=ACCOUNT)
    assert "Default" not in parameters["ScannerAccountId"]
    assert parameters["ExternalId"]["Default"] == ""


@pytest.mark.parametrize(
    ("principal", "parameter", "trusted"),
    [
        (ACCOUNT, "ScannerAccountId", "arn:aws:iam::111122223333:root"),
        (ROLE_ARN, "ScannerPrincipalArn", ROLE_ARN),
        ("arn:aws:iam::111122223333:user/ci", "ScannerPrincipalArn", None),
        ("arn:aws-us-gov:iam::111122223333:root", "ScannerPrincipalArn", None),
    ],
)
@pytest.mark.parametrize("external_id", [None, "vpce-audit:Prod/42"])
def test_cloudformation_trusts_exactly_the_principal_given(
    principal: str, parameter: str, trusted: str | None, external_id: str | None
) -> None:
    text = render("cloudformation", principal=principal, external_id=external_id)
    properties, parameters = _deployed(text)
    assert parameters[parameter]["Default"] == principal
    assert set(parameters) == {parameter, "ExternalId"}
    (statement,) = properties["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"AWS": trusted or principal}
    assert statement["Action"] == "sts:AssumeRole"
    if external_id is None:
        assert "Condition" not in statement
    else:
        assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": external_id}}
    assert properties["RoleName"] == DEFAULT_ROLE_NAME
    (policy,) = properties["Policies"]
    (granted,) = policy["PolicyDocument"]["Statement"]
    assert _actions(granted) == list(iam_actions())
    # A StackSet may still deploy it with other values.
    other = "444455556666" if parameter == "ScannerAccountId" else "arn:aws:iam::444455556666:root"
    overridden, _ = _deployed(text, **{parameter: other})
    (statement,) = overridden["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"AWS": "arn:aws:iam::444455556666:root"}


@pytest.mark.parametrize(
    ("role_name", "written"),
    [
        ("scanner", "RoleName: scanner"),
        ("true", 'RoleName: "true"'),
        ("No", 'RoleName: "No"'),
        ("null", 'RoleName: "null"'),
        ("012345", 'RoleName: "012345"'),
        ("1e3", 'RoleName: "1e3"'),
        ("@scan,=+.x", 'RoleName: "@scan,=+.x"'),
        ("-", 'RoleName: "-"'),
        ("=", 'RoleName: "="'),
        ("a" * 64, "RoleName: " + "a" * 64),
    ],
)
def test_a_role_name_reads_back_as_itself(role_name: str, written: str) -> None:
    text = render("cloudformation", role_name=role_name)
    assert f"\n      {written}\n" in text
    properties, _ = _deployed(text, ScannerAccountId=ACCOUNT)
    assert properties["RoleName"] == role_name
    assert f"--role-name {role_name} [" in text
    assert f'  name                 = "{role_name}"\n' in render("terraform", role_name=role_name)


# --- Terraform ---


def _terraform_policy(text: str) -> dict[str, Any]:
    """The document in the role policy's jsonencode(...): JSON, which is also HCL."""
    found = re.search(
        r'resource "aws_iam_role_policy" "vpce_audit_read_only" \{\n'
        r'  name = "vpce-audit-read-only"\n'
        r"  role = aws_iam_role\.vpce_audit_read_only\.id\n"
        r"  policy = jsonencode\((\{\n.*?\n  \})\)\n\}\n",
        text,
        re.DOTALL,
    )
    assert found, text
    policy = json.loads(found.group(1))
    assert isinstance(policy, dict)
    return policy


def _variable(text: str, name: str) -> str:
    found = re.search(rf'\nvariable "{name}" \{{\n(.*?)\n\}}\n', text, re.DOTALL)
    assert found, name
    return found.group(1)


def test_terraform_creates_the_role_with_the_allowlist() -> None:
    text = render("terraform", principal=ROLE_ARN)
    assert text == render("terraform", principal=ROLE_ARN)  # deterministic
    assert '\nresource "aws_iam_role" "vpce_audit_read_only" {\n' in text
    assert '\n  name                 = "vpce-audit-read-only"\n' in text
    assert "\n  assume_role_policy   = data.aws_iam_policy_document.vpce_audit_trust.json\n" in text
    policy = _terraform_policy(text)
    assert policy == policy_document()
    (statement,) = policy["Statement"]
    assert _actions(statement) == list(iam_actions())
    assert "\n  value = aws_iam_role.vpce_audit_read_only.arn\n" in text


@pytest.mark.parametrize("principal", [None, ACCOUNT, ROLE_ARN])
@pytest.mark.parametrize("external_id", [None, "vpce-audit:Prod/42"])
def test_terraform_variables_carry_the_principal_and_external_id(
    principal: str | None, external_id: str | None
) -> None:
    text = render("terraform", principal=principal, external_id=external_id)
    scanner = _variable(text, "scanner_principal")
    if principal is None:
        assert "default" not in scanner  # terraform asks for it
    else:
        assert f'\n  default     = "{principal}"\n' in scanner
    assert f'\n  default     = "{external_id or ""}"' in _variable(text, "external_id")
    # An account id becomes its root ARN in the deploying partition; an ARN is used as given.
    assert (
        '  scanner_principal_arn = can(regex("^[0-9]{12}$", var.scanner_principal))'
        ' ? "arn:${data.aws_partition.current.partition}:iam::${var.scanner_principal}:root"'
        " : var.scanner_principal\n"
    ) in text
    assert "      identifiers = [local.scanner_principal_arn]\n" in text
    # The ExternalId condition exists only when the variable is not empty.
    assert (
        '    dynamic "condition" {\n'
        '      for_each = var.external_id == "" ? [] : [var.external_id]\n'
        "      content {\n"
        '        test     = "StringEquals"\n'
        '        variable = "sts:ExternalId"\n'
        "        values   = [condition.value]\n"
    ) in text
    assert text.count("sts:ExternalId") == 1


# --- Refused values ---

HOSTILE_PRINCIPALS = [
    "",
    "11112222333",  # 11 digits
    "1111222233334",
    "١١١١٢٢٢٢٣٣٣٣",  # Arabic-Indic digits
    "111122223333\n",
    " 111122223333",
    "*",
    "arn:aws:iam::*:root",
    "arn:aws:iam::111122223333:root\n",
    "arn:aws-iso:iam::111122223333:root",
    "arn:aws:sts::111122223333:assumed-role/scanner/session",
    "arn:aws:iam::111122223333:group/admins",
    "arn:aws:iam::111122223333:role/",
    "arn:aws:iam::111122223333:role/" + "a" * 65,
    "arn:aws:iam::111122223333:role/*",
    'arn:aws:iam::111122223333:role/x"\nresource "aws_iam_user" "u" {}',
    "arn:aws:iam::111122223333:role/${var.x}",
    "arn:aws:iam::111122223333:role/%{if true}x%{endif}",
    "arn:aws:iam::111122223333:role/x\n  Policies: []",
    "arn:aws:iam::111122223333:role/x y",
    "arn:aws:iam::111122223333:role/é",
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("principal", HOSTILE_PRINCIPALS)
def test_a_bad_principal_is_refused(fmt: str, principal: str) -> None:
    with pytest.raises(ValueError, match=r"^principal .* is neither a 12-digit account id") as e:
        render(fmt, principal=principal)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "role_name",
    ["", "a" * 65, "x\ny", "x: y", 'x"', "x'", "${x}", "%{x}", "a b", "a/b", "é", "x\\", "#x"],
)
def test_a_bad_role_name_is_refused(fmt: str, role_name: str) -> None:
    with pytest.raises(ValueError, match=r"^role name .* is not an IAM role name") as e:
        render(fmt, role_name=role_name)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("external_id", ["", "x", 'a"b', "${x}", "a b", "a\nb", "x" * 1225])
def test_a_bad_external_id_is_refused(fmt: str, external_id: str) -> None:
    with pytest.raises(ValueError, match=r"^external id .* is not an IAM external id") as e:
        render(fmt, external_id=external_id)
    assert "\n" not in str(e.value)
    assert len(str(e.value)) < 200


@pytest.mark.parametrize("fmt", ["", "yaml", "JSON", "hcl", "json\n"])
def test_an_unknown_format_is_refused(fmt: str) -> None:
    with pytest.raises(ValueError, match=r"^unknown format .*: choose one of json, cl") as e:
        render(fmt)
    assert "\n" not in str(e.value)


def test_the_longest_valid_values_are_written_verbatim() -> None:
    principal = "arn:aws-cn:iam::111122223333:user/a/b.c/" + "u" * 64
    external_id = "e" * 1224
    text = render("cloudformation", principal=principal, external_id=external_id)
    properties, _ = _deployed(text)
    (statement,) = properties["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"AWS": principal}
    assert statement["Condition"]["StringEquals"]["sts:ExternalId"] == external_id
    terraform = render("terraform", principal=principal, external_id=external_id)
    assert f'default     = "{principal}"' in terraform
    assert f'default     = "{external_id}"' in terraform


# --- The committed scanner policy agrees with the allowlist ---


def test_the_committed_scanner_policy_grants_the_credential_calls_for_the_default_role() -> None:
    policy = json.loads((ROOT / "docs" / "iam-policy-scanner.json").read_text(encoding="utf-8"))
    granted = {statement["Action"]: statement["Resource"] for statement in policy["Statement"]}
    assert set(granted) == {"organizations:ListAccounts"} | {
        op.iam_action for op in CREDENTIAL_OPERATIONS
    }
    assert granted["sts:AssumeRole"] == f"arn:aws:iam::*:role/{DEFAULT_ROLE_NAME}"
    assert "organizations:ListAccounts" in ALLOWLIST
