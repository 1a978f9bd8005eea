"""Command line: parse arguments, wire the stages, map the outcome to an exit code.

Exit codes: 0 clean; 1 findings at or above --fail-on; 2 usage or configuration error;
3 scan incomplete (collection errors or a rule crash); 4 internal error (a bug: one line on
stderr, the traceback with -v); 130 interrupted (SIGINT), 143 terminated (SIGTERM).
Precedence 2 > 3 > 1 > 0. Only ``entry`` exits; everything else returns or raises.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import gc
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TextIO, TypeAlias

from vpce_audit import __version__, console
from vpce_audit.baseline import (
    BaselineError,
    ScanView,
    compare,
    is_report,
    load_report,
    view_of,
    view_of_report,
)
from vpce_audit.clock import source_date_epoch, utc_now
from vpce_audit.collect.account import ROUTE53_CALLS_IN_FLIGHT
from vpce_audit.collect.accounts import (
    DEFAULT_ROLE_NAME,
    DEFAULT_SESSION_NAME,
    AccountSelection,
    Target,
    prepare,
    role_account,
    targets,
)
from vpce_audit.collect.calls import CANCELLED, Cancelled
from vpce_audit.collect.connections import (
    REGIONS_AT_MOST,
    Pools,
    close_shared,
    configure,
    other_pool,
    pools_within,
    retained_at_most,
)
from vpce_audit.collect.limits import ensure_open_files, open_files_limit, open_files_needed
from vpce_audit.collect.processes import (
    AccountsAcrossProcesses,
    ProcessFailed,
    Relay,
    RelayedLogs,
    ShownAsOne,
    collect_in_processes,
)
from vpce_audit.collect.rates import share_account_quotas
from vpce_audit.collect.region import calls_in_flight_per_region
from vpce_audit.collect.runner import (
    DEFAULT_CALL_TIMEOUT,
    DEFAULT_REGION_WORKERS,
    DEFAULT_SCOPE_TIMEOUT,
    AccountWork,
    ClientFactory,
    CollectionRequest,
    CredentialsError,
    Progress,
    caller_account,
    collect,
    collect_accounts,
    collection_summary,
    home_region,
    recorded_errors,
)
from vpce_audit.collect.tally import Tally
from vpce_audit.compliance import FRAMEWORKS, control_view, mappings_for
from vpce_audit.config import Config, ConfigError, find_config, load_config, parse_rule_selection
from vpce_audit.findings import Finding, Severity
from vpce_audit.launch import cycles_uncollected
from vpce_audit.model import ACCOUNT_ID, GLOBAL_REGION, REGION_NAME, AccountSnapshot
from vpce_audit.output import OutputError, output_path, write_output
from vpce_audit.permissions import DEFAULT_ROLE_NAME as PERMISSIONS_ROLE_NAME
from vpce_audit.permissions import FORMATS as PERMISSION_FORMATS
from vpce_audit.permissions import render as render_permissions
from vpce_audit.report import html as html_report
from vpce_audit.report import json_report, markdown, sarif, table
from vpce_audit.report.diff import RENDERERS as DIFF_RENDERERS
from vpce_audit.report.targets import (
    Target as ReportTarget,
)
from vpce_audit.report.targets import (
    TargetError,
    parse_targets,
    sarif_directory,
    sarif_file_names,
    stale_sarif_files,
)
from vpce_audit.rules.base import Rule
from vpce_audit.rules.metadata import (
    MetadataError,
    RuleMeta,
    builtin_metadata,
    retired_metadata,
)
from vpce_audit.rules.registry import RULE_ERROR_ID, RegistryError, RuleRegistry, load_registry
from vpce_audit.scan import ExitCode, ScanResult, run_scan, select_rules, settings_from
from vpce_audit.snapshot import document as snapshot_document
from vpce_audit.snapshot.document import MAX_SHARDS, SnapshotDocument, SnapshotError
from vpce_audit.snapshot.views import Snapshot
from vpce_audit.text import TooLarge, read_bounded

log = logging.getLogger("vpce_audit")

REPORTERS = {
    "table": table.render,
    "json": json_report.render,
    "sarif": sarif.render,
    "markdown": markdown.render,
    "html": html_report.render,
}
DEFAULT_FAIL_ON = "low"
INTERNAL_ERROR = 4
INTERRUPTED = 130
TERMINATED = 143
MIN_MARKDOWN_SIZE = 4096
# Far beyond what helps (each process is an interpreter, each worker a thread), low enough that
# a typo does not exhaust the machine's processes or file descriptors.
MAX_WORKERS = 512
MAX_PROCESSES = 64
AUTO_PROCESSES_MOST = 8
"""What ``--processes auto`` uses at most: each process assumes every account's role and makes
its account-wide calls itself, so more processes cost more STS and account-wide calls."""
PROCESSES_VARIABLE = "VPCE_AUDIT_PROCESSES"
"""The environment's default for --processes (N or auto), e.g. set once for a CI runner."""


class UsageError(Exception):
    """Bad arguments or configuration: exit 2 with one clear line."""


class Terminated(BaseException):
    """SIGTERM, raised in the main thread like KeyboardInterrupt is for SIGINT."""


class _Parser(argparse.ArgumentParser):
    """argparse's usage errors as the tool's own: one line and exit 2."""

    def error(self, message: str) -> NoReturn:
        # The message quotes the user's arguments: shown safe and bounded like any other line.
        console.error(message)
        self.exit(int(ExitCode.USAGE))


def _add_fail_on(parser: Any, what: str = "a finding") -> None:
    parser.add_argument(
        "--fail-on",
        type=_fail_on,
        default=_fail_on(DEFAULT_FAIL_ON),
        metavar="SEVERITY",
        help=f"exit 1 when {what} is at least this severe: info, low, medium, high, "
        f"critical, or never (default: {DEFAULT_FAIL_ON}; info findings never fail a run)",
    )


class _Union(argparse.Action):
    """A repeatable list option: ``--accounts A --accounts B`` means both, as ``A,B`` does."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, (getattr(namespace, self.dest) or frozenset()) | values)


class _Once(argparse.Action):
    """An option that may be given once: a second value is an error, not a silent choice."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        given: set[str] = namespace.__dict__.setdefault("_given_once", set())
        if self.dest in given:
            parser.error(f"{option_string} is given twice; give it once")
        given.add(self.dest)
        setattr(namespace, self.dest, values)


_CATEGORY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")


def _severities(text: str) -> frozenset[Severity]:
    try:
        chosen = frozenset(Severity.parse(part) for part in text.split(",") if part.strip())
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if not chosen:
        raise argparse.ArgumentTypeError("name at least one severity")
    return chosen


def _category_name(text: str) -> str:
    if not _CATEGORY_NAME.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r} is not a category name (letters, digits, '.', '_', '-'; up to 63)"
        )
    return text


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a number of seconds") from None
    if not 0 < value <= 86_400:
        raise argparse.ArgumentTypeError("must be more than 0 and at most 86400 seconds")
    return value


def _size(text: str) -> int:
    units = {"k": 1024, "m": 1024 * 1024}
    number, unit = (text[:-1], text[-1].lower()) if text[-1:].lower() in units else (text, "")
    try:
        value = int(number) * units.get(unit, 1)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r} is not a size (bytes, or with K or M: 64K, 1M)"
        ) from None
    if value < MIN_MARKDOWN_SIZE:
        raise argparse.ArgumentTypeError(f"must be at least {MIN_MARKDOWN_SIZE} bytes")
    return value


def _fail_on(text: str) -> Severity | None:
    if text.lower() == "never":
        return None
    try:
        return Severity.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{error}, or never") from None


