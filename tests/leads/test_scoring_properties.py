"""Properties of the pure scoring (screening/scoring.py) over generated histories: a duplicate or a repeat
never raises a score, decay never raises it, and automation never moves a stage backwards."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from screening.scoring import Fill, FindingRef, ScoringRules, decide_stage, engagement_at, score_lead, stage_rank

RULES = ScoringRules()
T0 = datetime(2026, 1, 1)
KINDS = {
    "newsletter": ("prospect", ["newsletter", "embedded"]),
    "download": ("MQL", ["whitepaper", "ebook"]),
    "webinar": ("MQL", ["webinar-live"]),
    "demo": ("SQL", ["request-demo"]),
    "contact_sales": ("SQL", ["contact-sales"]),
}
TITLES = ["", "CEO", "VP Sales", "Head of Growth", "Marketing Manager", "Analyst", "Intern", "PhD student", "Wizard"]
ANSWERS = {
    "budget": ["", "none", "under_10k", "10k_50k", "over_50k"],
    "timeline": ["", "none", "year", "quarter", "now"],
    "authority": ["", "researcher", "influencer", "decision_maker"],
    "company_size": ["", "1_10", "11_50", "201_1000", "over_5000"],
}
FINDINGS = [
    FindingRef("freemail.b2b", "risk"),
    FindingRef("role.account", "risk"),
    FindingRef("competitor.name", "competitor"),
    FindingRef("student.title", "student"),
    FindingRef("academic.domain", "academic"),
]
EMAILS = ["li@initech.com", "jo@gmail.com", "info@initech.com"]


@st.composite
def fills(draw: st.DrawFn, sid: int = 1) -> Fill:
    kind = draw(st.sampled_from(sorted(KINDS)))
    intent, forms = KINDS[kind]
    return Fill(
        submission_id=sid,
        form=draw(st.sampled_from(forms)),
        kind=kind,
        intent=intent,
        at=T0 + timedelta(minutes=draw(st.integers(0, 60 * 24 * 200))),
        job_title=draw(st.sampled_from(TITLES)),
        answers={q: a for q, a in ((q, draw(st.sampled_from(v))) for q, v in ANSWERS.items()) if a},
        findings=tuple(draw(st.lists(st.sampled_from(FINDINGS), max_size=2, unique=True))),
    )


@st.composite
def histories(draw: st.DrawFn) -> list[Fill]:
    count = draw(st.integers(1, 8))
    return [draw(fills(sid=i + 1)) for i in range(count)]


def total(history: list[Fill], email: str, now: datetime) -> int:
    return score_lead(email=email, fills=history, now=now, rules=RULES).total


def latest(history: list[Fill]) -> Fill:
    return max(history, key=lambda f: (f.at, f.submission_id or 0))


@settings(max_examples=300, deadline=None)
@given(histories(), st.sampled_from(EMAILS), fills(sid=99), st.integers(0, 400))
def test_a_fill_marked_duplicate_never_raises_the_score(history, email, extra, days):
    now = latest(history).at + timedelta(days=days)
    marked = replace(extra, duplicate_of=history[0].submission_id)
    assert total([*history, marked], email, now) <= total(history, email, now)


@settings(max_examples=300, deadline=None)
@given(histories(), st.sampled_from(EMAILS), st.integers(0, 600), st.integers(0, 400))
def test_a_double_click_never_raises_the_score_even_unmarked(history, email, seconds, days):
    """The same post again seconds later (the newest fill, repeated) adds nothing, marked or not."""
    newest = latest(history)
    again = replace(newest, submission_id=99, at=newest.at + timedelta(seconds=seconds))
    now = again.at + timedelta(days=days)
    assert total([*history, again], email, now) <= total(history, email, now)


@settings(max_examples=300, deadline=None)
@given(histories(), st.data(), st.integers(-24 * 60 + 1, 24 * 60 - 1), st.integers(0, 400))
def test_a_repeat_of_a_form_within_the_window_never_raises_engagement(history, data, minutes, days):
    """Before or after any fill of the same form, within the repeat window: it joins (or merges) visits."""
    base = data.draw(st.sampled_from(history))
    repeat = replace(base, submission_id=99, at=base.at + timedelta(minutes=minutes))
    now = max(f.at for f in [*history, repeat]) + timedelta(days=days)
    before = score_lead(email=EMAILS[0], fills=history, now=now, rules=RULES).engagement.total
    after = score_lead(email=EMAILS[0], fills=[*history, repeat], now=now, rules=RULES).engagement.total
    assert after <= before


@settings(max_examples=300, deadline=None)
@given(histories(), st.sampled_from(EMAILS), st.integers(0, 800), st.integers(0, 800))
def test_decay_never_raises_the_score(history, email, first, later):
    start = latest(history).at
    earlier_now, later_now = start + timedelta(days=first), start + timedelta(days=first + later)
    card = score_lead(email=email, fills=history, now=earlier_now, rules=RULES)
    assert total(history, email, later_now) <= card.total
    # Read again later from the stored breakdown: the same value as scoring then, never more than now.
    stored = card.as_dict(RULES)
    assert engagement_at(stored, earlier_now).total == card.engagement.total
    assert engagement_at(stored, later_now).total <= card.engagement.total
    assert (
        engagement_at(stored, later_now).total
        == score_lead(email=email, fills=history, now=later_now, rules=RULES).engagement.total
    )


@settings(max_examples=300, deadline=None)
@given(histories(), st.sampled_from(EMAILS), st.sampled_from([None, "prospect", "MQL", "SQL"]))
def test_stages_never_move_backwards_without_a_person(history, email, start):
    """Replaying a history fill by fill from any starting stage: each decision is at or above the last."""
    current = start
    ordered = sorted(history, key=lambda f: (f.at, f.submission_id or 0))
    for index, this in enumerate(ordered):
        card = score_lead(email=email, fills=ordered[: index + 1], now=this.at, rules=RULES)
        decision = decide_stage(current=current, fill=this, fit=card.fit, engagement=card.engagement, rules=RULES)
        assert stage_rank(decision.stage) >= stage_rank(current)
        assert decision.changed == (current is None or decision.stage != current)
        current = decision.stage


@settings(max_examples=100, deadline=None)
@given(histories(), st.sampled_from(["customer", "recycled", "disqualified", "SAL"]))
def test_a_stage_automation_does_not_rank_is_never_changed(history, stage):
    this = latest(history)
    card = score_lead(email=EMAILS[0], fills=history, now=this.at, rules=RULES)
    decision = decide_stage(current=stage, fill=this, fit=card.fit, engagement=card.engagement, rules=RULES)
    if stage == "recycled" and decision.changed:
        # The one way out of a side state on its own: a recycled lead that qualifies again is an SQL again.
        assert decision.stage == "SQL" and decision.reason.startswith("qualified again after recycling")
    else:
        assert (decision.stage, decision.changed) == (stage, False)
