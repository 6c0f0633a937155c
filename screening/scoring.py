"""Lead scoring in two dimensions, and the stage they imply. Pure: the rules arrive as a frozen dataclass.

**Fit** is who the person is: job-title seniority, company size, the qualifying (BANT) answers,
country, the kind of e-mail address, and what screening found (competitor, student ...).
**Engagement** is what they did: points per form fill by kind, a repeat of the same form within
`repeat_window_hours` counting once, each fill's points halving every `half_life_days` from when
it happened, so the value depends on the time it is read at, never on a next fill.

Both are functions of the lead's whole history of accepted, non-duplicate fills, and both come
with a breakdown: one `Line` per rule that fired (rule, points, evidence, submission id).

Stages: prospect -> MQL (an MQL form's intent, or engagement past `mql_engagement`) -> SQL (a
sales request with fit >= `sql_min_fit`, or fit >= `sql_fit` and engagement >= `sql_engagement`;
never with a blocker such as a free-mail or role address). A sales request that does not qualify
makes an MQL whose reason names what held it back. Automation only moves stages forward.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from importlib import resources
from types import MappingProxyType
from typing import Any

from screening.bundled import freemail_domains
from screening.check_people import student_word
from screening.model import SIDE_STAGES, Stage
from screening.textnorm import fold

# The answer key the demo and contact-sales forms store a company size under (forms/kinds.py).
COMPANY_SIZE = "company_size"

# The funnel's stages, lowest first (SAL, opportunity and customer are reached only by sales' feedback, but
# rank above SQL so automation never moves such a lead back). The side states (recycled, disqualified)
# have no rank: automation leaves them alone, except that a recycled lead qualifying again is an SQL.
_RANK: dict[str, int] = {stage: rank for rank, stage in enumerate(s for s in Stage if s not in SIDE_STAGES)}


def stage_rank(stage: str | None) -> int:
    """Order of a stage; unknown or None ranks below prospect."""
    return _RANK.get(stage, -1) if stage is not None else -1


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


# --- The rules -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoringRules:
    """Points and thresholds: marketing and sales agree on these, so every number is configuration."""

    # Engagement: points per form fill, by form kind (a kind not listed: by its intent, `intent_actions`).
    actions: Mapping[str, int] = field(
        default_factory=lambda: _frozen(
            {"newsletter": 5, "download": 10, "webinar": 15, "demo": 25, "contact_sales": 25}
        )
    )
    intent_actions: Mapping[str, int] = field(
        default_factory=lambda: _frozen({Stage.PROSPECT: 5, Stage.MQL: 10, Stage.SQL: 25})
    )
    # Fills of the same form closer together than this (a chain of them) count once, at the first.
    repeat_window_hours: float = 24.0
    # Engagement points halve every this many days after the fill (0: no decay).
    half_life_days: float = 30.0
    # The same person posting the same form again within this many seconds is one submission
    # (double click, back button): stored and linked, but neither scored nor forwarded (0: off).
    duplicate_window_seconds: int = 600

    # Fit: job-title seniority (see `seniority_of`).
    seniority: Mapping[str, int] = field(
        default_factory=lambda: _frozen(
            {
                "c_level": 25,
                "vp": 20,
                "director": 15,
                "head": 15,
                "manager": 8,
                "individual": 0,
                "intern": -15,
                "student": -25,
            }
        )
    )
    # Fit: company size (the `company_size` answer of demo and contact-sales forms), by answer.
    company_size: Mapping[str, int] = field(
        default_factory=lambda: _frozen(
            {"1_10": -10, "11_50": 0, "51_200": 5, "201_1000": 10, "1001_5000": 15, "over_5000": 15}
        )
    )
    # Fit: qualifying answers, keyed "<question>:<answer>" (BANT, and any other question a form asks).
    bant: Mapping[str, int] = field(
        default_factory=lambda: _frozen(
            {
                "budget:over_50k": 15,
                "budget:10k_50k": 10,
                "budget:under_10k": 0,
                "budget:none": -10,
                "authority:decision_maker": 10,
                "authority:influencer": 5,
                "authority:researcher": -5,
                "need:urgent": 10,
                "need:exploring": 0,
                "timeline:now": 15,
                "timeline:quarter": 10,
                "timeline:year": 0,
                "timeline:none": -10,
            }
        )
    )
    # Fit: country, matched without case or accents ("de", "germany"); empty: country does not count.
    countries: Mapping[str, int] = field(default_factory=lambda: _frozen({}))
    # Fit: an address at a company's own domain (not free-mail, role, academic or disposable).
    company_domain: int = 10
    # Fit: screening findings, by code or else by category, each counted once per lead. A finding of
    # the category a reviewer overruled by approving the submission does not count.
    risks: Mapping[str, int] = field(
        default_factory=lambda: _frozen(
            {
                "freemail.b2b": -20,
                "role.account": -20,
                "competitor": -60,
                "student": -25,
                "academic": -15,
                "job_seeker": -30,
                "vendor": -30,
            }
        )
    )
    # Risks (keys of `risks`) that keep a lead from SQL whatever its points.
    sql_blockers: tuple[str, ...] = ("freemail.b2b", "role.account", "competitor", "student", "job_seeker", "vendor")

    # Stage entry rules.
    mql_engagement: int = 15
    sql_min_fit: int = 10
    sql_fit: int = 30
    sql_engagement: int = 50

    def __post_init__(self) -> None:
        """Engagement points must not be negative: decay moves a value toward zero, and a negative one
        would rise with time."""
        for name in ("actions", "intent_actions"):
            negative = {k: v for k, v in getattr(self, name).items() if v < 0}
            if negative:
                raise ValueError(f"scoring rule {name!r}: engagement points must be ≥ 0, got {negative}")
        for name in ("repeat_window_hours", "half_life_days", "duplicate_window_seconds"):
            if getattr(self, name) < 0:
                raise ValueError(f"scoring rule {name!r} must be ≥ 0")

    @classmethod
    def from_mapping(cls, overrides: Mapping[str, Any]) -> ScoringRules:
        """Defaults with some keys replaced (e.g. from the SCORING_RULES setting): point tables are
        merged key by key, numbers and lists replaced. ValueError names an unknown or malformed rule."""
        base = cls()
        values: dict[str, Any] = {}
        for key, value in overrides.items():
            if key not in cls.__dataclass_fields__:
                raise ValueError(f"unknown scoring rule {key!r}")
            current = getattr(base, key)
            try:
                if isinstance(current, Mapping):
                    if not isinstance(value, Mapping):
                        raise TypeError("expected an object")
                    table = {**current, **{str(k): int(v) for k, v in value.items()}}
                    if key == "seniority" and "executive" in value:  # the former name of c_level
                        table["c_level"] = int(value["executive"])
                    values[key] = _frozen(table)
                elif isinstance(current, tuple):
                    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
                        raise TypeError("expected a list")
                    values[key] = tuple(str(item) for item in value)
                elif isinstance(current, float):
                    values[key] = float(value)
                else:
                    values[key] = int(value)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"scoring rule {key!r}: {exc}") from None
        return replace(base, **values)

    def as_dict(self) -> dict[str, Any]:
        """Plain values (JSON-ready), e.g. to show or store which rules scored a lead."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = (
                dict(value) if isinstance(value, Mapping) else list(value) if isinstance(value, tuple) else value
            )
        return out