def _region(text: str) -> str:
    # As a snapshot accepts them: lower-case words and digits joined by dashes (us-east-1,
    # us-gov-west-1); "global" is the snapshot's name for account-wide facts, not a region.
    if not REGION_NAME.fullmatch(text) or text == GLOBAL_REGION:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not an AWS region name")
    return text


_SHARD = re.compile(r"([0-9]{1,7})/([0-9]{1,7})", re.ASCII)


def _processes(text: str) -> int | str:
    """--processes: a number, or 'auto' (chosen by ``_processes_for``)."""
    if text.strip().lower() == "auto":
        return "auto"
    if not re.fullmatch(r"[0-9]{1,4}", text, re.ASCII):
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a number of processes or auto")
    return int(text)


def _processes_for(args: argparse.Namespace) -> int:
    """How many collection processes: --processes N, else VPCE_AUDIT_PROCESSES, else auto.

    Auto is one process unless a live scan names several accounts (--org, --role-arn,
    several --profile): then the usable cores, at most AUTO_PROCESSES_MOST. One account's
    collection gains little from more (its account-wide calls are repeated in each), and the
    demo and a --shard are one process by design."""
    chosen, source = args.processes, "--processes"
    if chosen is None:
        configured, source = os.environ.get(PROCESSES_VARIABLE, "").strip(), PROCESSES_VARIABLE
        try:
            chosen = _processes(configured) if configured else "auto"
        except argparse.ArgumentTypeError as error:
            raise UsageError(f"{PROCESSES_VARIABLE}: {error}") from None
    one_process = args.demo or getattr(args, "shard", None) is not None
    if chosen != "auto":
        assert isinstance(chosen, int)
        if not 1 <= chosen <= MAX_PROCESSES:
            raise UsageError(f"{source} must be between 1 and {MAX_PROCESSES}")
        if one_process and source == PROCESSES_VARIABLE:
            # A machine's default (a CI runner's) is for the live scans it runs; the demo and a
            # --shard of the sharded recipe are one process by design, as under auto.
            return 1
        return chosen
    one_account = args.accounts is not None and len(args.accounts) == 1
    if one_process or not _several_accounts(args) or one_account:
        return 1
    return max(1, min(_usable_cpus(), AUTO_PROCESSES_MOST))


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS and Windows have no affinity mask
        return os.cpu_count() or 1


def _shard(text: str) -> tuple[int, int]:
    # Digits only: int() would also take " 1 ", "1_0", "+1" and other scripts' digits.
    match = _SHARD.fullmatch(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not K/N, e.g. 2/8")
    shard, shards = int(match.group(1)), int(match.group(2))
    if not 1 <= shard <= shards:
        raise argparse.ArgumentTypeError(f"{text[:40]!r}: K must be between 1 and N")
    if shards > MAX_SHARDS:
        raise argparse.ArgumentTypeError(f"{text[:40]!r}: N must be at most {MAX_SHARDS:,}")
    return shard, shards


# What sts:AssumeRole and IAM accept (https://docs.aws.amazon.com/STS/latest/APIReference/
# API_AssumeRole.html, https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html):
# checked here so that a typo is one usage error, not an AssumeRole failure in every member.
_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)
_ROLE_NAME = re.compile(r"(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}", re.ASCII)


