"""Run OpenActive's own RPDE validator (npm ``@openactive/rpde-validator``) on a live feed.

Our feed code is checked by our own tests; this is the outside opinion: the same
rules the OpenActive validator site applies, run by ``tests/tools/rpde-validate.mjs``
in a node subprocess. node_modules are installed from the committed lock file the
first time they are needed (``npm ci``), under a file lock so parallel test workers
do not install twice.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "TOOLS_DIR",
    "RpdeIssue",
    "RpdeReport",
    "RpdeValidatorError",
    "ensure_node_modules",
    "validate_rpde",
]

TOOLS_DIR = Path(__file__).resolve().parent.parent / "tools"
_SCRIPT = TOOLS_DIR / "rpde-validate.mjs"
_VALIDATOR = "@openactive/rpde-validator"
_NPM_CI_TIMEOUT = 300.0


class RpdeValidatorError(Exception):
    """The validator could not be run (not: the feed is invalid; that is a report)."""


@dataclass(frozen=True)
class RpdeIssue:
    """One finding: the validator's rule name, its message, and the page it was on."""

    rule: str | None
    type: str | None
    severity: str
    message: str
    url: str

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> RpdeIssue:
        return cls(
            rule=raw.get("rule"),
            type=raw.get("type"),
            severity=str(raw["severity"]),
            message=str(raw["message"]),
            url=str(raw["url"]),
        )

    def __str__(self) -> str:
        return f"[{self.rule}] {self.message} ({self.url})"


@dataclass(frozen=True)
class RpdeReport:
    """The validator's verdict. ``failures`` break RPDE; ``warnings`` are advice."""

    url: str
    validator: str
    failures: list[RpdeIssue]
    warnings: list[RpdeIssue]
    notices: list[RpdeIssue]
    pages: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def rules(self, severity: str = "failure") -> set[str | None]:
        """Names of the rules that reported at ``severity`` ("failure" or "warning")."""
        issues = self.failures if severity == "failure" else self.warnings
        return {issue.rule for issue in issues}

    def describe(self) -> str:
        """All failures and warnings, one a line: made for assertion messages."""
        lines = [f"{self.validator} on {self.url}: {len(self.failures)} failures"]
        lines += [f"  FAIL {issue}" for issue in self.failures]
        lines += [f"  warn {issue}" for issue in self.warnings]
        return "\n".join(lines)


def _installed_version() -> str | None:
    manifest = TOOLS_DIR / "node_modules" / _VALIDATOR / "package.json"
    if not manifest.exists():
        return None
    return str(json.loads(manifest.read_text())["version"])


def _pinned_version() -> str:
    manifest = json.loads((TOOLS_DIR / "package.json").read_text())
    return str(manifest["dependencies"][_VALIDATOR])


def ensure_node_modules() -> None:
    """Install tests/tools/node_modules with ``npm ci`` unless the pinned version is there."""
    pinned = _pinned_version()
    if _installed_version() == pinned:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RpdeValidatorError("npm is not installed (apt-get install npm)")
    with open(TOOLS_DIR / ".npm-ci.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed_version() == pinned:
            return
        command = [npm, "ci", "--prefix", str(TOOLS_DIR), "--no-audit", "--no-fund"]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=_NPM_CI_TIMEOUT, check=False)
        except subprocess.TimeoutExpired as e:
            raise RpdeValidatorError(f"{' '.join(command)} took over {_NPM_CI_TIMEOUT:g}s") from e
        if done.returncode != 0 or _installed_version() != pinned:
            raise RpdeValidatorError(f"{' '.join(command)} failed (exit {done.returncode}):\n{done.stderr[-4000:]}")


async def validate_rpde(
    url: str, *, page_limit: int = 20, timeout: float = 60.0, request_timeout_ms: int = 10_000
) -> RpdeReport:
    """Walk the feed at ``url`` with OpenActive's validator and return its report.

    The validator walks up to ``page_limit`` pages, then probes the feed's last page
    itself (``afterChangeNumber=9007199254740991`` or a timestamp a year ahead) and
    that page's ``next``.
    """
    node = shutil.which("node")
    if node is None:
        raise RpdeValidatorError("node is not installed (apt-get install nodejs)")
    await asyncio.to_thread(ensure_node_modules)
    process = await asyncio.create_subprocess_exec(
        node,
        str(_SCRIPT),
        "--page-limit",
        str(page_limit),
        "--timeout-ms",
        str(request_timeout_ms),
        url,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError as e:
        process.kill()
        await process.wait()
        raise RpdeValidatorError(f"the RPDE validator took over {timeout:g}s on {url}") from e
    if process.returncode != 0:
        raise RpdeValidatorError(
            f"the RPDE validator exited {process.returncode} on {url}:\n{stderr.decode('utf-8', 'replace')[-4000:]}"
        )
    try:
        raw = json.loads(stdout)
    except json.JSONDecodeError as e:
        raise RpdeValidatorError(f"the RPDE validator printed no JSON report: {stdout[:500]!r}") from e
    return RpdeReport(
        url=str(raw["url"]),
        validator=str(raw["validator"]),
        failures=[RpdeIssue.from_json(i) for i in raw["errors"]],
        warnings=[RpdeIssue.from_json(i) for i in raw["warnings"]],
        notices=[RpdeIssue.from_json(i) for i in raw["notices"]],
        pages=[str(p) for p in raw["pages"]],
    )
