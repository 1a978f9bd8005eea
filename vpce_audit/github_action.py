"""The GitHub Action's steps (action.yml): ``python -m vpce_audit.github_action run|dismiss``.

``run`` scans once and writes every report the workflow needs: the JSON report, the SARIF files
for code scanning (``--output-dir``), the Markdown report appended to the step summary, and the
step's outputs (exit code, completeness, counts by severity, where the files are). It exits with
the scan's own exit code, so the workflow decides what each code means (the example uploads the
SARIF for 0, 1 and 3, never for 2 or 4).

``dismiss`` runs after the SARIF upload. GitHub code scanning ignores SARIF ``suppressions``, so
a suppressed finding would show as an open alert: ``dismiss`` finds each result with an accepted
suppression among the ref's open alerts of the tool (by rule id and location path) and dismisses
it as "won't fix" with the suppression's reason, and re-opens the alerts it dismissed earlier
whose result is no longer suppressed. Alerts dismissed by people are never touched.

Inputs come as ``INPUT_*`` environment variables (action.yml maps them); only the standard
library and vpce-audit's own console helpers are used, and the GitHub API is reached with
urllib. The token is never printed, and an API failure is one line and exit 1, never a
traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vpce_audit import __version__, console

TOOL_NAME = "vpce-audit"
SEVERITIES = ("critical", "high", "medium", "low", "info")

USAGE = 2
API_FAILURE = 1
INTERNAL_ERROR = 4
INTERRUPTED = 130

SUMMARY_LIMIT = 1024 * 1024
"""GitHub refuses a step summary over 1 MiB."""
SUMMARY_MARGIN = 16 * 1024
"""Room kept below the limit (the truncation note, other writers of the same summary)."""
MIN_MARKDOWN_SIZE = 4096
"""The smallest ``--max-size`` the CLI accepts."""

SARIF_FILE = re.compile(r"vpce-audit-(\d+)\.sarif")
"""``--output-dir`` writes ``DIR/vpce-audit-<n>.sarif``."""

COMMENT_PREFIX = "vpce-audit suppression:"
MAX_COMMENT = 280
"""GitHub's limit on ``dismissed_comment``."""
DISMISSED_REASON = "won't fix"

MAX_ATTEMPTS = 4
MAX_DELAY = 60.0
"""Longest wait before a retry; a rate limit that resets later is an error."""
MAX_PAGES = 1000
TIMEOUT = 30.0
DEFAULT_API_URL = "https://api.github.com"
REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")

EXIT_MEANINGS = {
    0: "clean",
    1: "findings at or above --fail-on",
    2: "usage or configuration error; no report was written",
    3: "the scan is incomplete; reports were written, failed accounts are left out of SARIF",
    4: "internal error in vpce-audit, or every collection process killed; no report was written",
    130: "interrupted",
    143: "terminated",
}


class ActionError(Exception):
    """Bad inputs or environment: exit 2 with one line."""


