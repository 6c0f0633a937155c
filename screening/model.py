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
    """Where a person is in the funnel, lowest first: the order is the rank (see `stage_rank`)."""

    PROSPECT = "prospect"
    MQL = "MQL"
    SQL = "SQL"


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


@dataclass(frozen=True)
class Finding:
    """One observation about a candidate, with the evidence a reviewer reads."""

    code: str
    category: str
    weight: int
    evidence: str


@dataclass(frozen=True)
class Screening:
    """The outcome: verdict, the category that decided it, and every finding."""

    verdict: str
    category: str | None
    score: int
    findings: tuple[Finding, ...]
    normalized_email: str | None = None