def _matching(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    def check(text: str) -> str:
        if not pattern.fullmatch(text):
            raise argparse.ArgumentTypeError(f"{text[:40]!r} is not {what}")
        return text

    return check


def _account_ids(text: str) -> frozenset[str]:
    ids = [item.strip() for item in text.split(",") if item.strip()]
    invalid = [item for item in ids if not ACCOUNT_ID.fullmatch(item)]
    if invalid or not ids:
        shown = repr(invalid[0][:40]) if invalid else "nothing"
        raise argparse.ArgumentTypeError(f"{shown} is not a list of 12-digit account ids")
    return frozenset(ids)


def _add_source_arguments(parser: argparse.ArgumentParser, *, with_snapshot: bool) -> None:
    source = parser.add_argument_group("what to scan")
    source.add_argument(
        "--region",
        action="append",
        type=_region,
        metavar="REGION",
        help="region to collect (repeatable); default: every region enabled for the account",
    )
    source.add_argument(
        "--exclude-region",
        action="append",
        type=_region,
        default=[],
        metavar="REGION",
        help="leave this region out even when it is enabled (repeatable)",
    )
    source.add_argument(
        "--profile",
        action="append",
        metavar="PROFILE",
        help="AWS profile (repeatable: one account each; default: the standard credential chain)",
    )
    accounts = parser.add_argument_group("accounts (default: the credentials' own account)")
    accounts.add_argument(
        "--org",
        action="store_true",
        help="every ACTIVE account of the organisation (run from the management account or a "
        "delegated administrator); --role-name is assumed in each member",
    )
    accounts.add_argument(
        "--role-name",
        type=_matching(_ROLE_NAME, "an IAM role name (letters, digits, +=,.@_-; up to 64)"),
        default=DEFAULT_ROLE_NAME,
        metavar="NAME",
        help=f"role assumed in each member with --org (default: {DEFAULT_ROLE_NAME})",
    )
    accounts.add_argument(
        "--role-arn",
        action="append",
        default=[],
        metavar="ARN",
        help="scan the account of this role, assuming it (repeatable)",
    )
    accounts.add_argument(
        "--external-id",
        type=_matching(_EXTERNAL_ID, "an ExternalId (2 to 1224 of letters, digits, +=,.@:/_-)"),
        metavar="ID",
        help="ExternalId for the assumed roles",
    )
    accounts.add_argument(
        "--role-session-name",
        type=_matching(_SESSION_NAME, "a role session name (2 to 64 of letters, digits, +=,.@_-)"),
        default=DEFAULT_SESSION_NAME,
        metavar="NAME",
        help="session name of the assumed roles, seen in CloudTrail "
        f"(default: {DEFAULT_SESSION_NAME})",
    )
    accounts.add_argument(
        "--accounts",
        type=_account_ids,
        action=_Union,
        metavar="IDS",
        help="only these accounts (comma-separated; repeatable)",
    )
    accounts.add_argument(
        "--exclude-accounts",
        type=_account_ids,
        action=_Union,
        default=frozenset(),
        metavar="IDS",
        help="leave these accounts out (comma-separated; repeatable)",
    )
    source.add_argument(
        "--demo",
        action="store_true",
        help="scan the built-in demo estate (moto, no AWS account needed)",
    )
    if with_snapshot:
        source.add_argument(
            "--snapshot",
            type=Path,
            action="append",
            metavar="FILE",
            help="evaluate a snapshot written by 'vpce-audit collect' instead of calling AWS "
            "(repeatable: shards are merged as 'vpce-audit merge' does)",
        )
    source.add_argument(
        "--workers",
        type=int,
        default=DEFAULT_REGION_WORKERS,
        metavar="N",
        help=f"regions collected at once, per process (default: {DEFAULT_REGION_WORKERS})",
    )
    source.add_argument(
        "--processes",
        type=_processes,
        default=None,
        metavar="N|auto",
        help="collect in N processes, each a shard of the account-regions (default: auto, "
        f"or {PROCESSES_VARIABLE}: the usable cores, at most {AUTO_PROCESSES_MOST}, for a "
        "live scan of several accounts; else 1); botocore's CPU per call makes a large "
        "organisation's scan CPU-bound",
    )
    source.add_argument(
        "--scope-timeout",
        type=_seconds,
        default=DEFAULT_SCOPE_TIMEOUT,
        metavar="SECONDS",
        help="time one account-region may take; its calls not made by then are recorded as "
        f"collection errors (default: {DEFAULT_SCOPE_TIMEOUT:.0f})",
    )
    source.add_argument(
        "--call-timeout",
        type=_seconds,
        default=DEFAULT_CALL_TIMEOUT,
        metavar="SECONDS",
        help="time an AWS answer may take to start arriving, per attempt; four attempts per "
        f"call (default: {DEFAULT_CALL_TIMEOUT:.0f})",
    )


def _add_verbosity(
    parser: argparse.ArgumentParser, default_verbose: Any, default_quiet: Any
) -> None:
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=default_verbose,
        help="more diagnostics on stderr (-vv for debug)",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", default=default_quiet, help="no progress messages"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="vpce-audit",
        description="Audit AWS VPC endpoints and the networking around them.",
        epilog="Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage error, "
        "3 scan incomplete, 4 internal error, 130 interrupted, 143 terminated.",
    )
    parser.add_argument("--version", action="version", version=f"vpce-audit {__version__}")
    _add_verbosity(parser, default_verbose=0, default_quiet=False)
    # -v / -q are also accepted after the sub-command; there SUPPRESS keeps an absent option from
    # resetting what was given before it.
    verbosity = _Parser(add_help=False)
    _add_verbosity(verbosity, default_verbose=argparse.SUPPRESS, default_quiet=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    scan = commands.add_parser(
        "scan", help="collect (or load a snapshot) and evaluate the rules", parents=[verbosity]
    )
    _add_source_arguments(scan, with_snapshot=True)
    rules_group = scan.add_argument_group("rules and configuration")
    rules_group.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="configuration file (default: .vpce-audit.yml in the working directory, if any)",
    )
    rules_group.add_argument(
        "--select",
        metavar="IDS",
        help="run only these rules: comma-separated ids or prefixes (VPCE1,VPCE401); "
        "also enables rules that are off by default",
    )
    rules_group.add_argument(
        "--ignore", metavar="IDS", help="skip these rules: comma-separated ids or prefixes"
    )
    report = scan.add_argument_group("report")
    report.add_argument(
        "--format",
        choices=sorted(REPORTERS),
        action=_Once,
        help="the report on stdout or in -o FILE (default: table)",
    )
    report.add_argument(
        "-o",
        "--output",
        action="append",
        default=[],
        metavar="FILE|FORMAT=FILE",
        help="write the report to FILE instead of stdout (a regular file is replaced "
        "atomically; /dev/..., FIFOs and devices are written in place; '-' is stdout); "
        "FORMAT=FILE (repeatable) writes that format there, so one scan writes several reports",
    )
    report.add_argument(
        "--output-dir",
        metavar="DIR",
        help="write the SARIF as DIR/vpce-audit-<n>.sarif, one file per 19 accounts (GitHub "
        "takes 20 runs per file); earlier files of that name in DIR are removed",
    )
    report.add_argument(
        "--sarif-category",
        type=_category_name,
        metavar="NAME",
        help="SARIF categories vpce-audit/aws/NAME/<account>/: required for SARIF of a scan "
        "narrower than the default (rules selected, ignored or disabled, regions chosen or "
        "excluded, another profile), whose upload would otherwise close the alerts of what it "
        "did not evaluate",
    )
    report.add_argument(
        "--no-color",
        action="store_true",
        help="no colour in the table, even on a terminal (NO_COLOR does the same)",
    )
    report.add_argument(
        "--max-size",
        type=_size,
        default=markdown.JOB_SUMMARY_LIMIT,
        metavar="BYTES",
        help="largest Markdown report; rows that do not fit are counted, not shown (default: "
        "1M, GitHub's job-summary limit; 64K fits a pull-request comment)",
    )
    _add_fail_on(report)
    report.add_argument(
        "--severity",
        type=_severities,
        metavar="LEVELS",
        help="report only findings of these severities (comma-separated: high,critical); every "
        "rule is still evaluated, and --fail-on looks at what is reported",
    )
    report.add_argument(
        "--compliance",
        choices=sorted(FRAMEWORKS),
        metavar="FRAMEWORK",
        help="evaluate only the rules mapped to FRAMEWORK's controls and report pass / fail / "
        f"unknown / not applicable per control ({', '.join(sorted(FRAMEWORKS))})",
    )
    report.add_argument(
        "--baseline",
        type=Path,
        metavar="REPORT",
        help="an earlier JSON report: each finding is marked new, unchanged or changed, fixed "
        "and not-seen ones are listed, and --fail-on applies to new findings only",
    )

    _add_diff_parser(commands, verbosity)

    collect_parser = commands.add_parser(
        "collect", help="collect a snapshot for later scans", parents=[verbosity]
    )
    _add_source_arguments(collect_parser, with_snapshot=False)
    collect_parser.add_argument(
        "-o",
        "--output",
        action=_Once,
        metavar="FILE",
        required=True,
        help="where to write the snapshot JSON ('-' for stdout)",
    )
    collect_parser.add_argument(
        "--shard",
        type=_shard,
        action=_Once,
        metavar="K/N",
        help="collect only shard K of N of the account-regions (a hash of their names, so N "
        "machines split an organisation without talking); join the parts with 'merge'",
    )
    collect_parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="configuration file for regions and exclude_regions (default: .vpce-audit.yml "
        "in the working directory, if any)",
    )

    merge = commands.add_parser(
        "merge", help="join snapshots collected in shards into one", parents=[verbosity]
    )
    merge.add_argument("snapshots", nargs="+", type=Path, metavar="FILE")
    merge.add_argument(
        "-o",
        "--output",
        action=_Once,
        metavar="FILE",
        required=True,
        help="the merged snapshot ('-' for stdout)",
    )

    _add_permissions_parser(commands, verbosity)
    completion = commands.add_parser(
        "completion",
        help="print the shell code that completes vpce-audit's commands and options",
        parents=[verbosity],
    )
    completion.add_argument("shell", choices=COMPLETION_SHELLS)
    demo = commands.add_parser("demo", help="about the built-in demo estate", parents=[verbosity])
    demo_commands = demo.add_subparsers(dest="demo_command", metavar="ACTION")
    demo_commands.required = True
    demo_commands.add_parser(
        "config",
        help="print the demo's configuration: collect --demo, then scan --snapshot --config "
        "with it, reports what scan --demo reports",
    )

    rules = commands.add_parser("rules", help="list rules or show one", parents=[verbosity])
    rule_commands = rules.add_subparsers(dest="rules_command", metavar="ACTION")
    rule_commands.required = True
    listing = rule_commands.add_parser("list", help="every rule with id, severity and title")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    listing.add_argument(
        "--severity",
        type=_severities,
        metavar="LEVELS",
        help="only rules of these severities (comma-separated: high,critical)",
    )
    listing.add_argument(
        "--tag", action="append", default=[], metavar="TAG", help="only rules with this tag"
    )
    listing.add_argument(
        "--compliance",
        choices=sorted(FRAMEWORKS),
        metavar="FRAMEWORK",
        help=f"only rules mapped to a control of FRAMEWORK ({', '.join(sorted(FRAMEWORKS))})",
    )
    show = rule_commands.add_parser("show", help="a rule's full documentation")
    show.add_argument("rule_id", metavar="RULE_ID")
    return parser


def _add_permissions_parser(commands: Any, verbosity: argparse.ArgumentParser) -> None:
    permissions = commands.add_parser(
        "permissions",
        help="print the IAM policy a scan needs, or a role template granting it",
        parents=[verbosity],
    )
    permissions.add_argument(
        "--format",
        choices=PERMISSION_FORMATS,
        default="json",
        action=_Once,
        help="json: the policy document; cloudformation: a role template usable as a StackSet; "
        "terraform: the role in HCL (default: json)",
    )
    permissions.add_argument(
        "--principal",
        metavar="ACCOUNT|ARN",
        help="who may assume the role: the scanning account's id, or a role or user ARN",
    )
    permissions.add_argument(
        "--role-name",
        default=PERMISSIONS_ROLE_NAME,
        metavar="NAME",
        help=f"the role's name (default: {PERMISSIONS_ROLE_NAME})",
    )
    permissions.add_argument("--external-id", metavar="ID", help="ExternalId the role requires")
    permissions.add_argument(
        "-o", "--output", action=_Once, metavar="FILE", help="write it to FILE instead of stdout"
    )


