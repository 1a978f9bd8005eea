"""Command line: parse arguments, wire the stages, map the outcome to an exit code.

Exit codes: 0 clean; 1 findings at or above --fail-on; 2 usage or configuration error;
3 scan incomplete (collection errors or a rule crash). Precedence 2 > 3 > 1 > 0.
Only ``main`` exits; everything else returns or raises.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from vpce_audit import __version__, console
from vpce_audit.collect.runner import (
    ClientFactory,
    CollectionRequest,
    CredentialsError,
    Progress,
    collect,
)
from vpce_audit.config import ConfigError, find_config, load_config, parse_rule_selection
from vpce_audit.findings import Severity
from vpce_audit.output import OutputError, write_atomically
from vpce_audit.report import json_report, markdown, sarif, table
from vpce_audit.rules.metadata import (
    MetadataError,
    RuleMeta,
    builtin_metadata,
    retired_metadata,
)
from vpce_audit.rules.registry import RULE_ERROR_ID, RegistryError, RuleRegistry, load_registry
from vpce_audit.scan import ExitCode, run_scan, select_rules, settings_from
from vpce_audit.snapshot import document as snapshot_document
from vpce_audit.snapshot.document import SnapshotDocument, SnapshotError

log = logging.getLogger("vpce_audit")

REPORTERS = {
    "table": table.render,
    "json": json_report.render,
    "sarif": sarif.render,
    "markdown": markdown.render,
}
DEFAULT_FAIL_ON = "low"


class UsageError(Exception):
    """Bad arguments or configuration: exit 2 with one clear line."""


def _fail_on(text: str) -> Severity | None:
    if text.lower() == "never":
        return None
    try:
        return Severity.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{error}, or never") from None


def _region(text: str) -> str:
    # Region names are lower-case words and digits joined by dashes (us-east-1, us-gov-west-1).
    if not text or not all(
        (part.isalnum() and part.islower()) or part.isdigit() for part in text.split("-")
    ):
        raise argparse.ArgumentTypeError(f"{text!r} is not an AWS region name")
    return text


def _add_source_arguments(parser: argparse.ArgumentParser, *, with_snapshot: bool) -> None:
    source = parser.add_argument_group("what to scan")
    source.add_argument(
        "--region",
        action="append",
        type=_region,
        metavar="REGION",
        help="region to collect (repeatable); default: every region enabled for the account",
    )
    source.add_argument("--profile", help="AWS profile (default: the standard credential chain)")
    source.add_argument(
        "--demo",
        action="store_true",
        help="scan the built-in demo estate (moto, no AWS account needed)",
    )
    if with_snapshot:
        source.add_argument(
            "--snapshot",
            type=Path,
            metavar="FILE",
            help="evaluate a snapshot written by 'vpce-audit collect' instead of calling AWS",
        )
    source.add_argument(
        "--workers",
        type=int,
        default=8,
        metavar="N",
        help="regions collected at once (default: 8)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vpce-audit",
        description="Audit AWS VPC endpoints and the networking around them.",
        epilog="Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage error, "
        "3 scan incomplete.",
    )
    parser.add_argument("--version", action="version", version=f"vpce-audit {__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="more diagnostics on stderr (-vv for debug)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    scan = commands.add_parser("scan", help="collect (or load a snapshot) and evaluate the rules")
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
    report.add_argument("--format", choices=sorted(REPORTERS), default="table")
    report.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="FILE",
        help="write the report to FILE (atomically) instead of stdout",
    )
    report.add_argument(
        "--fail-on",
        type=_fail_on,
        default=_fail_on(DEFAULT_FAIL_ON),
        metavar="SEVERITY",
        help="exit 1 when a finding is at least this severe: info, low, medium, high, "
        f"critical, or never (default: {DEFAULT_FAIL_ON}; info findings never fail a run)",
    )

    collect_parser = commands.add_parser("collect", help="collect a snapshot for later scans")
    _add_source_arguments(collect_parser, with_snapshot=False)
    collect_parser.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="FILE",
        required=True,
        help="where to write the snapshot JSON",
    )

    rules = commands.add_parser("rules", help="list rules or show one")
    rule_commands = rules.add_subparsers(dest="rules_command", metavar="ACTION")
    rule_commands.required = True
    listing = rule_commands.add_parser("list", help="every rule with id, severity and title")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    show = rule_commands.add_parser("show", help="a rule's full documentation")
    show.add_argument("rule_id", metavar="RULE_ID")
    return parser


# -- commands ----------------------------------------------------------------------------------


def _progress(args: argparse.Namespace) -> Progress | None:
    enabled = not args.quiet and (args.verbose > 0 or sys.stderr.isatty())
    if not enabled:
        return None

    return console.say


def _collect(args: argparse.Namespace) -> SnapshotDocument:
    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    progress = _progress(args)
    if args.demo:
        if args.region or args.profile:
            raise UsageError("--demo scans the built-in estate; it takes no --region or --profile")
        from vpce_audit.demo.estate import DEMO_REGIONS, demo_estate

        try:
            with demo_estate() as (session, _ids):
                request = CollectionRequest(regions=DEMO_REGIONS, max_workers=args.workers)
                return collect(ClientFactory(session), request, progress)
        except RuntimeError as error:
            raise UsageError(str(error)) from None
    regions = tuple(dict.fromkeys(args.region)) if args.region else None
    clients = ClientFactory.from_profile(args.profile)
    return collect(
        clients,
        CollectionRequest(regions=regions, max_workers=args.workers),
        progress,
    )


def _emit(text: str, output: Path | None, stdout: TextIO) -> None:
    if output is None:
        stdout.write(text)
        stdout.flush()
    else:
        write_atomically(output, text)


def command_scan(args: argparse.Namespace, stdout: TextIO) -> ExitCode:
    if args.snapshot is not None and (args.demo or args.region or args.profile):
        raise UsageError(
            "--snapshot evaluates a file; it cannot be combined with --demo, --region or --profile"
        )
    registry = load_registry()
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
    if args.snapshot is not None:
        document = snapshot_document.read(args.snapshot)
    else:
        document = _collect(args)
    result = run_scan(document, rules, settings_from(config), config.suppressions)
    for notice in result.notices:
        console.warn(notice)
    try:
        text = REPORTERS[args.format](result)
    except sarif.SarifLimitError as error:
        raise UsageError(str(error)) from None
    _emit(text, args.output, stdout)
    if args.output is not None and not args.quiet:
        console.say(f"{table.summary_line(result)}; report written to {args.output}")
    return result.exit_code(args.fail_on)


def command_collect(args: argparse.Namespace, stdout: TextIO) -> ExitCode:
    document = _collect(args)
    write_atomically(args.output, snapshot_document.to_json(document))
    errors = sum(len(r.errors) for r in document.regions) + sum(
        len(a.errors) for a in document.accounts
    )
    if not args.quiet:
        console.say(
            f"snapshot of {len(document.accounts)} account(s), "
            f"{len(document.regions)} region(s) written to {args.output}"
            + (f"; {errors} collection error(s)" if errors else "")
        )
    return ExitCode.INCOMPLETE if errors else ExitCode.CLEAN


def _all_metadata(registry: RuleRegistry) -> list[RuleMeta]:
    metas = [rule.meta for rule in registry]
    metas.append(builtin_metadata(RULE_ERROR_ID))
    metas += retired_metadata()
    return sorted(metas, key=lambda m: m.rule_id)


def command_rules(args: argparse.Namespace, stdout: TextIO) -> ExitCode:
    from vpce_audit.report.rule_docs import render_rule, render_rule_list

    registry = load_registry()
    if args.rules_command == "list":
        metas = _all_metadata(registry)
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


COMMANDS = {"scan": command_scan, "collect": command_collect, "rules": command_rules}


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(console.SafeFormatter())
    log.handlers[:] = [handler]
    log.setLevel(level)
    log.propagate = False


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    out = stdout if stdout is not None else sys.stdout
    try:
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
    except KeyboardInterrupt:
        print("vpce-audit: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return int(ExitCode.CLEAN)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
