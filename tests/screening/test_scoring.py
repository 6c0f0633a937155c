"""Pure classification: lead identity, scoring and forward-only stages (no app needed)."""

from __future__ import annotations

import pytest

from screening.identity import lead_key
from screening.scoring import ScoringRules, decide_stage, score_lead, seniority_of

RULES = ScoringRules()


@pytest.mark.parametrize(
    ("email", "key"),
    [
        ("Jane.Doe@Acme.com", "jane.doe@acme.com"),
        ("jane+events@acme.com", "jane+events@acme.com"),  # a corporate +tag may be its own mailbox
        ("J.a.n.e+promo@gmail.com", "jane@gmail.com"),
        ("jane@googlemail.com", "jane@gmail.com"),
        ("jane+x@outlook.com", "jane@outlook.com"),
        ("j.ane@outlook.com", "j.ane@outlook.com"),  # dots only matter at Gmail
    ],
)
def test_lead_key_policy(email, key):
    assert lead_key(email) == key


@pytest.mark.parametrize(("intent", "stage"), [("prospect", "prospect"), ("MQL", "MQL"), ("SQL", "SQL")])
def test_new_lead_takes_the_stage_of_the_form_intent(intent, stage):
    decision = decide_stage(current=None, intent=intent, form_name="Q4", score=0, rules=RULES)
    assert decision.stage == stage
    assert "'Q4'" in decision.reason


def test_demo_request_reason_names_the_form():
    decision = decide_stage(current="MQL", intent="SQL", form_name="Q4-demo", score=10, rules=RULES)
    assert (decision.stage, decision.reason) == ("SQL", "sales request on form 'Q4-demo' (SQL)")


def test_mql_promoted_when_score_crosses_threshold():
    decision = decide_stage(current="MQL", intent="MQL", form_name="Webinar", score=62, rules=RULES)
    assert (decision.stage, decision.reason) == ("SQL", "score 62 \u2265 threshold 50")
    below = decide_stage(current="MQL", intent="MQL", form_name="Webinar", score=49, rules=RULES)
    assert (below.stage, below.reason) == ("MQL", None)


def test_prospect_is_not_promoted_by_score_alone():
    decision = decide_stage(current=None, intent="prospect", form_name="News", score=99, rules=RULES)
    assert decision.stage == "prospect"


@pytest.mark.parametrize("current", ["MQL", "SQL"])
def test_stages_never_move_backwards(current):
    decision = decide_stage(current=current, intent="prospect", form_name="News", score=0, rules=RULES)
    assert decision.stage == current and decision.reason is None


def test_score_adds_actions_repeat_visits_seniority_and_bant_minus_risk():
    score = score_lead(
        form_kinds=["download", "webinar"],
        job_title="VP Marketing",
        answers={"budget": "10k_50k", "timeline": "quarter", "unknown": "x"},
        risk_codes=["freemail.b2b"],
        rules=RULES,
    )
    assert score.total == 10 + 15 + 5 + 15 + 10 + 10 - 10
    reasons = [reason for _, reason in score.breakdown]
    assert "job title 'VP Marketing' is vp level" in reasons
    assert "risk: freemail.b2b" in reasons


@pytest.mark.parametrize(
    ("title", "level"),
    [
        ("Chief Revenue Officer", "executive"),
        ("Co-Founder", "executive"),
        ("SVP Sales", "vp"),
        ("Head of Growth", "director"),
        ("Marketing Manager", "manager"),
        ("Intern", None),
        ("Service Provider", None),
    ],
)
def test_seniority(title, level):
    assert seniority_of(title) == level


def test_rules_come_from_configuration():
    rules = ScoringRules.from_mapping({"actions": {"webinar": 40}, "sql_threshold": 30})
    assert rules.actions["webinar"] == 40 and rules.actions["download"] == 10
    assert rules.sql_threshold == 30
    with pytest.raises(ValueError, match="unknown scoring rule"):
        ScoringRules.from_mapping({"nonsense": 1})


@pytest.mark.parametrize(
    ("size", "points"),
    [
        ("1_10", 0),
        ("11_50", 3),
        ("51_200", 5),
        ("201_1000", 10),
        ("1001_5000", 15),
        ("over_5000", 15),
        ("", 0),
        ("huge", 0),
    ],
)
def test_company_size_scores_as_an_attribute(size, points):
    score = score_lead(
        form_kinds=[], job_title="", answers={"company_size": size} if size else {}, risk_codes=[], rules=RULES
    )
    assert score.total == points
    if points:
        assert score.breakdown[0][1].startswith("company size ")


def test_company_size_points_come_from_configuration():
    rules = ScoringRules.from_mapping({"company_size": {"over_5000": 25, "1_10": -5}})
    sizes = rules.company_size
    assert (sizes["over_5000"], sizes["1_10"], sizes["51_200"]) == (25, -5, 5)
    score = score_lead(form_kinds=[], job_title="", answers={"company_size": "over_5000"}, risk_codes=[], rules=rules)
    assert score.breakdown == ((25, "company size over 5000"),)


@pytest.mark.parametrize("current", [None, "prospect"])
def test_jump_to_sql_through_an_mql_form_and_the_score_records_both_reasons(current):
    decision = decide_stage(current=current, intent="MQL", form_name="Whitepaper", score=55, rules=RULES)
    assert decision.stage == "SQL"
    assert decision.reason == "engagement on form 'Whitepaper' (MQL), then score 55 \u2265 threshold 50"
