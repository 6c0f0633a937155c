"""`screen()`: run every registered check and turn findings into a verdict."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

from screening.address import parse_address
from screening.check_reputation import ALLOWLIST_CODES
from screening.checks import CHECKS
from screening.context import HOLD, IGNORE, MARK, REJECT, Context, Policy
from screening.model import Candidate, Explanation, Finding, Screening, Verdict
from screening.resolver import DnsBudget

_SEVERITY = {MARK: 1, HOLD: 2, REJECT: 3}
_VERDICT = {MARK: Verdict.ACCEPTED, HOLD: Verdict.HELD, REJECT: Verdict.REJECTED}


def screen(candidate: Candidate, context: Context | None = None) -> Screening:
    """Screen one candidate: the single entry point for the worker, re-screen and the batch command.

    Pure apart from DNS and the recent-activity callable the context carries. The DNS budget counts
    only time spent waiting on DNS, so a row that waited for the CPU still gets all of it.
    """
    context = context or Context()
    run = replace(context, deadline=DnsBudget(context.dns_budget_seconds))
    findings: list[Finding] = []
    for check in CHECKS.values():
        findings.extend(check(candidate, run))
    address = parse_address(candidate.email)
    return decide(findings, context, normalized_email=address.normalized or None)


# Findings that say DNS could not answer (our resolver's trouble, not the person's).
DNS_FAILURE_CODES = frozenset({"dns.unknown", "dnsbl.unknown"})


class Weighed(Protocol):
    """What deciding reads of a finding: a `Finding`, or a stored one (the admin explains stored rows)."""

    @property
    def code(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def weight(self) -> int: ...


def category_totals(findings: Sequence[Weighed], context: Context) -> dict[str, int]:
    """Positive weights added up per category, leaving out categories the policy ignores."""
    return _totals(findings, context.policy)


def _totals(findings: Sequence[Weighed], policy: Policy, *, ignored: bool = False) -> dict[str, int]:
    """Positive weights per category: those that count (or, with `ignored`, those the policy ignores)."""
    totals: dict[str, int] = {}
    for f in findings:
        if f.weight > 0 and (policy.action_for(f.category) == IGNORE) == ignored:
            totals[f.category] = totals.get(f.category, 0) + f.weight
    return totals


def decide(findings: Sequence[Finding], context: Context, *, normalized_email: str | None) -> Screening:
    """The verdict for these findings under the context's policy (see `explain`), with its explanation."""
    findings = tuple(findings)
    score = sum(f.weight for f in findings if f.weight > 0)
    why = explain(findings, context.policy)
    return Screening(why.verdict, why.category, score, findings, normalized_email, why)


def explain(findings: Sequence[Weighed], policy: Policy) -> Explanation:
    """Apply the policy (see `Policy` and docs/screening.md) and say why, weights against thresholds.

    1. A syntactically invalid address is rejected, whatever the lists say.
    2. An allowlisted address or domain is accepted.
    3. Each category whose weights reach `hold_at` fires its action (`reject` needs
       `reject_at`, else it holds); the most severe action decides the verdict and category.
    4. Otherwise, weights of all categories together reaching `mixed_hold_at` hold.

    Pure, so the admin can explain stored findings at render time without storing the line.
    """
    why = _explain(findings, policy)
    if why.verdict == Verdict.HELD and any(f.code in DNS_FAILURE_CODES for f in findings):
        without = _explain([f for f in findings if f.code not in DNS_FAILURE_CODES], policy)
        if without.verdict == Verdict.ACCEPTED:
            why = replace(why, dns_only=True)
    return why


def _explain(findings: Sequence[Weighed], policy: Policy) -> Explanation:
    base = Explanation(
        Verdict.ACCEPTED,
        None,
        "below",
        hold_at=policy.hold_at,
        reject_at=policy.reject_at,
        mixed_hold_at=policy.mixed_hold_at,
    )
    for f in findings:
        if f.code == "email.syntax":
            return replace(
                base, verdict=Verdict.REJECTED, category="invalid", rule="syntax", action=REJECT, code=f.code
            )
    for f in findings:
        if f.code in ALLOWLIST_CODES:
            return replace(base, rule="allowlist", code=f.code)
    counted = _totals(findings, policy)
    base = replace(
        base, totals=_heaviest_first(counted), ignored=_heaviest_first(_totals(findings, policy, ignored=True))
    )
    best: tuple[int, int, str, str] | None = None
    for category, total in counted.items():
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
        _, total, category, action = best
        return replace(
            base,
            verdict=_VERDICT[action],
            category=category,
            rule="category",
            action=policy.action_for(category),
            total=total,
            threshold=policy.reject_at if action == REJECT else policy.hold_at,
        )
    together = sum(counted.values())
    if counted and together >= policy.mixed_hold_at:
        heaviest = max(counted, key=lambda c: counted[c])
        return replace(
            base,
            verdict=Verdict.HELD,
            category=heaviest,
            rule="mixed",
            action=HOLD,
            total=together,
            threshold=policy.mixed_hold_at,
        )
    return replace(base, total=together, threshold=policy.hold_at)


def _heaviest_first(totals: dict[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(totals.items(), key=lambda item: (-item[1], item[0])))