def _add_diff_parser(commands: Any, verbosity: argparse.ArgumentParser) -> None:
    diff = commands.add_parser(
        "diff",
        help="what changed between two scans (JSON reports, or snapshots to scan)",
        parents=[verbosity],
    )
    diff.add_argument("old", type=Path, metavar="OLD")
    diff.add_argument("new", type=Path, metavar="NEW")
    diff.add_argument(
        "--format", choices=("table", "markdown", "json"), default="table", action=_Once
    )
    diff.add_argument(
        "-o", "--output", action=_Once, metavar="FILE", help="write to FILE instead of stdout"
    )
    diff.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="configuration for scanning snapshots (default: .vpce-audit.yml, if any)",
    )
    _add_fail_on(diff, what="a new finding")


# -- commands ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Display:
    """Where a collection's progress goes (see vpce_audit/progress.py)."""

    steps: Progress | None
    """Every step, one line each (-v)."""
    live: bool
    """A live line on the terminal."""
    quiet: bool


def _display(args: argparse.Namespace) -> _Display:
    if args.quiet:
        return _Display(None, live=False, quiet=True)
    if args.verbose > 0:
        return _Display(console.say, live=False, quiet=False)
    return _Display(None, live=sys.stderr.isatty(), quiet=False)


@contextlib.contextmanager
def _shown(display: _Display, tally: Tally) -> Iterator[Progress]:
    """The channel for lines that stay (one per account of an organisation scan), with the live
    line drawn meanwhile when the display has one."""
    if not display.live:
        yield console.say
        return
    from vpce_audit.progress import live_line

    with live_line(tally) as live:
        yield live.say


def _account_options(args: argparse.Namespace) -> bool:
    """Whether accounts are chosen by --org, --role-arn, --accounts or --exclude-accounts."""
    return bool(args.org or args.role_arn or args.accounts or args.exclude_accounts)


def _check_account_options(args: argparse.Namespace) -> None:
    """The account options' usage errors, before any work (and before --processes starts
    processes that would each find them). Options that shape how --org or --role-arn reach
    accounts do nothing without them: a user who forgot --org would otherwise get a clean scan
    of one account, the credentials' own."""
    by_org_or_roles = bool(args.org or args.role_arn)
    shaping = {
        "--role-name": (args.role_name != DEFAULT_ROLE_NAME, bool(args.org), "--org"),
        "--exclude-accounts": (bool(args.exclude_accounts), by_org_or_roles, "--org or --role-arn"),
        "--external-id": (args.external_id is not None, by_org_or_roles, "--org or --role-arn"),
        "--role-session-name": (
            args.role_session_name != DEFAULT_SESSION_NAME,
            by_org_or_roles,
            "--org or --role-arn",
        ),
    }
    if not args.demo:  # the demo says it takes none of them
        if len(_profiles(args)) > 1 and _account_options(args):
            raise UsageError("several --profile options name the accounts; use no account options")
        for role_arn in args.role_arn:
            try:
                role_account(role_arn)
            except ValueError as error:
                raise UsageError(f"--role-arn: {error}") from None
    for option, (given, shaped, needs) in shaping.items():
        if given and args.demo:
            raise UsageError(f"--demo scans the built-in estate; it takes no {option}")
        if given and not shaped and option == "--role-name" and args.role_arn:
            raise UsageError(
                "--role-name names the role --org assumes in each member; a --role-arn names "
                "its role itself"
            )
        if given and not shaped:
            raise UsageError(
                f"{option} applies only with {needs}; without, only the credentials' own "
                "account is scanned"
            )


def _profiles(args: argparse.Namespace) -> tuple[str | None, ...]:
    """The --profile options, each once, in order; (None,): the default credentials."""
    return tuple(dict.fromkeys(args.profile or [None]))


def _several_accounts(args: argparse.Namespace) -> bool:
    """Whether the command names several accounts (an organisation, roles, profiles)."""
    return _account_options(args) or len(_profiles(args)) > 1


def _collect(
    args: argparse.Namespace,
    config: Config | None = None,
    *,
    display: _Display | None = None,
    tally: Tally | None = None,
    raise_open_files: bool = True,
) -> SnapshotDocument:
    """A live (or demo) collection; ``config`` supplies default regions and exclusions;
    ``display`` and ``tally``: chosen by the caller (a collection process of --processes)
    instead of from the options; ``raise_open_files``: False in such a process, whose parent
    raised the open-files limit it inherits (and said so once, if it could not)."""
    if not 1 <= args.workers <= MAX_WORKERS:
        raise UsageError(f"--workers must be between 1 and {MAX_WORKERS}")
    args = argparse.Namespace(**{**vars(args), "processes": _processes_for(args)})
    _check_account_options(args)
    request = CollectionRequest(
        regions=_chosen_regions(args, config),
        shard=getattr(args, "shard", None),
        max_workers=args.workers,
        scope_timeout=args.scope_timeout,
        exclude_regions=frozenset(args.exclude_region)
        | frozenset(config.exclude_regions if config else ()),
    )
    if request.regions is not None and set(request.regions) <= request.exclude_regions:
        # Known before any call: every region asked for is excluded, so nothing would be
        # scanned (as an empty `regions` list, refused by the configuration).
        raise UsageError(
            f"every region to scan ({', '.join(request.regions)}) is excluded by "
            "--exclude-region / exclude_regions: nothing would be scanned"
        )
    request = dataclasses.replace(request, plan=_plan(args, request))
    selection = AccountSelection(
        org=args.org,
        role_name=args.role_name,
        role_arns=tuple(dict.fromkeys(args.role_arn)),
        external_id=args.external_id,
        session_name=args.role_session_name,
        accounts=args.accounts,
        exclude_accounts=args.exclude_accounts,
    )
    if args.processes > 1:
        return _collect_in_processes(args, config, request, selection)
    display = display or _display(args)
    progress = display.steps
    tally = tally or Tally()
    multi_account = _account_options(args)
    if args.demo:
        if args.region or args.profile or multi_account:
            raise UsageError(
                "--demo scans the built-in estate; it takes no --region, --profile or account "
                "options"
            )
        from vpce_audit.demo.estate import DEMO_REGIONS, demo_estate

        try:
            with demo_estate() as (session, _ids):
                demo = dataclasses.replace(request, regions=DEMO_REGIONS)
                try:
                    with _shown(display, tally):
                        clients = ClientFactory(session, args.call_timeout)
                        return collect(clients, demo, progress, tally)
                except BaseException:
                    CANCELLED.set()  # before the mock goes: no worker may call real AWS
                    raise
        except RuntimeError as error:
            raise UsageError(str(error)) from None
    profiles = _profiles(args)
    _open_files_for(args.workers, request.regions, raise_limit=raise_open_files)
    several = _several_accounts(args)
    works: dict[str, AccountWork] = {}  # an account two profiles reach is collected once
    unreachable: list[AccountSnapshot] = []
    listed: dict[str | None, Listed] = getattr(args, "listed", None) or {}
    for profile in profiles:
        base, home, caller, chosen = _targets_of(
            profile, args, request, selection, named=len(profiles) > 1, listed=listed.get(profile)
        )
        if several and not display.quiet:
            console.say(f"{len(chosen)} account(s) to scan from {caller}")
        reached, refused = prepare(base, home, chosen, selection, request)
        for work in reached:
            works.setdefault(work.account_id, work)
        unreachable += refused
    with _shown(display, tally) as lasting:
        # Several accounts: one line per account and a summary even without a terminal (CI
        # logs); above the live line on a terminal.
        per_account = lasting if several and not display.quiet else None
        if getattr(args, "collection_process", False):
            # A process of --processes: its parent says each account's line, the lost ones
            # included, once for all processes (a warning here would repeat it per process).
            per_account = _unsaid
        return collect_accounts(
            list(works.values()),
            unreachable,
            request,
            progress=progress,
            account_progress=per_account,
            tally=tally,
        )