# --- Job-title seniority ------------------------------------------------------------------------------

# Levels from the highest; the highest level a title names wins (`intern` and `student` win over all).
LEVELS: tuple[str, ...] = ("c_level", "vp", "director", "head", "manager", "individual")
# Someone's assistant or secretary is not the person they assist: "Assistant to the CEO".
_ASSISTANT = re.compile(
    r"(?<!\w)(executive assistant|personal assistant|(assistant|assistante|assistent|assistentin|asistente|"
    r"assistente|asystent|asystentka|secretary|secretaire|sekretar|sekretarin|secretaria|secretario|"
    r"ассистент|помощник|секретарь)\s+(to|of|for|du|de|des|del|della|di|der|des|fur|do|da|dla|при))(?!\w)"
)


def _cjk(word: str) -> bool:
    """Written without spaces between words (Han, kana): matched anywhere, not at word boundaries."""
    return any("\u3040" <= c <= "\u30ff" or "\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff" for c in word)


def _pattern(words: Iterable[str]) -> re.Pattern[str]:
    """One alternation of folded words, longest first; an empty list matches nothing."""
    parts = []
    for word in words:
        tokens = [re.escape(token) for token in re.split(r"[\s\-]+", fold(word.strip("*"))) if token]
        body = r"[\s\-]*".join(tokens)
        if _cjk(word):
            parts.append(body)
        else:
            start = r"\w*" if word.startswith("*") else r"(?<!\w)"  # *leiter: Vertriebsleiter
            end = r"\w*" if word.endswith("*") else r"(?!\w)"  # müdür*: Satış Müdürü
            parts.append(start + body + end)
    return re.compile("|".join(sorted(parts, key=len, reverse=True)) or r"(?!x)x")


