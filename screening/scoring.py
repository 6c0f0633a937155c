"""Lead scoring and the stage it implies. Pure: the rules arrive as a frozen dataclass.

Stage comes first from the form's intent (newsletter -> prospect, download and
webinar -> MQL, demo and contact-sales -> SQL); the score then promotes an MQL
whose points reach the hand-off threshold. Stages never move backwards.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from screening.model import Stage

# The answer key the demo and contact-sales forms store a company size under (forms/kinds.py).
COMPANY_SIZE = "company_size"


_RANK: dict[str, int] = {stage: rank for rank, stage in enumerate(Stage)}


def stage_rank(stage: str | None) -> int:
    """Order of a stage; unknown or None ranks below prospect."""
    return _RANK.get(stage, -1) if stage is not None else -1


def _frozen(mapping: Mapping[str, int]) -> Mapping[str, int]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class ScoringRules:
    """Points and threshold; marketing and sales agree on these, so they are configuration."""

    # Per submission, by form kind.
    actions: Mapping[str, int] = field(
        default_factory=lambda: _frozen(
            {"newsletter": 2, "download": 10, "webinar": 15, "contact_sales": 30, "demo": 30}
        )
    )
    # Each form fill after the first.
    repeat_visit: int = 5
    # Job-title seniority: the first matching level counts.
    seniority: Mapping[str, int] = field(
        default_factory=lambda: _frozen({"executive": 20, "vp": 15, "director": 10, "manager": 5})
    )
    # BANT answers, keyed "<question>:<answer>".
    bant: Mapping[str, int] = field(
        default_factory=lambda: _frozen(
            {
                "budget:over_50k": 15,
                "budget:10k_50k": 10,
                "budget:under_10k": 3,
                "authority:decision_maker": 15,
                "authority:influencer": 5,
                "need:urgent": 10,
                "need:exploring": 2,
                "timeline:now": 15,
                "timeline:quarter": 10,
                "timeline:year": 3,
            }
        )
    )
    # Company size (the `company_size` answer of demo and contact-sales forms), by answer.
    company_size: Mapping[str, int] = field(
        default_factory=lambda: _frozen({"11_50": 3, "51_200": 5, "201_1000": 10, "1001_5000": 15, "over_5000": 15})
    )
    # Risk findings (screening codes) and what they cost.
    risks: Mapping[str, int] = field(default_factory=lambda: _frozen({"freemail.b2b": -10, "role.account": -10}))
    sql_threshold: int = 50

    @classmethod
    def from_mapping(cls, overrides: Mapping[str, Any]) -> ScoringRules:
        """Defaults with some keys replaced (e.g. from the SCORING_RULES setting)."""
        base = cls()
        values: dict[str, Any] = {}
        for key, value in overrides.items():
            if not hasattr(base, key):
                raise ValueError(f"unknown scoring rule {key!r}")
            current = getattr(base, key)
            values[key] = _frozen({**current, **value}) if isinstance(current, Mapping) else int(value)
        return cls(**{**{k: getattr(base, k) for k in cls.__dataclass_fields__}, **values})


_SENIORITY = {
    "executive": re.compile(
        r"\b(ceo|cto|cfo|coo|cmo|cio|ciso|cro|chief|founder|co-?founder|owner|president|"
        r"managing director|geschäftsführer|directeur général|director general)\b",
        re.I,
    ),
    "vp": re.compile(r"\b(vp|svp|evp|vice[- ]president)\b", re.I),
    "director": re.compile(r"\b(director|head of|head|directeur|direktor|leiter)\b", re.I),
    "manager": re.compile(r"\b(manager|lead|team lead|gerente|responsable)\b", re.I),
}


def seniority_of(job_title: str) -> str | None:
    """The seniority level a job title names, if any."""
    for level, pattern in _SENIORITY.items():
        if pattern.search(job_title or ""):
            return level
    return None


@dataclass(frozen=True)
class Score:
    """A total with the reasons that make it up, in order."""

    total: int
    breakdown: tuple[tuple[int, str], ...]


def score_lead(
    *,
    form_kinds: Iterable[str],
    job_title: str,
    answers: Mapping[str, str],
    risk_codes: Iterable[str],
    rules: ScoringRules,
) -> Score:
    """Points for every form fill (oldest first), the person's attributes (seniority, company size) and
    BANT answers, minus each risk once. Callers pass the whole history of the lead's accepted
    submissions, so the score is a function of that history, not of the latest fill."""
    parts: list[tuple[int, str]] = []
    for index, kind in enumerate(form_kinds):
        if rules.actions.get(kind):
            parts.append((rules.actions[kind], f"{kind.replace('_', ' ')} form"))
        if index > 0 and rules.repeat_visit:
            parts.append((rules.repeat_visit, "came back through another form"))
    level = seniority_of(job_title)
    if level and rules.seniority.get(level):
        parts.append((rules.seniority[level], f"job title {job_title!r} is {level} level"))
    for question, answer in sorted(answers.items()):
        if question == COMPANY_SIZE:
            continue
        points = rules.bant.get(f"{question}:{answer}")
        if points:
            parts.append((points, f"{question}: {answer.replace('_', ' ')}"))
    size = answers.get(COMPANY_SIZE, "")
    if rules.company_size.get(size):
        label = size.replace("over_", "over ").replace("_", "\u2013")
        parts.append((rules.company_size[size], f"company size {label}"))
    for code in sorted(set(risk_codes)):
        if rules.risks.get(code):
            parts.append((rules.risks[code], f"risk: {code}"))
    return Score(sum(points for points, _ in parts), tuple(parts))


@dataclass(frozen=True)
class StageDecision:
    """The stage a lead should be at now, and why (None when it stays where it is)."""

    stage: str
    reason: str | None


def decide_stage(*, current: str | None, intent: str, form_name: str, score: int, rules: ScoringRules) -> StageDecision:
    """Forward-only: the higher of the current stage, the intent's stage and the score's promotion."""
    stage: str | None = current if current in _RANK else None
    reason: str | None = None
    if stage_rank(intent) > stage_rank(stage):
        label = {"prospect": "sign-up", "MQL": "engagement", "SQL": "sales request"}[intent]
        stage, reason = intent, f"{label} on form {form_name!r} ({intent})"
    if stage == "MQL" and score >= rules.sql_threshold:
        promotion = f"score {score} \u2265 threshold {rules.sql_threshold}"
        # A jump over MQL in one step (new lead, or prospect) keeps the intent's reason too.
        stage, reason = "SQL", f"{reason}, then {promotion}" if reason else promotion
    return StageDecision(stage or "prospect", reason)