Listed: TypeAlias = tuple[str, str, tuple[Target, ...]]
"""What one profile's credentials reach: their home region, their account and the accounts to
scan (``_targets_of``), as the parent of --processes lists them for its processes."""


def _targets_of(
    profile: str | None,
    args: argparse.Namespace,
    request: CollectionRequest,
    selection: AccountSelection,
    *,
    named: bool,
    listed: Listed | None = None,
) -> tuple[ClientFactory, str, str, tuple[Target, ...]]:
    """The credentials of ``profile``, their home region and account, and the accounts they
    scan; with several profiles (``named``), an error says whose it is. ``listed``: those
    already found (by the parent of --processes), so only the credentials are made here."""
    try:
        base = ClientFactory.from_profile(profile, args.call_timeout)
        if listed is not None:
            return (base, *listed)
        home = home_region(base, request)
        caller = caller_account(base, home)
        return base, home, caller, targets(base, home, caller, selection)
    except CredentialsError as error:
        if named:
            raise CredentialsError(f"profile {profile}: {error}") from None
        raise


def _chosen_regions(args: argparse.Namespace, config: Config | None) -> tuple[str, ...] | None:
    """--region, else the configuration's regions; None: every region enabled for an account."""
    if args.region:
        return tuple(dict.fromkeys(args.region))
    return config.regions if config is not None else None


def _plan(args: argparse.Namespace, request: CollectionRequest) -> str:
    """What chooses the account-regions a collection reads, as a short digest: shards merge
    only with shards collected the same way (machines given different --region options would
    otherwise make a "complete" whole of parts of two different scans)."""
    chosen = {
        "demo": bool(args.demo),
        "regions": sorted(set(request.regions or ())),
        "exclude_regions": sorted(request.exclude_regions),
        "org": bool(args.org),
        "role_name": args.role_name,
        "role_arns": sorted(set(args.role_arn)),
        "accounts": sorted(args.accounts or ()),
        "exclude_accounts": sorted(args.exclude_accounts),
        "profiles": sorted({profile or "" for profile in args.profile or ()}),
    }
    return hashlib.sha256(json.dumps(chosen, sort_keys=True).encode()).hexdigest()[:16]


def _open_files_for(workers: int, regions: tuple[str, ...] | None, *, raise_limit: bool) -> None:
    """Raise the open-files limit to what ``workers`` may hold at once: the calls in flight and
    the idle connections clients share across accounts (``collect.connections``), their pools
    sized to the calls in flight; or say why not. Where the limit stays lower, the pools are
    smaller, or not shared at all. ``raise_limit`` False (a process of --processes, whose parent
    raised the limit it inherits, and warned): only the pools are sized."""
    per_region = calls_in_flight_per_region(workers)
    in_flight = workers * (per_region + ROUTE53_CALLS_IN_FLIGHT)
    needed = open_files_needed(in_flight)
    counted = len(regions) if regions else REGIONS_AT_MOST
    wanted = needed + retained_at_most(counted, Pools(in_flight, other_pool(workers)))
    stays = ensure_open_files(wanted) if raise_limit else open_files_limit()
    limit = wanted if stays is None else min(wanted, stays)
    configure(pools_within(limit - needed, counted, in_flight, workers))
    if raise_limit and stays is not None and stays < needed:
        console.warn(
            f"the open-files limit is {stays}, below the {needed} that --workers {workers} may "
            "need: calls past it fail and are recorded as collection errors; lower --workers "
            "or raise the limit (ulimit -n)"
        )


def _collect_in_processes(
    args: argparse.Namespace,
    config: Config | None,
    request: CollectionRequest,
    selection: AccountSelection,
) -> SnapshotDocument:
    """``--processes N``: shard K of N in each of N processes, merged as ``merge`` does, and
    shown as one collection: one live line, one line per account, one summary.

    The accounts are listed here, once, and handed to the processes: each listing its own
    (ListAccounts, GetCallerIdentity) made N chances for a throttled listing to stop the whole
    scan, and an account that joined or left between listings was collected by some shards
    only. A refused listing stops the scan here (exit 2), before any process starts."""
    if args.demo:
        raise UsageError("--processes is for live accounts; the demo is collected in one process")
    if getattr(args, "shard", None) is not None:
        raise UsageError("--processes makes its own shards; give either --shard or --processes")
    # The processes inherit the limit; as one process, first.
    _open_files_for(args.workers, request.regions, raise_limit=True)
    profiles = _profiles(args)
    listed: dict[str | None, Listed] = {}
    for profile in profiles:
        _base, home, caller, chosen = _targets_of(
            profile, args, request, selection, named=len(profiles) > 1
        )
        listed[profile] = (home, caller, chosen)
    close_shared()  # the listing's connections: the processes make their own
    args = argparse.Namespace(**{**vars(args), "listed": listed})
    part = functools.partial(_collect_part, args, config)
    display = _display(args)
    tally = Tally()
    started = time.monotonic()
    with _shown(display, tally) as lasting:
        announce = lasting if _several_accounts(args) and not display.quiet else None
        accounts = AccountsAcrossProcesses(args.processes, tally, announce)
        heard = ShownAsOne(accounts, log, display.steps)
        collected = collect_in_processes(part, args.processes, heard)
        for shard, how in sorted(collected.lost.items()):
            oom = " (out of memory?)" if how == "killed by SIGKILL" else ""
            console.warn(
                f"collection process {shard}/{args.processes} {how}{oom} before it finished:"
                " the account-regions of its shard were not collected, and the scan is"
                " incomplete"
            )
        # merge records an error on an account some processes did not list; it is counted and
        # announced here, as far as it was collected. A lost process's shard is missing from
        # the merge, which makes every account's account-regions there a coverage gap.
        merged = snapshot_document.merge(collected.documents, __version__, utc_now())
        accounts.finish_unheard(lost=collected.lost)
        if announce is not None:
            reached = [a for a in merged.accounts if a.account_id in accounts.reached]
            summary = collection_summary(
                reached,
                merged,
                len(merged.accounts) - len(reached),
                time.monotonic() - started,
            )
            if merged.shards is not None:
                summary += (
                    f"; {merged.shards.describe_missing()} lost with"
                    f" {'their processes' if len(collected.lost) > 1 else 'its process'}:"
                    " not collected"
                )
            announce(summary)
    # In the order of one process's collection.
    return dataclasses.replace(
        merged,
        accounts=tuple(sorted(merged.accounts, key=lambda a: a.account_id)),
        regions=tuple(sorted(merged.regions, key=lambda r: (r.account_id, r.region))),
    )


def _unsaid(_line: str) -> None:
    """An account line nobody prints (a collection process's: its parent prints them)."""