class ApiError(Exception):
    """The GitHub API refused or failed: exit 1 with one line."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


# -- inputs and outputs ------------------------------------------------------------------------


def action_input(name: str, env: Mapping[str, str], default: str = "") -> str:
    """An input as GitHub passes it: ``INPUT_FAIL-ON`` (the toolkit's spelling) or
    ``INPUT_FAIL_ON`` (what action.yml maps, usable from a shell too); blank means unset."""
    upper = name.upper()
    for key in (f"INPUT_{upper}", f"INPUT_{upper.replace('-', '_')}"):
        value = env.get(key)
        if value is not None and value.strip():
            return value.strip()
    return default


def _flag(name: str, env: Mapping[str, str]) -> bool:
    value = action_input(name, env, "false").lower()
    if value not in ("true", "false"):
        raise ActionError(f"input {name} must be true or false, not {value[:40]!r}")
    return value == "true"


def write_outputs(path: Path, outputs: Mapping[str, str]) -> None:
    """Append step outputs to ``$GITHUB_OUTPUT``: ``name=value``, or ``name<<DELIMITER`` with a
    random delimiter the value does not contain when the value spans lines."""
    with path.open("a", encoding="utf-8") as handle:
        for name, value in outputs.items():
            if "\n" in value or "\r" in value:
                delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
                while delimiter in value:  # pragma: no cover - 128 random bits
                    delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
                handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
            else:
                handle.write(f"{name}={value}\n")


def _say(message: str, token: str | None = None) -> None:
    print(_scrub(console.line(message), token), flush=True)


def _error(message: str, token: str | None = None) -> None:
    print(_scrub(console.line(f"error: {message}"), token), file=sys.stderr, flush=True)


def _scrub(text: str, token: str | None) -> str:
    return text.replace(token, "***") if token else text


# -- run ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunInputs:
    args: tuple[str, ...]
    config: str | None
    fail_on: str
    sarif_dir: Path
    category: str | None
    json_report: Path
    demo: bool

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RunInputs:
        try:
            args = tuple(shlex.split(action_input("args", env)))
        except ValueError as error:
            raise ActionError(f"input args cannot be split like a shell would: {error}") from None
        return cls(
            args=args,
            config=action_input("config", env) or None,
            fail_on=action_input("fail-on", env, "high"),
            sarif_dir=Path(action_input("sarif-dir", env, "vpce-audit-sarif")),
            category=action_input("category", env) or None,
            json_report=Path(action_input("json-report", env, "vpce-audit.json")),
            demo=_flag("demo", env),
        )


def scan_argv(inputs: RunInputs, markdown_path: Path, max_size: int) -> list[str]:
    """The ``vpce-audit`` arguments: the user's scan options first, then the action's reports,
    so an input always wins over the same option in ``args``."""
    argv = ["scan", *inputs.args]
    if inputs.demo:
        argv.append("--demo")
    if inputs.config:
        argv += ["--config", inputs.config]
    if inputs.category:
        argv += ["--sarif-category", inputs.category]
    argv += [
        "--output",
        "table=-",
        "--output",
        f"json={inputs.json_report}",
        "--output",
        f"markdown={markdown_path}",
        "--output-dir",
        str(inputs.sarif_dir),
        "--fail-on",
        inputs.fail_on,
        "--max-size",
        str(max_size),
    ]
    return argv


def markdown_budget(summary: Path | None) -> int:
    """The ``--max-size`` that leaves the step summary under GitHub's limit."""
    existing = _size(summary)
    return max(SUMMARY_LIMIT - SUMMARY_MARGIN - existing, MIN_MARKDOWN_SIZE)


def _size(path: Path | None) -> int:
    try:
        return path.stat().st_size if path is not None else 0
    except OSError:
        return 0


TRUNCATION_NOTE = (
    "\n*… the rest of the vpce-audit report is left out: GitHub takes at most 1 MiB of step "
    "summary. The JSON report has every finding.*\n"
)


def append_summary(summary: Path, text: str) -> bool:
    """Append ``text`` to the step summary, cut at a line (with a note) where it would pass
    the limit less the margin. False when it had to be cut."""
    room = SUMMARY_LIMIT - SUMMARY_MARGIN - _size(summary)
    data = text if text.endswith("\n") else text + "\n"
    encoded = data.encode("utf-8")
    complete = len(encoded) <= room
    if not complete:
        keep = room - len(TRUNCATION_NOTE.encode("utf-8"))
        if keep <= 0:
            return False
        # Cutting after a line break never splits a UTF-8 sequence or a table row.
        cut = encoded[:keep]
        data = cut[: cut.rfind(b"\n") + 1].decode("utf-8") + TRUNCATION_NOTE
    with summary.open("a", encoding="utf-8") as handle:
        handle.write(data)
    return complete


def sarif_files(directory: Path) -> list[Path]:
    """The SARIF files of ``--output-dir``, in order (``vpce-audit-2`` before ``-10``)."""
    if not directory.is_dir():
        return []
    found = [
        (int(match.group(1)), directory / path.name)
        for path in directory.iterdir()
        if (match := SARIF_FILE.fullmatch(path.name)) and path.is_file()
    ]
    return [path for _, path in sorted(found)]


def report_outputs(json_report: Path) -> dict[str, str]:
    """Completeness and counts from the JSON report; ``complete=false`` without one."""
    try:
        body = json.loads(json_report.read_text(encoding="utf-8"))
        summary = body["summary"]
        by_severity = summary["by_severity"]
        outputs = {
            "complete": "true" if summary["complete"] is True else "false",
            "findings": str(int(summary["findings"])),
            **{severity: str(int(by_severity.get(severity, 0))) for severity in SEVERITIES},
            "suppressed": str(int(summary.get("suppressed", 0))),
            "json-report": str(json_report),
        }
    except (OSError, ValueError, KeyError, TypeError):
        return {"complete": "false"}
    return outputs


def _run_scan(argv: Sequence[str], env: Mapping[str, str]) -> int:
    """``python -m vpce_audit`` with ``argv``; its output goes to the step's log.

    The scan handles interrupts itself (it writes nothing and exits 130 / 143): Ctrl-C reaches
    it with the whole process group, so this process only waits for it, and a SIGTERM sent to
    this process alone is passed on. The scan's exit code comes back either way."""
    process = subprocess.Popen([sys.executable, "-m", "vpce_audit", *argv], env=dict(env))
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.SIG_IGN)
        previous[signal.SIGTERM] = signal.signal(
            signal.SIGTERM, lambda number, _frame: process.send_signal(number)
        )
    try:
        code = process.wait()
    finally:
        for signum, handler in previous.items():
            if handler is not None:
                signal.signal(signum, handler)
    return 128 - code if code < 0 else code  # ended by a signal: 128 + its number


