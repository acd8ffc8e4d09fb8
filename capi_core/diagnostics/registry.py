"""The diagnostics catalog as data: each check is a registered unit (code, severity, description, fix,
and the function that finds it), so the report, the dashboard and a completeness test share one list.

Check functions live in the family modules beside this one (``dedup_checks``, ``recon_checks``,
``param_checks``, ``match_checks``, ``signal_checks``); importing ``capi_core.diagnostics`` registers
them all. A check takes the store and a scope and returns findings; it never raises for "no data".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from capi_core.models import Scope
from capi_core.store import Store

Severity = Literal["critical", "high", "medium", "low"]
SEVERITY_RANK: dict[str, int] = {"critical": 0, "high": 1, "medium": 2, "low": 3}
MAX_EXAMPLES = 5


class Finding(BaseModel):
    """One diagnostic result: what is wrong, where, how much, how to fix it, and examples."""

    model_config = ConfigDict(frozen=True)

    code: str
    severity: Severity
    message: str
    fix: str
    pixel_id: str | None = None
    event_name: str | None = None
    channel: str | None = None
    count: int
    share: float | None = None  # of the affected population, 0..1
    examples: list[str] = []


CheckFn = Callable[[Store, Scope], list[Finding]]


@dataclass(frozen=True)
class Check:
    """A registered diagnostic."""

    code: str
    severity: Severity
    description: str  # when it fires, for the catalog and the docs
    fix: str  # what to change, in the vocabulary of ownership, event contract, shared event_id
    run: CheckFn

    def finding(
        self,
        message: str,
        *,
        count: int,
        share: float | None = None,
        examples: Sequence[Any] = (),
        severity: Severity | None = None,
        pixel_id: str | None = None,
        event_name: str | None = None,
        channel: str | None = None,
        fix: str | None = None,
    ) -> Finding:
        """A finding of this check (severity may be raised or lowered, and the fix narrowed to what was
        found, for a particular case)."""
        return Finding(
            code=self.code,
            severity=severity or self.severity,
            message=message,
            fix=fix or self.fix,
            pixel_id=pixel_id,
            event_name=event_name,
            channel=channel,
            count=count,
            share=share,
            examples=[str(e) for e in list(examples)[:MAX_EXAMPLES] if e is not None],
        )


CHECKS: dict[str, Check] = {}


def check(code: str, severity: Severity, description: str, fix: str) -> Callable[[CheckFn], CheckFn]:
    """Register ``fn`` as the check for ``code``. The function can build findings with ``CHECKS[code]``."""

    def register(fn: CheckFn) -> CheckFn:
        if code in CHECKS:
            raise ValueError(f"diagnostic {code} registered twice")
        CHECKS[code] = Check(code, severity, description, fix, fn)
        return fn

    return register


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Most severe first, then largest count, then code (a stable order for the report)."""
    return sorted(findings, key=lambda f: (SEVERITY_RANK[f.severity], -f.count, f.code, f.event_name or ""))


def run_checks(store: Store, scope: Scope, codes: Sequence[str] | None = None) -> list[Finding]:
    """Run every registered check (or the given codes) and return the findings, sorted."""
    selected = [CHECKS[c] for c in codes] if codes is not None else list(CHECKS.values())
    findings: list[Finding] = []
    for registered in selected:
        findings.extend(registered.run(store, scope))
    return sort_findings(findings)
