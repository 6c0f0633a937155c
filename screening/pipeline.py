"""`screen()`: run every registered check and turn findings into a verdict."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

from screening.address import parse_address
from screening.check_reputation import ALLOWLIST_CODES
from screening.checks import CHECKS
from screening.context import HOLD, IGNORE, MARK, REJECT, Context
from screening.model import Candidate, Finding, Screening, Verdict

_SEVERITY = {MARK: 1, HOLD: 2, REJECT: 3}
_VERDICT = {MARK: Verdict.ACCEPTED, HOLD: Verdict.HELD, REJECT: Verdict.REJECTED}


def screen(candidate: Candidate, context: Context | None = None) -> Screening:
    """Screen one candidate: the single entry point for the worker, re-screen and the batch command.

    Pure apart from DNS and the recent-activity callable the context carries.
    """
    context = context or Context()
    run = replace(context, deadline=time.monotonic() + context.dns_budget_seconds)
    findings: list[Finding] = []
    for check in CHECKS.values():
        findings.extend(check(candidate, run))
    address = parse_address(candidate.email)
    return decide(findings, context, normalized_email=address.normalized or None)


def category_totals(findings: Sequence[Finding], context: Context) -> dict[str, int]:
    """Positive weights added up per category, leaving out categories the policy ignores."""
    totals: dict[str, int] = {}
    for f in findings:
        if f.weight > 0 and context.policy.action_for(f.category) != IGNORE:
            totals[f.category] = totals.get(f.category, 0) + f.weight
    return totals


def decide(findings: Sequence[Finding], context: Context, *, normalized_email: str | None) -> Screening:
    """Apply the policy (see `Policy` and the README's table).

    1. A syntactically invalid address is rejected, whatever the lists say.
    2. An allowlisted address or domain is accepted.
    3. Each category whose weights reach `hold_at` fires its action (`reject` needs
       `reject_at`, else it holds); the most severe action decides the verdict and category.
    4. Otherwise, weights of all categories together reaching `mixed_hold_at` hold.
    """
    policy = context.policy
    findings = tuple(findings)
    score = sum(f.weight for f in findings if f.weight > 0)
    if any(f.code == "email.syntax" for f in findings):
        return Screening(Verdict.REJECTED, "invalid", score, findings, normalized_email)
    if any(f.code in ALLOWLIST_CODES for f in findings):
        return Screening(Verdict.ACCEPTED, None, score, findings, normalized_email)
    totals = category_totals(findings, context)
    best: tuple[int, int, str, str] | None = None
    for category, total in totals.items():
        if total < policy.hold_at:
            continue
        action = policy.action_for(category)
        if action == REJECT and total < policy.reject_at:
            action = HOLD
        if action not in _SEVERITY:
            continue
        key = (_SEVERITY[action], total, category, action)
        if best is None or key[:2] > best[:2]:
            best = key
    if best is not None:
        return Screening(_VERDICT[best[3]], best[2], score, findings, normalized_email)
    if totals and sum(totals.values()) >= policy.mixed_hold_at:
        heaviest = max(totals, key=lambda c: totals[c])
        return Screening(Verdict.HELD, heaviest, score, findings, normalized_email)
    return Screening(Verdict.ACCEPTED, None, score, findings, normalized_email)
