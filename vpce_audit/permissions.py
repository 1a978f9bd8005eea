"""The IAM permissions a scan needs, generated from the collectors' read-only allowlist.

``vpce-audit permissions`` prints them in one of three forms:

* ``json`` — the IAM policy document (docs/iam-policy.json is this output, byte for byte);
* ``cloudformation`` — a template creating the read-only role with that policy inline, trusting
  the scanning principal; its parameters make it deployable as a service-managed StackSet
  (examples/read-only-role-stackset.yaml is this output with no principal given);
* ``terraform`` — the same role as ``aws_iam_role`` and ``aws_iam_role_policy``.

The actions are :func:`vpce_audit.collect.operations.iam_actions`, the allowlist the call
boundary enforces, so the policy can neither lag behind a new collector nor grant what no
collector calls. Every value the caller supplies is validated against IAM's own patterns
(ASCII only) before it is written, and written quoted, so it cannot add YAML keys, HCL
expressions or template interpolations.
"""

from __future__ import annotations

import json
import re
from typing import Any

from vpce_audit.collect.operations import OPERATIONS, READ_ONLY_ACCESS_LEVELS, iam_actions

FORMATS = ("json", "cloudformation", "terraform")

DEFAULT_ROLE_NAME = "vpce-audit-read-only"
POLICY_NAME = "vpce-audit-read-only"
"""The name of the role's inline policy (not the role's, which the caller may choose)."""
STATEMENT_SID = "VpceAuditReadOnly"

# fullmatch and ASCII classes: "$" would accept a trailing newline, \w and \d non-ASCII letters
# and digits.
_ACCOUNT_ID = re.compile(r"[0-9]{12}")
_NAME = r"[\w+=,.@-]"
_ROLE_NAME = re.compile(_NAME + r"{1,64}", re.ASCII)
# IAM allows any printable ASCII in a path; real paths are names separated by "/", and nothing
# else is accepted here, so "${", "%{", quotes and backslashes can never reach a template.
_PRINCIPAL_ARN = re.compile(
    r"arn:aws(?:-cn|-us-gov)?:iam::[0-9]{12}:"
    r"(?:root|(?:role|user)(?:/" + _NAME + r"+)*/" + _NAME + r"{1,64})",
    re.ASCII,
)
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)

# A role name written as a plain YAML scalar must read back as that string in YAML 1.1 too
# (CloudFormation's dialect): no numbers, booleans (yes, on, y...), nulls or indicators.
_PLAIN_YAML = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_YAML_WORDS = frozenset(
    {"y", "n", "yes", "no", "on", "off", "true", "false", "null"},
)
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")


def read_only_actions() -> tuple[str, ...]:
    """The sorted IAM actions a full collection needs; each is of access level Read or List."""
    levels = {op.iam_action: op.access_level for op in OPERATIONS if op.needs_permission}
    actions = iam_actions()
    refused = [action for action in actions if levels[action] not in READ_ONLY_ACCESS_LEVELS]
    if refused:  # the call boundary refuses them too; a policy must not grant them
        raise RuntimeError(f"not read-only: {', '.join(refused)}")
    return actions


def policy_document() -> dict[str, Any]:
    """The read-only IAM policy: one Allow statement, every action of the allowlist."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": STATEMENT_SID,
                "Effect": "Allow",
                "Action": list(read_only_actions()),
                "Resource": "*",
            }
        ],
    }


def render(
    fmt: str,
    *,
    principal: str | None = None,
    role_name: str = DEFAULT_ROLE_NAME,
    external_id: str | None = None,
) -> str:
    """The permissions as ``fmt`` (one of FORMATS), ending with a newline.

    ``principal`` (a 12-digit account id, or an ``arn:aws[-cn|-us-gov]:iam::`` root, role or
    user ARN) is the identity the scan runs as, trusted by the role; without it the role
    templates ask for it (a CloudFormation parameter, a Terraform variable), and with it it is
    their default. ``external_id``, when given, is the default of the optional ExternalId the
    trust policy then requires. ``json`` is the policy alone: it validates the other arguments
    and does not use them. Raises ValueError (one line) on an unknown format or a bad value.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {_shown(fmt)}: choose one of {', '.join(FORMATS)}")
    if principal is not None:
        _check_principal(principal)
    if not isinstance(role_name, str) or not _ROLE_NAME.fullmatch(role_name):
        raise ValueError(
            f"role name {_shown(role_name)} is not an IAM role name "
            "(1 to 64 of letters, digits and +=,.@_-)"
        )
    if external_id is not None and (
        not isinstance(external_id, str) or not _EXTERNAL_ID.fullmatch(external_id)
    ):
        raise ValueError(
            f"external id {_shown(external_id)} is not an IAM external id "
            "(2 to 1224 of letters, digits and +=,.@:/_-)"
        )
    if fmt == "json":
        return json.dumps(policy_document(), indent=2) + "\n"
    if fmt == "cloudformation":
        return _cloudformation(principal, role_name, external_id)
    return _terraform(principal, role_name, external_id)