def _collect_part(
    args: argparse.Namespace, config: Config | None, shard: int, shards: int, relay: Relay
) -> SnapshotDocument:
    """One process's part of ``_collect_in_processes`` (runs in that process). What it would
    print goes to the parent through ``relay`` (its log records, its counts, each account it
    finishes, its steps with -v), and it takes 1/``shards`` of each account-wide request quota,
    which every process draws on."""
    _configure_logging(args.verbose, RelayedLogs(relay))
    share_account_quotas(shards)
    part = argparse.Namespace(**vars(args))
    part.shard, part.processes = (shard, shards), 1
    part.collection_process = True
    tally = Tally(on_account=relay.send)
    steps = relay.say if args.verbose > 0 and not args.quiet else None
    display = _Display(steps, live=False, quiet=True)
    with relay.counting(tally):
        return _collect(part, config, display=display, tally=tally, raise_open_files=False)


def _destination(args: argparse.Namespace) -> Path | None:
    """Where the output goes: None for stdout. Checked before any work is done."""
    if args.output is None or args.output == "-":
        return None
    return output_path(args.output)


def _emit(text: str, output: Path | None, stdout: TextIO) -> bool:
    """Write the report or snapshot; False when stdout's reader went away before the end."""
    if output is not None:
        write_output(output, text)
        return True
    try:
        stdout.write(text)
        stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        return False
    return True


def _emit_snapshot(document: SnapshotDocument, output: Path | None, stdout: TextIO) -> None:
    # Unlike a report, a snapshot cut short is lost: an error, not the scan's exit code.
    if not _emit(snapshot_document.to_json(document), output, stdout):
        raise OutputError("stdout was closed before the whole snapshot was written")


def _silence_stdout() -> None:
    # Python flushes stdout again at exit; with the reader gone that would print a traceback.
    with contextlib.suppress(OSError, ValueError):  # ValueError: tests' StringIO has no fd
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def command_scan(args: argparse.Namespace, stdout: TextIO) -> ExitCode:
    if args.snapshot is not None:
        given = _collection_options(args)
        if given:
            raise UsageError(
                f"--snapshot evaluates a file; it cannot be combined with {', '.join(given)}, "
                f"which {'choose' if len(given) > 1 else 'chooses'} what a collection reads"
            )
    registry = load_registry()
    config, rules = _scan_rules(args, registry)
    try:
        targets = parse_targets(args.format, args.output, REPORTERS)
        sarif_dir = None if args.output_dir is None else sarif_directory(args.output_dir)
    except TargetError as error:
        raise UsageError(str(error)) from None
    if sarif_dir is not None or any(t.format == "sarif" for t in targets):
        _require_own_category(args, config, registry, rules)
    earlier = None if args.baseline is None else _baseline(args.baseline)
    document = None if args.snapshot is not None else _collect(args, config)
    if document is not None:
        # botocore's clients and threads leave reference cycles: freed before the collector is
        # off (a pass over what is alive, small beside the collection that made it).
        gc.collect()
    with cycles_uncollected():
        if document is None:
            document = _read_snapshots(args.snapshot)
        return _evaluate(
            args,
            stdout,
            document=document,
            config=config,
            rules=rules,
            targets=targets,
            sarif_dir=sarif_dir,
            earlier=earlier,
        )


def _evaluate(
    args: argparse.Namespace,
    stdout: TextIO,
    *,
    document: SnapshotDocument,
    config: Config,
    rules: Sequence[Rule],
    targets: Sequence[ReportTarget],
    sarif_dir: Path | None,
    earlier: ScanView | None,
) -> ExitCode:
    """``scan`` once the snapshot is in hand: rules, then every report asked for."""
    _require_something_seen(document)
    result = run_scan(document, rules, settings_from(config), config.suppressions)
    if args.compliance is not None:
        result = dataclasses.replace(
            result, compliance=tuple(control_view(args.compliance, result, config.profile))
        )
    if args.severity is not None:
        result = _reported_severities(result, args.severity)
    if earlier is not None:
        result = dataclasses.replace(result, baseline=compare(earlier, view_of(result)))
    for notice in result.notices:
        console.warn(notice)
    try:
        rendered = [
            (target, _render(target.format, result, args, terminal=_terminal(target, stdout)))
            for target in targets
        ]
        files = (
            []
            if sarif_dir is None
            else sarif.render_files(result, category_name=args.sarif_category)
        )
    except sarif.SarifLimitError as error:
        raise UsageError(str(error)) from None
    written: list[str] = []
    for target, text in rendered:
        _emit(text, target.path, stdout)
        if target.path is not None:
            written.append(str(target.path))
    if sarif_dir is not None:
        written += _write_sarif_files(sarif_dir, files)
    if written and not args.quiet:
        console.say(f"{table.summary_line(result)}; written to {', '.join(written)}")
    return result.exit_code(args.fail_on)


def _reported_severities(result: ScanResult, chosen: frozenset[Severity]) -> ScanResult:
    """The findings of the chosen severities; a rule's crash (VPCE000) is always reported, as it
    makes the scan incomplete."""

    def shown(finding: Finding) -> bool:
        return finding.severity in chosen or finding.rule_id == RULE_ERROR_ID

    kept = tuple(f for f in result.findings if shown(f))
    hidden = len(result.findings) - len(kept)
    notice = f"{hidden} finding(s) of other severities are not reported (--severity)"
    return dataclasses.replace(
        result,
        findings=kept,
        suppressed=tuple(s for s in result.suppressed if shown(s.finding)),
        notices=(*result.notices, notice) if hidden else result.notices,
    )


def _baseline(path: Path) -> ScanView:
    try:
        return load_report(path)
    except BaselineError as error:
        raise UsageError(str(error)) from None


def command_diff(args: argparse.Namespace, stdout: TextIO) -> ExitCode:
    """Two scans compared: each a JSON report, or a snapshot scanned here first."""
    output = _destination(args)
    views = [_scan_view(path, args) for path in (args.old, args.new)]
    comparison = compare(*views)
    _emit(DIFF_RENDERERS[args.format](comparison), output, stdout)
    if not views[1].complete:
        return ExitCode.INCOMPLETE
    if args.fail_on is not None:
        threshold = max(args.fail_on, Severity.LOW)
        if any(f.severity >= threshold for f in comparison.new):
            return ExitCode.FINDINGS
    return ExitCode.CLEAN