@dataclass(frozen=True)
class SeniorityVocabulary:
    """screening/data/seniority.txt compiled: one pattern per level, the intern words, the overrides."""

    levels: Mapping[str, re.Pattern[str]]
    intern: re.Pattern[str]
    overrides: tuple[tuple[re.Pattern[str], str | None], ...]


@functools.cache
def seniority_vocabulary() -> SeniorityVocabulary:
    """The bundled seniority words, compiled once per process (the worker preloads screening data)."""
    text = resources.files("screening.data").joinpath("seniority.txt").read_text(encoding="utf-8")
    words: dict[str, list[str]] = {}
    overrides: list[tuple[re.Pattern[str], str | None]] = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, _, word = line.partition("\t")
        kind, word = kind.strip(), word.strip()
        if kind.startswith("override:"):
            level = kind.partition(":")[2]
            overrides.append((_pattern([word]), None if level == "none" else level))
        else:
            words.setdefault(kind, []).append(word)
    unknown = set(words) - {*LEVELS, "intern"}
    if unknown:
        raise ValueError(f"seniority.txt: unknown levels {sorted(unknown)}")
    return SeniorityVocabulary(
        levels=_frozen({level: _pattern(words.get(level, ())) for level in LEVELS}),
        intern=_pattern(words.get("intern", ())),
        overrides=tuple(overrides),
    )


_INITIALS = re.compile(r"(?<!\w)((?:\w\.){2,})")


def _normal_title(title: str) -> str:
    """Folded, with dotted initials closed up ("V.P." -> "vp") and separators made spaces."""
    text = _INITIALS.sub(lambda m: m.group(1).replace(".", ""), title)
    return " " + re.sub(r"[,;|/&+()\[\]]", " ", fold(text)) + " "


def _blank(pattern: re.Pattern[str], text: str) -> tuple[str, bool]:
    found = False

    def spaces(match: re.Match[str]) -> str:
        nonlocal found
        found = True
        return " " * len(match.group(0))

    return pattern.sub(spaces, text), found


def seniority_of(job_title: str) -> str | None:
    """The seniority level a job title names, in any of the languages above: one of `LEVELS`, or
    "intern" or "student"; None for an empty title or one that names no level."""
    if not job_title or not job_title.strip():
        return None
    if student_word(job_title):
        return "student"
    vocabulary = seniority_vocabulary()
    text = _normal_title(job_title)
    if vocabulary.intern.search(text):
        return "intern"
    if _ASSISTANT.search(text):
        return "individual"
    found: set[str] = set()
    for pattern, level in vocabulary.overrides:
        text, hit = _blank(pattern, text)
        if hit and level:
            found.add(level)
    # VP first, blanked, so "Vice President" is not also read as "President".
    text, hit = _blank(vocabulary.levels["vp"], text)
    if hit:
        found.add("vp")
    found.update(level for level, pattern in vocabulary.levels.items() if level != "vp" and pattern.search(text))
    return next((level for level in LEVELS if level in found), None)


