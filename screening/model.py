"""Value types that flow through the screening pipeline.

Everything here is frozen: a screening run reads a candidate and a context and
returns a new `Screening`; nothing is mutated, so the same inputs always give
the same verdict (the re-screen button depends on that).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Words(StrEnum):
    """A closed set of status words; `has` tests a plain string (`in` on an Enum class raises on 3.11)."""

    @classmethod
    def has(cls, value: object) -> bool:
        """Whether `value` is one of these words."""
        return isinstance(value, str) and value in cls._value2member_map_


class Verdict(Words):
    """What screening decided about a submission."""

    ACCEPTED = "accepted"
    HELD = "held"
    REJECTED = "rejected"


class Stage(Words):
    """Where a person is in the funnel, lowest first: the funnel's order is the rank (see `stage_rank`).

    `recycled` (back to nurture: bad timing, no budget) and `disqualified` (not a fit, spam) are side
    states a person sets; they have no rank, so automation never moves a lead into or out of them (one
    exception: a recycled lead whose later fill qualifies again becomes an SQL again)."""

    PROSPECT = "prospect"
    MQL = "MQL"
    SQL = "SQL"
    SAL = "SAL"
    OPPORTUNITY = "opportunity"
    CUSTOMER = "customer"
    RECYCLED = "recycled"
    DISQUALIFIED = "disqualified"


# Side states a person puts a lead in; they are not on the funnel's forward order.
SIDE_STAGES = frozenset({Stage.RECYCLED, Stage.DISQUALIFIED})


@dataclass(frozen=True)
class Candidate:
    """What screening knows about one submission, already unicode-normalised."""

    email: str
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    job_title: str = ""
    phone: str = ""
    country: str = ""
    message: str = ""
    ip: str | None = None
    form_kind: str = ""
    form_intent: str = ""
    # Capture-time signals (honeypot, token status, fill time, origin); see app/capture/signals.py.
    signals: Mapping[str, Any] = field(default_factory=dict)
    # Results of the form's challenge (Turnstile, hCaptcha, reCAPTCHA v3) and Akismet checks, gathered by the
    # worker before screening (app/screening_context/challenges.py); None: the form asks for none.
    challenge: Mapping[str, Any] | None = None
    akismet: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Finding:
    """One observation about a candidate, with the evidence a reviewer reads."""

    code: str
    category: str
    weight: int
    evidence: str


@dataclass(frozen=True)
class Explanation:
    """Why a verdict fell, as weights per category against the policy's thresholds.

    `str()` gives the one line reviewers and the batch output read, e.g. "held: uncertain 60 ≥ 50".
    `rule` says which step of the policy decided: `syntax` (an impossible address), `allowlist`,
    `category` (one category reached `hold_at`; its `action` applied), `mixed` (all categories
    together reached `mixed_hold_at`) or `below` (nothing reached a threshold).
    """

    verdict: str
    category: str | None
    rule: str
    action: str = ""
    total: int = 0  # the deciding weight: the category's, or all categories' together for `mixed`
    threshold: int = 0  # the threshold it was compared with
    totals: tuple[tuple[str, int], ...] = ()  # every category that counts, heaviest first
    ignored: tuple[tuple[str, int], ...] = ()  # categories the policy ignores, with their weights
    code: str = ""  # the finding that decided a `syntax` or `allowlist` verdict
    hold_at: int = 0
    reject_at: int = 0
    mixed_hold_at: int = 0
    dns_only: bool = False  # held, and would have been accepted had DNS answered

    def __str__(self) -> str:
        """The one line: verdict, the deciding weight against its threshold, then the rest."""
        others = [(c, w) for c, w in self.totals if c != self.category or self.rule != "category"]
        if self.rule == "syntax":
            line = f"{self.verdict}: the address is not valid ({self.code}: rejected whatever else was found)"
        elif self.rule == "allowlist":
            line = f"{self.verdict}: allowlisted ({self.code}: wins over every other finding)"
        elif self.rule == "category":
            head = f"{self.verdict} as {self.category}" if self.action == "mark" else self.verdict
            line = f"{head}: {self.category} {self.total} ≥ {self.threshold}"
            if self.action == "reject" and self.verdict != "rejected":
                line += f" (rejects at {self.reject_at})"
            if others:
                line += "; also " + _weights(others)
        elif self.rule == "mixed":
            line = f"{self.verdict}: all categories {self.total} ≥ {self.threshold} ({_weights(self.totals)})"
        elif self.totals:
            each = " each" if len(self.totals) > 1 else ""
            line = f"{self.verdict}: {_weights(self.totals)} < {self.hold_at}{each}"
            if len(self.totals) > 1:
                line += f"; together {self.total} < {self.mixed_hold_at}"
        else:
            line = f"{self.verdict}: no weighed findings"
        if self.ignored:
            line += "; ignored: " + _weights(self.ignored)
        if self.dns_only:
            line += " — only because DNS did not answer"
        return line


def _weights(pairs: tuple[tuple[str, int], ...] | list[tuple[str, int]]) -> str:
    return ", ".join(f"{category} {weight}" for category, weight in pairs)


@dataclass(frozen=True)
class Screening:
    """The outcome: verdict, the category that decided it, every finding, and why (`explanation`)."""

    verdict: str
    category: str | None
    score: int
    findings: tuple[Finding, ...]
    normalized_email: str | None = None
    explanation: Explanation | None = None