def _scan_view(path: Path, args: argparse.Namespace) -> ScanView:
    try:
        text = read_bounded(path, snapshot_document.MAX_SNAPSHOT_BYTES)
    except (OSError, TooLarge, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or error
        raise UsageError(f"cannot read {path}: {reason}") from None
    try:
        body = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise UsageError(f"{path} is neither a JSON report nor a snapshot (not JSON)") from None
    try:
        if is_report(body):
            return view_of_report(body, str(path))
    except BaselineError as error:
        raise UsageError(str(error)) from None
    document = snapshot_document.from_json(text, source=str(path))
    registry = load_registry()
    retired = [meta.rule_id for meta in retired_metadata()]
    config = load_config(find_config(args.config, Path.cwd()), registry.ids, retired)
    rules = select_rules(registry, config)
    return view_of(run_scan(document, rules, settings_from(config), config.suppressions))


def _terminal(target: ReportTarget, stdout: TextIO) -> bool:
    if target.path is not None:
        return False
    isatty = getattr(stdout, "isatty", None)
    return bool(isatty and isatty())


def _table_layout(args: argparse.Namespace, terminal: bool) -> tuple[int | None, bool]:
    """The table's width (COLUMNS, else a terminal's own; none for a file or a pipe) and whether
    it is coloured (a terminal, unless NO_COLOR is set or --no-color is given)."""
    columns = os.environ.get("COLUMNS", "").strip()
    width: int | None = int(columns) if columns.isdigit() and int(columns) >= 40 else None
    if width is None and terminal:
        width = shutil.get_terminal_size().columns
    colour = terminal and not args.no_color and not os.environ.get("NO_COLOR")
    return width, colour


def _render(
    fmt: str, result: ScanResult, args: argparse.Namespace, *, terminal: bool = False
) -> str:
    if fmt == "table":
        width, colour = _table_layout(args, terminal)
        return table.render(result, width=width, colour=colour)
    if fmt == "markdown":
        return markdown.render(result, max_bytes=args.max_size)
    if fmt == "sarif":
        return sarif.render(result, category_name=args.sarif_category)
    return REPORTERS[fmt](result)


def _write_sarif_files(directory: Path, files: list[str]) -> list[str]:
    directory.mkdir(parents=False, exist_ok=True)
    names = sarif_file_names(len(files))
    for stale in stale_sarif_files(directory, names):
        stale.unlink()
    for name, text in zip(names, files, strict=True):
        write_output(directory / name, text)
    return [str(directory / name) for name in names]


def _scan_rules(
    args: argparse.Namespace, registry: RuleRegistry
) -> tuple[Config, tuple[Rule, ...]]:
    """The configuration and the rules a scan evaluates (defaults, configuration, --select,
    --ignore, --compliance)."""
    retired = [meta.rule_id for meta in retired_metadata()]
    if args.demo and args.config is None:
        from vpce_audit.demo.estate import DEMO_CONFIG

        config = DEMO_CONFIG
    else:
        config = load_config(find_config(args.config, Path.cwd()), registry.ids, retired)
    warnings = list(config.warnings)
    select = (
        None
        if args.select is None
        else parse_rule_selection(args.select, registry.ids, "--select", retired, warnings)
    )
    ignore = (
        frozenset()
        if args.ignore is None
        else parse_rule_selection(args.ignore, registry.ids, "--ignore", retired, warnings)
    )
    for warning in warnings:
        console.warn(warning)
    rules = select_rules(registry, config, select, ignore)
    if args.compliance is not None:
        rules = tuple(r for r in rules if mappings_for(args.compliance, r.meta))
        if not rules:
            raise UsageError(f"no selected rule is mapped to a control of {args.compliance}")
    return config, rules


def _require_own_category(
    args: argparse.Namespace, config: Config, registry: RuleRegistry, rules: Sequence[Rule]
) -> None:
    if args.sarif_category is not None:
        return
    narrowed = _narrowed(args, config, registry, rules)
    if narrowed:
        raise UsageError(
            f"this scan is narrower than the default ({'; '.join(narrowed)}): uploaded under "
            "the default categories, its SARIF would close the alerts of everything it did not "
            "evaluate. Give it categories of its own with --sarif-category NAME"
        )


def _narrowed(
    args: argparse.Namespace, config: Config, registry: RuleRegistry, rules: Sequence[Rule]
) -> list[str]:
    """How this scan evaluates less than the default one (what its categories must say)."""
    reasons = []
    default_ids = {rule.rule_id for rule in select_rules(registry, Config())}
    left_out = sorted(default_ids - {rule.rule_id for rule in rules})
    if left_out:
        shown = ", ".join(left_out[:5]) + (
            f" and {len(left_out) - 5} more" if len(left_out) > 5 else ""
        )
        reasons.append(f"rules {shown} not evaluated")
    if args.region or config.regions:
        reasons.append("regions chosen")
    if args.exclude_region or config.exclude_regions:
        reasons.append("regions excluded")
    if config.profile != "default":
        reasons.append(f"profile {config.profile}")
    if args.severity is not None:
        reasons.append("severities filtered")
    return reasons


def _collection_options(args: argparse.Namespace) -> list[str]:
    """The options given that choose what a live collection reads: a snapshot has been read
    already, and silently ignoring them would report what the user asked to leave out."""
    given = {
        "--demo": args.demo,
        "--region": args.region,
        "--exclude-region": args.exclude_region,
        "--profile": args.profile,
        "--org": args.org,
        "--accounts": args.accounts is not None,
        "--exclude-accounts": args.exclude_accounts,
        "--role-arn": args.role_arn,
        "--role-name": args.role_name != DEFAULT_ROLE_NAME,
        "--external-id": args.external_id is not None,
        "--role-session-name": args.role_session_name != DEFAULT_SESSION_NAME,
        "--workers": args.workers != DEFAULT_REGION_WORKERS,
        "--processes": args.processes is not None,
        "--scope-timeout": args.scope_timeout != DEFAULT_SCOPE_TIMEOUT,
        "--call-timeout": args.call_timeout != DEFAULT_CALL_TIMEOUT,
    }
    return [option for option, value in given.items() if value]


def _require_something_seen(document: SnapshotDocument) -> None:
    """A scan of nothing is not clean: with no account-region and no recorded error (e.g.
    DescribeRegions answered with an empty list), there is nothing to report on."""
    if not document.has_something_to_report:
        raise UsageError(
            "nothing was scanned: no account-region was collected and no error was recorded"
        )


def command_collect(args: argparse.Namespace, stdout: TextIO) -> ExitCode:
    output = _destination(args)
    config = None
    if not args.demo:
        registry = load_registry()
        retired = [meta.rule_id for meta in retired_metadata()]
        config = load_config(find_config(args.config, Path.cwd()), registry.ids, retired)
    document = _collect(args, config)
    _emit_snapshot(document, output, stdout)
    # As a scan of the snapshot would count them, its own gaps (a region an SCP denied in an
    # account no region let in) included; but a shard lacks regions by design, and only the
    # merge of every shard can be judged, so a shard counts what it recorded.
    errors = (
        recorded_errors(document.accounts, document.regions)
        if document.shards is not None and getattr(args, "shard", None) is not None
        # Whole (--shard 1/1 included), or --processes with a process lost: its shard is a gap.
        else len(Snapshot(document).all_errors)
    )
    if not args.quiet:
        console.say(
            f"snapshot of {len(document.accounts)} account(s), "
            f"{len(document.regions)} region(s) written to {output or 'stdout'}"
            + (f"; {errors} collection error(s)" if errors else "")
        )
    return ExitCode.INCOMPLETE if errors else ExitCode.CLEAN


COMPLETION_SHELLS = ("bash", "zsh", "fish")


def command_completion(args: argparse.Namespace, stdout: TextIO) -> ExitCode:
    """argcomplete's shell code for vpce-audit: ``eval "$(vpce-audit completion bash)"``."""
    from argcomplete.shell_integration import shellcode

    _emit(shellcode(["vpce-audit"], shell=args.shell), None, stdout)
    return ExitCode.CLEAN


def command_demo(args: argparse.Namespace, stdout: TextIO) -> ExitCode:
    from vpce_audit.demo.estate import DEMO_CONFIG_YAML

    _emit(DEMO_CONFIG_YAML, None, stdout)
    return ExitCode.CLEAN


def command_permissions(args: argparse.Namespace, stdout: TextIO) -> ExitCode:
    """The IAM permissions of a scan, from the collectors' operation allowlist."""
    if args.format == "json" and (args.principal or args.external_id):
        raise UsageError("--principal and --external-id belong to a role template: add --format")
    output = _destination(args)
    try:
        text = render_permissions(
            args.format,
            principal=args.principal,
            role_name=args.role_name,
            external_id=args.external_id,
        )
    except ValueError as error:
        raise UsageError(str(error)) from None
    _emit(text, output, stdout)
    return ExitCode.CLEAN


def _all_metadata(registry: RuleRegistry) -> list[RuleMeta]:
    metas = [rule.meta for rule in registry]
    metas.append(builtin_metadata(RULE_ERROR_ID))
    metas += retired_metadata()
    return sorted(metas, key=lambda m: m.rule_id)


def command_rules(args: argparse.Namespace, stdout: TextIO) -> ExitCode:
    from vpce_audit.report.rule_docs import render_rule, render_rule_list

    registry = load_registry()
    if args.rules_command == "list":
        metas = [
            m
            for m in _all_metadata(registry)
            if (args.severity is None or m.severity in args.severity)
            and all(tag in m.tags for tag in args.tag)
            and (args.compliance is None or mappings_for(args.compliance, m))
        ]
        if args.format == "json":
            stdout.write(
                json.dumps(
                    [
                        {
                            "id": m.rule_id,
                            "name": m.name,
                            "severity": m.severity.label,
                            "enabled_by_default": m.enabled_by_default and not m.retired,
                            "title": m.title,
                            "retired": m.retired,
                        }
                        for m in metas
                    ],
                    indent=2,
                )
                + "\n"
            )
        else:
            stdout.write(render_rule_list(metas))
        return ExitCode.CLEAN
    wanted = args.rule_id.upper()
    for meta in _all_metadata(registry):
        if meta.rule_id == wanted:
            stdout.write(render_rule(meta))
            return ExitCode.CLEAN
    raise UsageError(f"unknown rule id {args.rule_id!r}; 'vpce-audit rules list' shows them all")


def _read_snapshots(paths: Sequence[Path]) -> SnapshotDocument:
    unique = list(dict.fromkeys(paths))
    if len(unique) < len(paths) or _same_files(unique):
        raise UsageError("the same snapshot is given twice")
    # A shard may hold no account-region; the merged whole must (checked by the caller).
    documents = [snapshot_document.read(path, require_scope=len(unique) == 1) for path in unique]
    if len(documents) == 1:
        return documents[0]
    return snapshot_document.merge(documents, __version__, utc_now())


def _same_files(paths: Sequence[Path]) -> bool:
    """Whether two of the paths name one file (a link, a relative and an absolute name)."""
    seen: set[tuple[int, int]] = set()
    for path in paths:
        try:
            status = path.stat()
        except OSError:
            continue  # reading it says what is wrong
        if (status.st_dev, status.st_ino) in seen:
            return True
        seen.add((status.st_dev, status.st_ino))
    return False


def command_merge(args: argparse.Namespace, stdout: TextIO) -> ExitCode:
    output = _destination(args)
    if len(args.snapshots) < 2:
        raise UsageError("merge needs at least two snapshots")
    merged = _read_snapshots(args.snapshots)
    # As scan would refuse it: shards that together hold nothing make no snapshot.
    _require_something_seen(merged)
    _emit_snapshot(merged, output, stdout)
    # As collect does: the merged snapshot is incomplete when a part recorded an error or a
    # shard of the split is not in it (a scan of it would exit 3 and say which).
    incomplete = bool(Snapshot(merged).all_errors)
    if not args.quiet:
        gaps = []
        if merged.shards is not None:
            gaps.append(f"{merged.shards.describe_missing()} not merged in")
        recorded = recorded_errors(merged.accounts, merged.regions)
        if recorded:
            gaps.append(f"{recorded} collection error(s)")
        console.say(
            f"{len(args.snapshots)} snapshots merged: {len(merged.accounts)} account(s), "
            f"{len(merged.regions)} account-region(s) written to {output or 'stdout'}"
            + (f"; INCOMPLETE: {', '.join(gaps)}" if gaps else "")
        )
    return ExitCode.INCOMPLETE if incomplete else ExitCode.CLEAN


COMMANDS = {
    "scan": command_scan,
    "collect": command_collect,
    "merge": command_merge,
    "rules": command_rules,
    "diff": command_diff,
    "permissions": command_permissions,
    "demo": command_demo,
    "completion": command_completion,
}


def _configure_logging(verbosity: int, handler: logging.Handler | None = None) -> None:
    """vpce-audit's log records at the level ``verbosity`` asks for, through ``handler``
    (default: sanitised lines on stderr)."""
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(console.SafeFormatter())
    log.handlers[:] = [handler]
    log.setLevel(level)
    log.propagate = False


TIMESTAMPED_COMMANDS = frozenset({"scan", "collect", "merge", "demo"})
"""Commands that write a timestamp, and so read SOURCE_DATE_EPOCH."""


def _check_environment() -> None:
    """Environment variables vpce-audit reads, refused before any work rather than failing
    (or being ignored) at its end."""
    try:
        source_date_epoch()
    except ValueError as error:
        raise UsageError(str(error)) from None


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None) -> int:
    """Run one command and return its exit code; never raises (but SystemExit from argparse)."""
    parser = build_parser()
    if "_ARGCOMPLETE" in os.environ:  # a shell asks for completions (vpce-audit completion)
        import argcomplete

        argcomplete.autocomplete(parser)
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    out = stdout if stdout is not None else sys.stdout
    CANCELLED.clear()  # a new run (tests call main more than once in a process)
    try:
        if args.command in TIMESTAMPED_COMMANDS:
            _check_environment()
        return int(COMMANDS[args.command](args, out))
    except (
        UsageError,
        SnapshotError,
        CredentialsError,
        RegistryError,
        MetadataError,
        OutputError,
        ConfigError,
    ) as error:
        console.error(str(error))
        return int(ExitCode.USAGE)
    except (KeyboardInterrupt, Cancelled):
        CANCELLED.set()
        console.say("interrupted; nothing was written")
        return INTERRUPTED
    except Terminated:
        CANCELLED.set()
        console.say("terminated; nothing was written")
        return TERMINATED
    except ProcessFailed as error:
        # Every process killed from outside (out of memory): not a bug of ours, but not 3
        # either, which promises that the output was written.
        console.error(f"{error}; nothing was written")
        return INTERNAL_ERROR
    except BrokenPipeError:
        # stdout's reader left while something other than a report was written (rules list);
        # a scan's report is handled in _emit and keeps the scan's exit code.
        _silence_stdout()
        return int(ExitCode.CLEAN)
    except Exception as error:  # the last boundary: a bug is one line, not a traceback
        log.debug("internal error", exc_info=True)
        where = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
        location = f" at {Path(where.filename).name}:{where.lineno}" if where else ""
        console.error(
            f"internal error: {type(error).__name__}{location}: {str(error)[:200]} "
            "(this is a bug; run with -v for the traceback and please report it)"
        )
        return INTERNAL_ERROR