# --- Scores and their breakdown -------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One rule that fired: its points, the evidence, and the submission the evidence came from.

    `label` is the short phrase stage reasons use ("no budget"); engagement lines also carry the
    points before decay (`base`) and when the fill happened (`at`), so decay can be applied again
    when the score is read."""

    rule: str
    points: int
    evidence: str
    submission_id: int | None = None
    label: str = ""
    base: int | None = None
    at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (times as ISO 8601)."""
        out: dict[str, Any] = {
            "rule": self.rule,
            "points": self.points,
            "evidence": self.evidence,
            "submission_id": self.submission_id,
            "label": self.label,
        }
        if self.base is not None:
            out["base"] = self.base
        if self.at is not None:
            out["at"] = self.at.isoformat()
        return out


@dataclass(frozen=True)
class Score:
    """A total with the lines that make it up, in order."""

    total: int
    lines: tuple[Line, ...] = ()

    @property
    def breakdown(self) -> tuple[tuple[str, int, str, int | None], ...]:
        """(rule, points, evidence, submission_id) per line."""
        return tuple((line.rule, line.points, line.evidence, line.submission_id) for line in self.lines)


def _score(lines: Iterable[Line]) -> Score:
    kept = tuple(lines)
    return Score(sum(line.points for line in kept), kept)


@dataclass(frozen=True)
class FindingRef:
    """A screening finding as scoring needs it."""

    code: str
    category: str
    evidence: str = ""


@dataclass(frozen=True)
class Fill:
    """One accepted submission as scoring sees it.

    `form` identifies the form (its slug): repeats are counted per form. `overruled` holds the
    finding categories a reviewer overruled by approving the submission. A fill with `duplicate_of`
    set is the same submission again and counts for nothing."""

    submission_id: int | None
    form: str
    kind: str
    intent: str
    at: datetime
    form_name: str = ""
    job_title: str = ""
    company: str = ""
    country: str = ""
    answers: Mapping[str, Any] = field(default_factory=lambda: _frozen({}))
    findings: tuple[FindingRef, ...] = ()
    overruled: frozenset[str] = frozenset()
    duplicate_of: int | None = None


@dataclass(frozen=True)
class ScoreCard:
    """Fit and engagement of one lead, as of `at`."""

    fit: Score
    engagement: Score
    at: datetime

    @property
    def total(self) -> int:
        """The single number destinations have always received: fit + engagement."""
        return self.fit.total + self.engagement.total

    def as_dict(self, rules: ScoringRules) -> dict[str, Any]:
        """The stored breakdown: both line lists, when it was computed, and the half-life that decays it."""
        return {
            "fit": [line.as_dict() for line in self.fit.lines],
            "engagement": [line.as_dict() for line in self.engagement.lines],
            "at": self.at.isoformat(),
            "half_life_days": rules.half_life_days,
        }


def counted(fills: Iterable[Fill]) -> list[Fill]:
    """The fills that count, oldest first: duplicates left out."""
    return sorted((f for f in fills if f.duplicate_of is None), key=lambda f: (f.at, f.submission_id or 0))


