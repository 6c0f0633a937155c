"""`screen()`: run every registered check and turn findings into a verdict."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from screening.checks import CHECKS
from screening.context import Context
from screening.model import ACCEPTED, HELD, REJECTED, Candidate, Finding, Screening


def screen(candidate: Candidate, context: Context | None = None) -> Screening:
    """Screen one candidate. Pure: same inputs, same result."""
    context = context or Context()
    findings: list[Finding] = []
    for check in CHECKS.values():
        findings.extend(check(candidate, context))
    return decide(findings, context, normalized_email=_normalize(candidate.email))


def decide(findings: list[Finding], context: Context, *, normalized_email: str | None) -> Screening:
    """Apply the policy: the heaviest category decides, the total score sets the severity."""
    policy = context.policy
    score = sum(f.weight for f in findings if f.weight > 0)
    worst = max(findings, key=lambda f: f.weight, default=None)
    category = worst.category if worst and worst.weight > 0 else None
    if score >= policy.reject_at and category in policy.reject_categories:
        verdict = REJECTED
    elif score >= policy.hold_at:
        verdict = HELD
    else:
        verdict = ACCEPTED
    return Screening(verdict, category, score, tuple(findings), normalized_email)


def _normalize(email: str) -> str | None:
    try:
        return validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError:
        return None
