"""Changing the scoring rules, pure (screening/qualification.py): a stored snapshot reads back exactly,
the diff names what changed, and a re-score only moves a stage forward and never one a person set."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from screening.qualification import (
    KEEP,
    PINNED,
    PROMOTE,
    SUGGEST,
    diff_lines,
    plan_rescore,
    replayed_stage,
    rules_diff,
    rules_from_stored,
)
from screening.scoring import Fill, ScoringRules, stage_rank
from tests.leads.test_scoring_properties import histories

RULES = ScoringRules()
T0 = datetime(2026, 3, 1)


def demo(sid: int = 1, at: datetime = T0, **answers: str) -> Fill:
    return Fill(
        submission_id=sid,
        form="request-demo",
        form_name="Request a demo",
        kind="demo",
        intent="SQL",
        at=at,
        job_title="Analyst",
        answers=answers,
    )


def download(sid: int = 1, at: datetime = T0) -> Fill:
    return Fill(submission_id=sid, form="whitepaper", kind="download", intent="MQL", at=at)


def plan(current: str, rules: ScoringRules, fills: list[Fill], *, by_person: bool = False, now: datetime = T0):
    return plan_rescore(
        email="li@initech.com", current=current, set_by_person=by_person, fills=fills, now=now, rules=rules
    )


def test_a_stored_snapshot_reads_back_as_the_same_rules():
    changed = replace(RULES, sql_min_fit=0, half_life_days=7.5, sql_blockers=("competitor",))
    assert rules_from_stored(changed.as_dict()) == changed


def test_a_table_row_removed_stays_removed_instead_of_coming_back_from_the_defaults():
    values = RULES.as_dict()
    del values["bant"]["budget:none"]
    values["countries"] = {"de": 10}
    rules = rules_from_stored(values)
    assert "budget:none" not in rules.bant and dict(rules.countries) == {"de": 10}


def test_an_older_snapshot_missing_a_rule_takes_the_default():
    values = RULES.as_dict()
    del values["duplicate_window_seconds"]
    assert rules_from_stored(values).duplicate_window_seconds == RULES.duplicate_window_seconds


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"half_life_days": -1}, "half_life_days"),
        ({"actions": {"demo": -5}}, "actions"),
        ({"no_such_rule": 1}, "no_such_rule"),
    ],
    ids=["negative-half-life", "negative-engagement", "unknown-rule"],
)
def test_a_malformed_snapshot_is_an_error_naming_the_rule(values, message):
    with pytest.raises(ValueError, match=message):
        rules_from_stored({**RULES.as_dict(), **values})


def test_the_diff_names_numbers_and_table_rows_that_changed():
    after = RULES.as_dict()
    after["sql_min_fit"] = 0
    after["countries"] = {"de": 10}
    after["bant"] = {**after["bant"], "budget:none": -20}
    del after["risks"]["vendor"]
    diff = rules_diff(RULES.as_dict(), after)
    assert diff == {
        "bant": {"changed": {"budget:none": {"from": -10, "to": -20}}},
        "countries": {"added": {"de": 10}},
        "risks": {"removed": {"vendor": -30}},
        "sql_min_fit": {"from": 10, "to": 0},
    }
    assert diff_lines(diff) == [
        "bant budget:none: -10 \u2192 -20",
        "countries de added: 10",
        "risks vendor removed (was -30)",
        "sql_min_fit: 10 \u2192 0",
    ]
    assert rules_diff(after, after) == {}


def test_lowering_the_sql_minimum_fit_promotes_an_unqualified_demo_request():
    fills = [demo(company_size="1_10")]  # fit: company e-mail 10, analyst 0, 1-10 employees -10 = 0
    assert replayed_stage(email="li@initech.com", fills=fills, rules=RULES)[0] == "MQL"
    result = plan("MQL", replace(RULES, sql_min_fit=0), fills)
    assert (result.action, result.target, result.changes_stage) == (PROMOTE, "SQL", True)
    assert result.reason == "sales request on form 'Request a demo' (SQL)"
    assert result.card.fit.total == 0


def test_raising_the_sql_minimum_fit_only_suggests_moving_an_sql_back():
    fills = [demo()]  # fit 10: an SQL under the defaults
    result = plan("SQL", replace(RULES, sql_min_fit=20), fills)
    assert (result.action, result.current, result.target, result.changes_stage) == (SUGGEST, "SQL", "MQL", False)
    assert result.reason.startswith("asked for sales, not qualified")


@pytest.mark.parametrize(
    ("current", "by_person"),
    [("MQL", True), ("recycled", False), ("disqualified", False), ("customer", False), ("SAL", False)],
    ids=["set-by-a-person", "recycled", "disqualified", "customer", "sal"],
)
def test_a_stage_a_person_or_sales_set_is_pinned_but_rescored(current, by_person):
    result = plan(current, replace(RULES, company_domain=30), [demo()], by_person=by_person)
    assert (result.action, result.target) == (PINNED, current)
    assert result.card.fit.total == 30


def test_a_lead_without_counted_fills_keeps_its_stage():
    result = plan("prospect", RULES, [])
    assert (result.action, result.target, result.card.total) == (KEEP, "prospect", 10)  # the company e-mail only


def test_engagement_that_reached_the_threshold_at_the_time_counts_even_after_decay():
    """Replayed fill by fill: four downloads a month apart made an MQL by engagement then, whatever now."""
    fills = [
        Fill(submission_id=i, form=f"news-{i}", kind="newsletter", intent="prospect", at=T0 + timedelta(days=i))
        for i in range(1, 4)
    ]
    assert replayed_stage(email="li@initech.com", fills=fills, rules=RULES) == (
        "MQL",
        "engagement 15 \u2265 15 (MQL threshold)",
    )
    late = plan("prospect", RULES, fills, now=T0 + timedelta(days=365))
    assert late.action == PROMOTE and late.card.engagement.total < 15


@settings(max_examples=150, deadline=None)
@given(
    history=histories(),
    current=st.sampled_from(["prospect", "MQL", "SQL"]),
    min_fit=st.integers(-40, 60),
    mql=st.integers(1, 60),
)
def test_a_rescore_never_moves_a_stage_back_and_a_second_one_changes_nothing(history, current, min_fit, mql):
    rules = replace(RULES, sql_min_fit=min_fit, mql_engagement=mql)
    now = T0 + timedelta(days=400)
    result = plan(current, rules, history, now=now)
    if result.action == PROMOTE:
        assert stage_rank(result.target) > stage_rank(current)
        assert plan(result.target, rules, history, now=now).action == KEEP
    else:
        assert result.action in (KEEP, SUGGEST) and not result.changes_stage