def _interrupt(signum: int, _frame: object) -> None:
    # Workers stop before the main thread unwinds: the demo's moto mock must not be gone while
    # a worker still calls (it would reach the real AWS endpoints).
    CANCELLED.set()
    if signum == signal.SIGTERM:
        raise Terminated()
    raise KeyboardInterrupt()


def _unraisable(hook: Any) -> Any:
    """``sys.unraisablehook`` that keeps quiet about our own interrupt: a signal that arrives
    while the main thread runs a finaliser (a connection's ``__del__``) raises Terminated or
    KeyboardInterrupt there, where Python cannot propagate it and prints it as "Exception
    ignored in ..." with part of a traceback. The interrupt was seen (CANCELLED is set) and the
    main thread still stops; anything else goes to the default hook."""

    def quiet(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, Terminated | KeyboardInterrupt):
            CANCELLED.set()
            return
        hook(unraisable)

    return quiet


def entry() -> NoReturn:
    """The console script (through ``vpce_audit.launch``): ``main`` with SIGINT and SIGTERM
    stopping every worker at once.

    After an interrupt, worker threads may still be waiting on AWS (each for at most one call's
    budget); the process exits at once instead of waiting for them.
    """
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    sys.unraisablehook = _unraisable(sys.unraisablehook)
    code = main()
    if code in (INTERRUPTED, TERMINATED):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    from vpce_audit.launch import run

    run()