_SIZE = re.compile(r"^(over_)?(\d+)(?:_(\d+))?$")
_ANSWER_LABELS = {
    "budget:none": "no budget",
    "budget:under_10k": "budget under $10k",
    "budget:10k_50k": "budget $10k–50k",
    "budget:over_50k": "budget over $50k",
    "timeline:none": "no timeline",
    "timeline:now": "buying within a month",
    "timeline:quarter": "buying this quarter",
    "timeline:year": "buying this year",
    "authority:decision_maker": "decision-maker",
    "authority:influencer": "recommends",
    "authority:researcher": "researching, not deciding",
    "need:urgent": "urgent need",
    "need:exploring": "only exploring",
}
_RISK_LABELS = {
    "freemail.b2b": "free-mail address",
    "freemail": "free-mail address",
    "role.account": "role address",
    "job_seeker": "job seeker",
}
_LEVEL_LABELS = {
    "c_level": "C-level",
    "vp": "VP",
    "director": "director",
    "head": "head of department",
    "manager": "manager",
    "individual": "individual contributor",
    "intern": "intern",
    "student": "student",
}
# Findings that say the address is not a company's own mailbox.
_NOT_COMPANY_CODES = ("freemail", "role.", "email.disposable", "academic.domain")


def size_label(answer: str) -> str:
    """ "1_10" -> "1–10", "over_5000" -> "over 5000"."""
    match = _SIZE.match(answer)
    if not match:
        return answer.replace("_", " ")
    if match.group(1):
        return f"over {match.group(2)}"
    return f"{match.group(2)}\u2013{match.group(3)}" if match.group(3) else match.group(2)


def _domain(email: str) -> str:
    return email.rpartition("@")[2].strip().lower().rstrip(".")


def _latest(fills: Sequence[Fill], name: str) -> tuple[str, int | None]:
    """The newest non-empty value of a profile field, and the submission it came from."""
    for fill in reversed(fills):
        value = getattr(fill, name)
        if value and str(value).strip():
            return str(value).strip(), fill.submission_id
    return "", None


def score_fit(*, email: str, fills: Iterable[Fill], rules: ScoringRules) -> Score:
    """Who the person is, from the newest non-empty title, country and answers and every finding."""
    history = counted(fills)
    lines: list[Line] = []
    # Risks from screening, each key once (the first fill that showed it); a category a reviewer
    # overruled on that fill does not count. Evidence here never repeats what the person wrote (title,
    # address, company): an erasure blanks those on the submissions and the lead, and the breakdown
    # must not keep a copy; the submission id leads to the finding itself.
    risks: dict[str, Line] = {}
    for fill in history:
        for finding in fill.findings:
            if finding.category in fill.overruled:
                continue
            key = finding.code if finding.code in rules.risks else finding.category
            if key in rules.risks and key not in risks:
                label = _RISK_LABELS.get(key, key.replace("_", " "))
                evidence = f"screening found {finding.code} ({finding.category})"
                risks[key] = Line(f"risk.{key}", rules.risks[key], evidence, fill.submission_id, label)
    codes = {f.code for fill in history for f in fill.findings}
    domain = _domain(email)
    if (
        rules.company_domain
        and domain
        and domain not in freemail_domains()
        and not any(code.startswith(_NOT_COMPANY_CODES) for code in codes)
    ):
        lines.append(
            Line(
                "email.company_domain",
                rules.company_domain,
                "the address is at a company's own domain (not free-mail, role, academic or disposable)",
                None,
                "company e-mail",
            )
        )
    lines.extend(risks.values())
    title, title_from = _latest(history, "job_title")
    level = seniority_of(title)
    if level == "student" and "student" in risks:
        pass  # screening's student finding counts it already, with its evidence
    elif level is None and title:
        lines.append(Line("title.unknown", 0, "the job title names no seniority level", title_from, "title"))
    elif level is not None:
        label = _LEVEL_LABELS.get(level, level)
        lines.append(
            Line(f"title.{level}", rules.seniority.get(level, 0), f"the job title reads as {label}", title_from, label)
        )
    answers: dict[str, tuple[str, int | None]] = {}
    for fill in history:  # oldest first, so the newest non-empty answer wins
        for question, answer in (fill.answers or {}).items():
            if answer not in (None, "") and str(answer).strip():
                answers[str(question)] = (str(answer).strip(), fill.submission_id)
    size, size_from = answers.pop(COMPANY_SIZE, ("", None))
    if size and size in rules.company_size:
        label = f"company {size_label(size)}"
        lines.append(
            Line(
                f"company_size.{size}",
                rules.company_size[size],
                f"company size answer {size!r}: {size_label(size)} employees",
                size_from,
                label,
            )
        )
    for question, (answer, source) in sorted(answers.items()):
        key = f"{question}:{answer}"
        if key in rules.bant:
            label = _ANSWER_LABELS.get(key, f"{question.replace('_', ' ')}: {answer.replace('_', ' ')}")
            lines.append(
                Line(
                    f"answer.{question}.{answer}",
                    rules.bant[key],
                    f"{question.replace('_', ' ')} answer {answer!r}",
                    source,
                    label,
                )
            )
    country, country_from = _latest(history, "country")
    if country and rules.countries:
        folded = {fold(k).replace(".", "").strip(): v for k, v in rules.countries.items()}
        key = fold(country).replace(".", "").strip()
        if key in folded:
            label = f"country {key}"
            lines.append(Line(f"country.{key}", folded[key], f"the country matches {key!r}", country_from, label))
    return _score(lines)