def _scan_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The scan needs AWS credentials, not the GitHub token."""
    return {
        key: value
        for key, value in env.items()
        if key not in ("INPUT_TOKEN", "GITHUB_TOKEN", "GH_TOKEN")
    }


def _remove_stale(inputs: RunInputs) -> None:
    """A report left by an earlier run must not pass for this run's (e.g. after exit 2)."""
    with contextlib.suppress(OSError):  # a directory: the scan refuses it with exit 2
        inputs.json_report.unlink(missing_ok=True)
    for stale in sarif_files(inputs.sarif_dir):
        stale.unlink()


def command_run(env: Mapping[str, str]) -> int:
    inputs = RunInputs.from_env(env)
    summary = Path(env["GITHUB_STEP_SUMMARY"]) if env.get("GITHUB_STEP_SUMMARY") else None
    output = Path(env["GITHUB_OUTPUT"]) if env.get("GITHUB_OUTPUT") else None
    _remove_stale(inputs)
    if not inputs.sarif_dir.exists():
        inputs.sarif_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="vpce-audit-", dir=env.get("RUNNER_TEMP")) as tmp:
        markdown_path = Path(tmp) / "summary.md"
        argv = scan_argv(inputs, markdown_path, markdown_budget(summary))
        code = _run_scan(argv, _scan_environment(env))
        markdown = markdown_path.read_text(encoding="utf-8") if markdown_path.is_file() else None
    meaning = EXIT_MEANINGS.get(code, "unexpected exit code")
    if summary is not None:
        if markdown is not None:
            if not append_summary(summary, markdown):
                console.warn("the Markdown report was cut to fit GitHub's step-summary limit")
        else:
            append_summary(
                summary,
                f"## vpce-audit\n\nThe scan exited with code {code} ({meaning}) without a "
                "report; the step's log says why.\n",
            )
    files = sarif_files(inputs.sarif_dir)
    outputs = {
        "exit-code": str(code),
        **report_outputs(inputs.json_report),
        "sarif-dir": str(inputs.sarif_dir),
        "sarif-files": json.dumps([str(path) for path in files]),
        "sarif-count": str(len(files)),
    }
    if output is not None:
        write_outputs(output, outputs)
    console.say(f"scan exited with code {code}: {meaning}")
    return code


# -- the GitHub API ----------------------------------------------------------------------------


Sleep = Callable[[float], None]