def _check_principal(principal: object) -> None:
    if isinstance(principal, str) and (
        _ACCOUNT_ID.fullmatch(principal) or _PRINCIPAL_ARN.fullmatch(principal)
    ):
        return
    raise ValueError(
        f"principal {_shown(principal)} is neither a 12-digit account id nor an IAM ARN "
        "(arn:aws[-cn|-us-gov]:iam::ACCOUNT:root, :role/NAME or :user/NAME)"
    )


def _shown(value: object) -> str:
    # repr escapes newlines and control characters: the message stays one line.
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _quoted(value: str) -> str:
    """A double-quoted string, valid alike in JSON, YAML and HCL (before HCL's own escapes)."""
    if not _PRINTABLE_ASCII.fullmatch(value):  # validated already; never trust a caller twice
        raise ValueError(f"{_shown(value)} is not printable ASCII")
    return json.dumps(value)


def _yaml_scalar(value: str) -> str:
    if _PLAIN_YAML.fullmatch(value) and value.lower() not in _YAML_WORDS:
        return value
    return _quoted(value)


def _hcl_string(value: str) -> str:
    # "${" and "%{" start an interpolation or a directive in an HCL string; "$${" and "%%{" are
    # their literal forms.
    return _quoted(value).replace("${", "$${").replace("%{", "%%{")


def _cloudformation(principal: str | None, role_name: str, external_id: str | None) -> str:
    lines = [
        "# The read-only role vpce-audit assumes in every account of an organisation.",
        "# Deploy it as a service-managed StackSet from the management account (or a delegated",
        "# administrator) to the whole organisation, and run",
        f"#   vpce-audit scan --org --role-name {role_name} [--external-id ID]",
        "# from the scanning account. The actions are the collector's allowlist",
        "# (vpce_audit/collect/operations.py); tests/test_organization.py checks the two agree.",
        'AWSTemplateFormatVersion: "2010-09-09"',
        "Description: Read-only role for vpce-audit (VPC endpoint and network auditing).",
        "Parameters:",
    ]
    if principal is None or _ACCOUNT_ID.fullmatch(principal):
        lines += ["  ScannerAccountId:", "    Type: String"]
        if principal is not None:
            lines.append(f"    Default: {_quoted(principal)}")
        lines += [
            '    AllowedPattern: "[0-9]{12}"',
            "    Description: The account vpce-audit runs in; only it may assume the role.",
        ]
        trusted = '!Sub "arn:${AWS::Partition}:iam::${ScannerAccountId}:root"'
    else:
        lines += [
            "  ScannerPrincipalArn:",
            "    Type: String",
            f"    Default: {_quoted(principal)}",
            '    AllowedPattern: "arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:(root|(role|user)/.+)"',
            "    Description: The role or user vpce-audit runs as; only it may assume the role.",
        ]
        trusted = "!Ref ScannerPrincipalArn"
    lines += [
        "  ExternalId:",
        "    Type: String",
        f"    Default: {_quoted(external_id or '')}",
        "    Description: Optional ExternalId the scanner passes with --external-id.",
        "Conditions:",
        '  UseExternalId: !Not [!Equals [!Ref ExternalId, ""]]',
        "Resources:",
        "  VpceAuditReadOnlyRole:",
        "    Type: AWS::IAM::Role",
        "    Properties:",
        f"      RoleName: {_yaml_scalar(role_name)}",
        "      MaxSessionDuration: 3600",
        "      AssumeRolePolicyDocument:",
        '        Version: "2012-10-17"',
        "        Statement:",
        "          - Effect: Allow",
        "            Principal:",
        f"              AWS: {trusted}",
        "            Action: sts:AssumeRole",
        "            Condition: !If",
        "              - UseExternalId",
        "              - StringEquals:",
        "                  sts:ExternalId: !Ref ExternalId",
        "              - !Ref AWS::NoValue",
        "      Policies:",
        f"        - PolicyName: {_yaml_scalar(POLICY_NAME)}",
        "          PolicyDocument:",
        '            Version: "2012-10-17"',
        "            Statement:",
        f"              - Sid: {STATEMENT_SID}",
        "                Effect: Allow",
        '                Resource: "*"',
        "                Action:",
        *(f"                  - {action}" for action in read_only_actions()),
        "Outputs:",
        "  RoleArn:",
        "    Value: !GetAtt VpceAuditReadOnlyRole.Arn",
    ]
    return "\n".join(lines) + "\n"