def decayed(base: int, at: datetime, now: datetime, half_life_days: float) -> int:
    """`base` points halved every `half_life_days` since `at` (never raised: a future `at` counts as now)."""
    if not half_life_days or base <= 0:
        return base
    age_days = max((now - at).total_seconds(), 0.0) / 86400
    return math.floor(base * 0.5 ** (age_days / half_life_days) + 0.5)


def _action_points(fill: Fill, rules: ScoringRules) -> int:
    if fill.kind in rules.actions:
        return rules.actions[fill.kind]
    return rules.intent_actions.get(fill.intent, 0)


def score_engagement(*, fills: Iterable[Fill], now: datetime, rules: ScoringRules) -> Score:
    """Points per fill by form kind, decayed to `now`. Fills of one form less than
    `repeat_window_hours` apart form one visit, counted once at its first fill: a further fill can
    only join or merge visits, so repeats never add points."""
    window = timedelta(hours=rules.repeat_window_hours)
    last_seen: dict[str, datetime] = {}
    lines: list[Line] = []
    for fill in counted(fills):
        previous = last_seen.get(fill.form)
        last_seen[fill.form] = fill.at
        if previous is not None and fill.at - previous < window:
            continue
        base = _action_points(fill, rules)
        if not base:
            continue
        points = decayed(base, fill.at, now, rules.half_life_days)
        name = fill.form_name or fill.form
        evidence = f"{fill.kind.replace('_', ' ')} form {name!r} on {fill.at:%Y-%m-%d}"
        if points != base:
            evidence += f" ({base} points, decayed)"
        lines.append(
            Line(f"fill.{fill.kind}", points, evidence, fill.submission_id, f"{fill.kind} form", base, fill.at)
        )
    return _score(lines)


def score_lead(*, email: str, fills: Iterable[Fill], now: datetime, rules: ScoringRules) -> ScoreCard:
    """Fit and engagement of one lead from its fills, as of `now`."""
    history = list(fills)
    return ScoreCard(
        fit=score_fit(email=email, fills=history, rules=rules),
        engagement=score_engagement(fills=history, now=now, rules=rules),
        at=now,
    )


def engagement_at(stored: Mapping[str, Any], now: datetime) -> Score:
    """Engagement decayed to `now` from a stored breakdown (`ScoreCard.as_dict`): decay is applied
    when a score is read, so a lead that stops filling forms still cools down."""
    half_life = float(stored.get("half_life_days") or 0)
    lines = []
    for item in stored.get("engagement") or ():
        base, at = item.get("base"), item.get("at")
        if base is None or not at:
            lines.append(Line(item["rule"], int(item["points"]), item.get("evidence", ""), item.get("submission_id")))
            continue
        when = datetime.fromisoformat(at)
        points = decayed(int(base), when, now, half_life)
        lines.append(
            Line(
                item["rule"],
                points,
                item.get("evidence", ""),
                item.get("submission_id"),
                item.get("label", ""),
                int(base),
                when,
            )
        )
    return _score(lines)