class GitHubApi:
    """The few REST calls ``dismiss`` makes, with retries on 5xx and rate limits."""

    def __init__(self, api_url: str, token: str, sleep: Sleep = time.sleep) -> None:
        parts = urllib.parse.urlsplit(api_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ActionError(f"GITHUB_API_URL {api_url[:80]!r} is not an http(s) URL")
        self.base = api_url.rstrip("/")
        self._origin = (parts.scheme, parts.netloc)
        self._token = token
        self._sleep = sleep

    def request(
        self, method: str, url: str, body: Mapping[str, Any] | None = None
    ) -> tuple[Any, Mapping[str, str]]:
        """One call: its JSON answer and headers (lower-case names)."""
        data = None if body is None else json.dumps(body).encode("utf-8")
        where = urllib.parse.urlsplit(url).path
        for attempt in range(1, MAX_ATTEMPTS + 1):
            request = urllib.request.Request(url, data=data, method=method)
            request.add_header("Accept", "application/vnd.github+json")
            # Unredirected: a redirect to another host must not carry the token there.
            request.add_unredirected_header("Authorization", f"Bearer {self._token}")
            request.add_header("X-GitHub-Api-Version", "2022-11-28")
            request.add_header("User-Agent", f"vpce-audit/{__version__}")
            if data is not None:
                request.add_header("Content-Type", "application/json")
            try:
                with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                    headers = {k.lower(): v for k, v in response.headers.items()}
                    raw = response.read()
                    return (json.loads(raw) if raw.strip() else None), headers
            except urllib.error.HTTPError as error:
                headers = {k.lower(): v for k, v in (error.headers or {}).items()}
                message = _message(_read(error))
                delay = self._retry_delay(error.code, headers, message, attempt)
                if delay is None:
                    raise ApiError(
                        f"{method} {where}: HTTP {error.code}: {message}{_hint(error.code)}",
                        error.code,
                    ) from None
            except (urllib.error.URLError, TimeoutError, OSError, ValueError) as error:
                reason = getattr(error, "reason", None) or error
                if attempt == MAX_ATTEMPTS or isinstance(error, ValueError):
                    raise ApiError(f"{method} {where}: {reason}") from None
                delay = float(2 ** (attempt - 1))
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _retry_delay(
        self, status: int, headers: Mapping[str, str], message: str, attempt: int
    ) -> float | None:
        """Seconds to wait before another attempt, or None to give up."""
        if attempt == MAX_ATTEMPTS:
            return None
        backoff = float(2 ** (attempt - 1))
        if status >= 500:
            return backoff
        rate_limited = status == 429 or (
            status == 403
            and (
                "retry-after" in headers
                or headers.get("x-ratelimit-remaining") == "0"
                or "rate limit" in message.lower()
            )
        )
        if not rate_limited:
            return None
        if "retry-after" in headers:
            try:
                wait = float(headers["retry-after"])
            except ValueError:
                wait = backoff
        elif headers.get("x-ratelimit-remaining") == "0" and "x-ratelimit-reset" in headers:
            try:
                wait = float(headers["x-ratelimit-reset"]) - time.time()
            except ValueError:
                wait = backoff
        else:
            # GitHub: without retry-after, wait at least a minute after a secondary limit.
            wait = 60.0 if "secondary" in message.lower() else backoff
        if wait > MAX_DELAY:
            return None
        return max(wait, 0.0)

    def pages(self, url: str) -> Iterator[Any]:
        """Every page of a listing, following ``Link: <...>; rel="next"`` on the same host."""
        seen: set[str] = set()
        next_url: str | None = url
        while next_url is not None:
            if next_url in seen or len(seen) >= MAX_PAGES:
                raise ApiError(f"GET {urllib.parse.urlsplit(url).path}: pagination does not end")
            seen.add(next_url)
            body, headers = self.request("GET", next_url)
            yield body
            next_url = _next_link(headers.get("link", ""))
            if next_url is not None:
                parts = urllib.parse.urlsplit(next_url)
                if (parts.scheme, parts.netloc) != self._origin:
                    raise ApiError("a pagination link points at another host; not followed")


def _read(error: urllib.error.HTTPError) -> bytes:
    try:
        return error.read()
    except OSError:
        return b""
    finally:
        error.close()


def _message(raw: bytes) -> str:
    try:
        body = json.loads(raw)
    except ValueError:
        text = raw.decode("utf-8", "replace").strip()
        return text[:200] or "no message"
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])[:200]
    return "no message"


def _hint(status: int) -> str:
    return {
        401: " (the token is missing, wrong or expired)",
        403: " (the job needs 'permissions: security-events: write', and code scanning must "
        "be enabled for the repository)",
        404: " (code scanning is not enabled, or the repository or alert does not exist)",
    }.get(status, "")