def _terraform(principal: str | None, role_name: str, external_id: str | None) -> str:
    # JSON is HCL too (an object constructor may separate a key by ":"), with " : " as
    # terraform fmt writes it: the policy is the JSON document, inside jsonencode.
    policy = json.dumps(policy_document(), indent=2, separators=(",", " : "))
    default = [] if principal is None else [f"  default     = {_hcl_string(principal)}"]
    lines = [
        "# The read-only role vpce-audit assumes in an account (apply once per account), trusting",
        "# the identity vpce-audit runs as. Run",
        f"#   vpce-audit scan --org --role-name {role_name} [--external-id ID]",
        "# from the scanning account. The actions are the collector's allowlist",
        "# (vpce_audit/collect/operations.py), as `vpce-audit permissions --format terraform`",
        "# prints them.",
        "",
        'variable "scanner_principal" {',
        '  description = "The account id, or the role or user ARN, vpce-audit runs as: only it may'
        ' assume the role."',
        "  type        = string",
        *default,
        "",
        "  validation {",
        '    condition     = can(regex("^([0-9]{12}|arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:'
        '(root|(role|user)/.+))$", var.scanner_principal))',
        '    error_message = "The scanner principal must be a 12-digit account id or an IAM root,'
        ' role or user ARN."',
        "  }",
        "}",
        "",
        'variable "external_id" {',
        '  description = "The ExternalId the scanner passes with --external-id (empty: none)."',
        "  type        = string",
        f"  default     = {_hcl_string(external_id or '')}",
        "}",
        "",
        'data "aws_partition" "current" {}',
        "",
        "locals {",
        '  scanner_principal_arn = can(regex("^[0-9]{12}$", var.scanner_principal))'
        ' ? "arn:${data.aws_partition.current.partition}:iam::${var.scanner_principal}:root"'
        " : var.scanner_principal",
        "}",
        "",
        'data "aws_iam_policy_document" "vpce_audit_trust" {',
        "  statement {",
        '    effect  = "Allow"',
        '    actions = ["sts:AssumeRole"]',
        "    principals {",
        '      type        = "AWS"',
        "      identifiers = [local.scanner_principal_arn]",
        "    }",
        '    dynamic "condition" {',
        '      for_each = var.external_id == "" ? [] : [var.external_id]',
        "      content {",
        '        test     = "StringEquals"',
        '        variable = "sts:ExternalId"',
        "        values   = [condition.value]",
        "      }",
        "    }",
        "  }",
        "}",
        "",
        'resource "aws_iam_role" "vpce_audit_read_only" {',
        f"  name                 = {_hcl_string(role_name)}",
        "  max_session_duration = 3600",
        "  assume_role_policy   = data.aws_iam_policy_document.vpce_audit_trust.json",
        "}",
        "",
        'resource "aws_iam_role_policy" "vpce_audit_read_only" {',
        f"  name = {_hcl_string(POLICY_NAME)}",
        "  role = aws_iam_role.vpce_audit_read_only.id",
        "  policy = jsonencode(" + policy.replace("\n", "\n  ") + ")",
        "}",
        "",
        'output "role_arn" {',
        "  value = aws_iam_role.vpce_audit_read_only.arn",
        "}",
    ]
    return "\n".join(lines) + "\n"