# --- Stages --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageDecision:
    """The stage the lead is at after a fill, why, and whether that is a change of stage.

    `reason` may be set with `changed` False: the stage stays but the explanation is news (a sales
    request from an MQL that does not qualify says why); otherwise None keeps the reason there is."""

    stage: str
    reason: str | None
    changed: bool = False


def blockers(fit: Score, rules: ScoringRules) -> list[Line]:
    """Fit lines that keep a lead from SQL whatever its points."""
    return [line for line in fit.lines if line.rule.startswith("risk.") and line.rule[5:] in rules.sql_blockers]


def not_qualified_reason(fit: Score, rules: ScoringRules, form_name: str) -> str:
    """Why a sales request is not an SQL: blockers, then what costs fit points, most first."""
    blocking = blockers(fit, rules)
    costs = sorted(
        (line for line in fit.lines if line.points < 0 and line not in blocking), key=lambda line: line.points
    )
    labels = list(dict.fromkeys(line.label or line.rule for line in [*blocking, *costs]))
    why = ", ".join(labels) if labels else "nothing known that fits"
    return f"asked for sales, not qualified: {why} (fit {fit.total}, needs {rules.sql_min_fit}; form {form_name!r})"


def target_stage(*, fill: Fill, fit: Score, engagement: Score, rules: ScoringRules) -> tuple[str, str]:
    """The stage the evidence supports after `fill`, and why (ignoring where the lead is now)."""
    name = fill.form_name or fill.form
    clean = not blockers(fit, rules)
    if fill.intent == Stage.SQL:
        if clean and fit.total >= rules.sql_min_fit:
            return Stage.SQL, f"sales request on form {name!r} (SQL)"
    if clean and fit.total >= rules.sql_fit and engagement.total >= rules.sql_engagement:
        return (
            Stage.SQL,
            f"fit {fit.total} \u2265 {rules.sql_fit} and engagement {engagement.total} \u2265 {rules.sql_engagement}",
        )
    if fill.intent == Stage.SQL:
        return Stage.MQL, not_qualified_reason(fit, rules, name)
    if fill.intent == Stage.MQL:
        return Stage.MQL, f"engagement on form {name!r} (MQL)"
    if engagement.total >= rules.mql_engagement:
        return Stage.MQL, f"engagement {engagement.total} \u2265 {rules.mql_engagement} (MQL threshold)"
    return Stage.PROSPECT, f"sign-up on form {name!r} (prospect)"


def decide_stage(
    *, current: str | None, fill: Fill, fit: Score, engagement: Score, rules: ScoringRules
) -> StageDecision:
    """Forward only: the higher of the current stage and what the evidence supports. A stage automation
    does not rank (a side state a person set, or one unknown here) is left as it is, except that a
    recycled lead whose fill qualifies again becomes an SQL again."""
    if current == Stage.RECYCLED:
        stage, reason = target_stage(fill=fill, fit=fit, engagement=engagement, rules=rules)
        if stage == Stage.SQL:
            return StageDecision(Stage.SQL, f"qualified again after recycling: {reason}", changed=True)
        return StageDecision(Stage.RECYCLED, None)
    if current is not None and current not in _RANK:
        return StageDecision(current, None)
    stage, reason = target_stage(fill=fill, fit=fit, engagement=engagement, rules=rules)
    if current is None or stage_rank(stage) > stage_rank(current):
        if stage == Stage.SQL and fill.intent == Stage.MQL and stage_rank(current) < stage_rank(Stage.MQL):
            # A jump over MQL in one fill keeps the intent's reason too.
            reason = f"engagement on form {fill.form_name or fill.form!r} (MQL), then {reason}"
        return StageDecision(stage, reason, changed=True)
    if stage == current and fill.intent == Stage.SQL:
        # A sales request is news whatever the stage stays: qualified again, or why not this time.
        return StageDecision(current, reason)
    return StageDecision(current, None)