_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?([^";]+)"?')


def _next_link(header: str) -> str | None:
    for match in _LINK.finditer(header):
        if "next" in match.group(2).split():
            return match.group(1)
    return None


# -- dismiss -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SarifResult:
    rule_id: str
    path: str
    justification: str | None
    """The accepted suppression's reason; None when the result is not suppressed."""

    @property
    def key(self) -> tuple[str, str]:
        return self.rule_id, location_key(self.path)


@dataclass(frozen=True)
class Change:
    number: int
    rule_id: str
    path: str
    state: str
    """The alert's new state: dismissed or open."""
    comment: str | None = None


def location_key(path: str) -> str:
    """SARIF URIs are percent-encoded per segment; GitHub may show them decoded."""
    return urllib.parse.unquote(path)


def _accepted(result: Mapping[str, Any]) -> str | None:
    suppressions = result.get("suppressions")
    for suppression in suppressions if isinstance(suppressions, list) else ():
        if isinstance(suppression, dict) and suppression.get("status", "accepted") == "accepted":
            justification = suppression.get("justification")
            return justification if isinstance(justification, str) else ""
    return None


def read_results(paths: Sequence[Path]) -> list[SarifResult]:
    """vpce-audit's results in these SARIF files, with their suppression if accepted."""
    results: list[SarifResult] = []
    for path in paths:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ActionError(f"{path}: not a readable SARIF file ({error})") from None
        runs = document.get("runs") if isinstance(document, dict) else None
        if not isinstance(runs, list):
            raise ActionError(f"{path}: not a SARIF file (no runs)")
        for run in runs:
            try:
                if run["tool"]["driver"]["name"] != TOOL_NAME:
                    continue
                found = run.get("results") or []
            except (KeyError, TypeError, AttributeError):
                continue
            for result in found:
                try:
                    location = result["locations"][0]["physicalLocation"]["artifactLocation"]
                    uri, rule_id = location["uri"], result["ruleId"]
                except (KeyError, IndexError, TypeError):
                    continue
                if isinstance(uri, str) and isinstance(rule_id, str):
                    results.append(SarifResult(rule_id, uri, _accepted(result)))
    return results


def comment_for(justification: str) -> str:
    comment = f"{COMMENT_PREFIX} {justification}".strip()
    return comment if len(comment) <= MAX_COMMENT else comment[: MAX_COMMENT - 1] + "…"


def _alert_number(alert: Mapping[str, Any]) -> int:
    number = alert.get("number")
    return number if isinstance(number, int) and not isinstance(number, bool) else 0


def _alert_key(alert: Mapping[str, Any]) -> tuple[str, str] | None:
    try:
        rule_id = alert["rule"]["id"]
        path = alert["most_recent_instance"]["location"]["path"]
    except (KeyError, TypeError):
        return None
    if not isinstance(rule_id, str) or not isinstance(path, str):
        return None
    return rule_id, location_key(path)


def plan(
    results: Sequence[SarifResult], alerts: Sequence[Mapping[str, Any]]
) -> tuple[list[Change], list[SarifResult]]:
    """The alert changes the results call for, and the suppressed results without an alert
    (their upload may still be processing)."""
    suppressed = {r.key: r for r in results if r.justification is not None}
    unsuppressed = {r.key: r for r in results if r.justification is None}
    changes: list[Change] = []
    matched: set[tuple[str, str]] = set()
    for alert in sorted(alerts, key=_alert_number):
        key = _alert_key(alert)
        number = _alert_number(alert)
        if key is None or number < 1:
            continue
        state = alert.get("state")
        comment = alert.get("dismissed_comment")
        ours = isinstance(comment, str) and comment.startswith(COMMENT_PREFIX)
        if key in suppressed:
            matched.add(key)
            result = suppressed[key]
            if state == "open":
                justification = result.justification or ""
                changes.append(
                    Change(number, key[0], result.path, "dismissed", comment_for(justification))
                )
        elif key in unsuppressed and state == "dismissed" and ours:
            changes.append(Change(number, key[0], unsuppressed[key].path, "open"))
    pending = [r for key, r in suppressed.items() if key not in matched]
    return changes, pending


@dataclass(frozen=True)
class DismissInputs:
    api_url: str
    repository: str
    ref: str
    token: str
    sarif: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> DismissInputs:
        token = action_input("token", env) or env.get("GITHUB_TOKEN", "").strip()
        if not token:
            raise ActionError("no token: give the input token or set GITHUB_TOKEN")
        repository = env.get("GITHUB_REPOSITORY", "")
        if not REPOSITORY.fullmatch(repository):
            raise ActionError(f"GITHUB_REPOSITORY {repository[:80]!r} is not owner/name")
        ref = env.get("GITHUB_REF", "")
        if not ref:
            raise ActionError("GITHUB_REF is not set: which branch's alerts?")
        return cls(
            api_url=env.get("GITHUB_API_URL") or DEFAULT_API_URL,
            repository=repository,
            ref=ref,
            token=token,
            sarif=Path(action_input("sarif-dir", env, "vpce-audit-sarif")),
        )


def _sarif_paths(target: Path) -> list[Path]:
    if target.is_file():
        return [target]
    if target.is_dir():
        found = sorted(target.rglob("*.sarif"))
        if found:
            return found
        raise ActionError(f"no SARIF file in {target}")
    raise ActionError(f"{target} does not exist: no SARIF to read")


def list_alerts(api: GitHubApi, repository: str, ref: str) -> list[dict[str, Any]]:
    """The ref's open and dismissed alerts of vpce-audit."""
    alerts: list[dict[str, Any]] = []
    for state in ("open", "dismissed"):
        query = urllib.parse.urlencode(
            {"tool_name": TOOL_NAME, "ref": ref, "state": state, "per_page": 100}
        )
        url = f"{api.base}/repos/{repository}/code-scanning/alerts?{query}"
        try:
            for page in api.pages(url):
                if not isinstance(page, list):
                    raise ApiError("the alert listing is not a list")
                alerts += [alert for alert in page if isinstance(alert, dict)]
        except ApiError as error:
            # No analysis on the ref yet (the first upload is still processing): no alerts.
            if error.status == 404 and "no analysis" in str(error).lower():
                continue
            raise
    return alerts


def command_dismiss(env: Mapping[str, str], sleep: Sleep = time.sleep) -> int:
    inputs = DismissInputs.from_env(env)
    token = inputs.token
    try:
        results = read_results(_sarif_paths(inputs.sarif))
        api = GitHubApi(inputs.api_url, token, sleep)
        changes, pending = plan(results, list_alerts(api, inputs.repository, inputs.ref))
        done = {"dismissed": 0, "open": 0}
        for change in changes:
            body: dict[str, Any] = {"state": change.state}
            if change.state == "dismissed":
                body |= {"dismissed_reason": DISMISSED_REASON, "dismissed_comment": change.comment}
            url = f"{api.base}/repos/{inputs.repository}/code-scanning/alerts/{change.number}"
            api.request("PATCH", url, body)
            done[change.state] += 1
            alert = f"alert #{change.number} {change.rule_id} {change.path}"
            if change.state == "dismissed":
                _say(f"dismissed {alert}: {change.comment}", token)
            else:
                _say(f"re-opened {alert}: its finding is no longer suppressed", token)
        for result in pending:
            _say(
                f"not yet visible: {result.rule_id} {result.path} is suppressed but has no "
                f"alert on {inputs.ref} yet (the upload may still be processing; run dismiss "
                "again later)",
                token,
            )
    except ApiError as error:
        _error(f"GitHub API: {error}", token)
        return API_FAILURE
    _say(
        f"{done['dismissed']} alert(s) dismissed, {done['open']} re-opened, "
        f"{len(pending)} suppressed result(s) without an alert yet",
        token,
    )
    if env.get("GITHUB_OUTPUT"):
        write_outputs(
            Path(env["GITHUB_OUTPUT"]),
            {
                "dismissed": str(done["dismissed"]),
                "reopened": str(done["open"]),
                "pending": str(len(pending)),
            },
        )
    return 0


# -- entry -------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m vpce_audit.github_action",
        description="The vpce-audit GitHub Action's steps (see action.yml).",
    )
    parser.add_argument("command", choices=["run", "dismiss"])
    args = parser.parse_args(argv)
    environment = os.environ if env is None else env
    token = action_input("token", environment) or environment.get("GITHUB_TOKEN") or None
    try:
        if args.command == "run":
            return command_run(environment)
        return command_dismiss(environment)
    except ActionError as error:
        _error(str(error), token)
        return USAGE
    except KeyboardInterrupt:
        _error("interrupted")
        return INTERRUPTED
    except Exception as error:  # the last boundary: one line, never a traceback
        _error(f"internal error: {type(error).__name__}: {str(error)[:200]}", token)
        return INTERNAL_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
