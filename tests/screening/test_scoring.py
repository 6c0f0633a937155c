"""Pure classification: lead identity, fit and engagement with their breakdown, forward-only stages."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from screening.identity import lead_key
from screening.scoring import (
    Fill,
    FindingRef,
    Score,
    ScoringRules,
    decayed,
    decide_stage,
    engagement_at,
    score_engagement,
    score_fit,
    score_lead,
    seniority_of,
    target_stage,
)

RULES = ScoringRules()
T0 = datetime(2026, 6, 1, 12, 0)
FORMS = {
    "newsletter": ("newsletter", "prospect"),
    "download": ("whitepaper", "MQL"),
    "webinar": ("webinar", "MQL"),
    "demo": ("request-demo", "SQL"),
    "contact_sales": ("contact-sales", "SQL"),
}


def fill(kind: str = "demo", at: datetime = T0, sid: int = 1, **extra) -> Fill:
    form, intent = FORMS[kind]
    return Fill(submission_id=sid, form=extra.pop("form", form), kind=kind, intent=intent, at=at, **extra)


def fit_of(*fills: Fill, email: str = "li@initech.com", rules: ScoringRules = RULES) -> Score:
    return score_fit(email=email, fills=fills, rules=rules)


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


# --- seniority ---


@pytest.mark.parametrize(
    ("title", "level"),
    [
        ("Chief Revenue Officer", "c_level"),
        ("Co-Founder", "c_level"),
        ("CEO & Founder", "c_level"),
        ("C.E.O.", "c_level"),
        ("Managing Director", "c_level"),
        ("Geschäftsführerin", "c_level"),
        ("Président-directeur général", "c_level"),
        ("Directora General", "c_level"),
        ("Amministratore Delegato", "c_level"),
        ("Генеральный директор", "c_level"),
        ("代表取締役社長", "c_level"),
        ("Genel Müdür", "c_level"),
        ("SVP Sales", "vp"),
        ("Vice President, Marketing", "vp"),
        ("V.P. Sales", "vp"),
        ("Vizepräsidentin Vertrieb", "vp"),
        ("EVP & Chief Revenue Officer", "c_level"),
        ("Director of IT", "director"),
        ("Directeur commercial", "director"),
        ("Dyrektor sprzedaży", "director"),
        ("Chief of Staff", "director"),
        ("市场总监", "director"),
        ("Head of Growth", "head"),
        ("Vertriebsleiter", "head"),
        ("Jefe de ventas", "head"),
        ("Marketing Manager", "manager"),
        ("Teamleiterin Vertrieb", "manager"),
        ("Responsable marketing", "manager"),
        ("Satış Müdürü", "manager"),
        ("마케팅 팀장", "manager"),
        ("Student Success Manager", "manager"),  # works with students, is not one
        ("Analyst", "individual"),
        ("Account Executive", "individual"),
        ("Assistant to the CEO", "individual"),
        ("Executive Assistant", "individual"),
        ("Product Owner", "individual"),
        ("Lead Generation Specialist", "individual"),
        ("Software Engineer", "individual"),
        ("Intern", "intern"),
        ("Marketing Intern", "intern"),
        ("Stagiaire marketing", "intern"),
        ("Werkstudent Marketing", "student"),
        ("PhD student", "student"),
        ("Internal Communications Manager", "manager"),  # "internal" is not "intern"
        ("Account Owner", "individual"),
        ("Заместитель директора", "director"),  # inflected: "of the director"
        ("Начальник отдела продаж", "head"),
        ("副总经理", "vp"),
        ("المدير التنفيذي", "c_level"),
        ("نائب الرئيس للمبيعات", "vp"),
        ("مدير المبيعات", "manager"),
        ("Wizard", None),
        ("", None),
    ],
)
def test_seniority_in_many_languages(title, level):
    assert seniority_of(title) == level


# --- fit ---


def test_analyst_at_a_tiny_company_without_budget_or_timeline_does_not_fit():
    answers = {"company_size": "1_10", "budget": "none", "timeline": "none"}
    fit = fit_of(fill(job_title="Analyst", answers=answers))
    assert fit.total == 10 + 0 - 10 - 10 - 10
    rules = [line.rule for line in fit.lines]
    assert rules == [
        "email.company_domain",
        "title.individual",
        "company_size.1_10",
        "answer.budget.none",
        "answer.timeline.none",
    ]
    assert {line.label for line in fit.lines if line.points < 0} == {"company 1–10", "no budget", "no timeline"}
    assert all(line.submission_id == 1 for line in fit.lines[1:])


def test_vp_at_a_mid_size_company_with_budget_and_timeline_fits():
    answers = {"company_size": "201_1000", "budget": "10k_50k", "timeline": "quarter"}
    fit = fit_of(fill(job_title="VP Sales", answers=answers))
    assert fit.total == 10 + 20 + 10 + 10 + 10


def test_newest_answer_and_title_win_and_cite_their_submission():
    old = fill("download", sid=1, job_title="Analyst", at=T0)
    new = fill("demo", sid=2, job_title="Director of Sales", answers={"budget": "over_50k"}, at=T0 + timedelta(1))
    fit = fit_of(old, new)
    title = next(line for line in fit.lines if line.rule.startswith("title."))
    assert (title.rule, title.submission_id) == ("title.director", 2)


@pytest.mark.parametrize(
    ("email", "finding", "lines"),
    [
        ("jo@gmail.com", FindingRef("freemail.b2b", "risk", "gmail.com: free-mail"), [("risk.freemail.b2b", -20)]),
        ("info@initech.com", FindingRef("role.account", "risk", "info@: a role"), [("risk.role.account", -20)]),
        ("li@uni.edu", FindingRef("academic.domain", "academic", "uni.edu: academic"), [("risk.academic", -15)]),
        # a competitor's address is a company's own domain, and a competitor's
        (
            "li@rival.com",
            FindingRef("competitor.domain", "competitor", "rival.com: listed"),
            [("email.company_domain", 10), ("risk.competitor", -60)],
        ),
    ],
)
def test_email_type_and_findings_cost_fit(email, finding, lines):
    fit = fit_of(fill(findings=(finding,)), email=email)
    assert [(line.rule, line.points) for line in fit.lines] == lines
    assert fit.lines[-1].evidence == f"screening found {finding.code} ({finding.category})"
    assert finding.evidence not in repr(fit)  # what the person wrote stays on the finding (erasure blanks it there)


def test_free_mail_on_a_newsletter_costs_nothing_and_is_no_company_domain():
    fit = fit_of(fill("newsletter", findings=(FindingRef("freemail", "risk"),)), email="jo@gmail.com")
    assert fit.total == 0 and fit.lines == ()


def test_each_risk_counts_once_and_a_reviewer_overrules_what_held_it():
    finding = FindingRef("competitor.name", "competitor", "Rival Ltd is a competitor")
    twice = fit_of(fill(sid=1, findings=(finding,)), fill("download", sid=2, findings=(finding,)))
    assert [line.rule for line in twice.lines].count("risk.competitor") == 1
    overruled = fit_of(fill(findings=(finding,), overruled=frozenset({"competitor"})))
    assert "risk.competitor" not in [line.rule for line in overruled.lines]


def test_student_title_and_student_finding_count_once():
    finding = FindingRef("student.title", "student", "job title says 'student'")
    fit = fit_of(fill(job_title="MBA student", findings=(finding,)))
    assert [line.rule for line in fit.lines] == ["email.company_domain", "risk.student"]


def test_country_points_are_configuration():
    rules = ScoringRules.from_mapping({"countries": {"Deutschland": 10, "DE": 10}})
    assert fit_of(fill(country="deutschland"), rules=rules).total == 20
    assert fit_of(fill(country="France"), rules=rules).total == 10
    assert fit_of(fill(country="deutschland")).total == 10  # no countries configured: country does not count


@pytest.mark.parametrize(
    ("size", "points"),
    [("1_10", -10), ("11_50", 0), ("51_200", 5), ("201_1000", 10), ("1001_5000", 15), ("over_5000", 15), ("huge", 0)],
)
def test_company_size(size, points):
    fit = fit_of(fill(answers={"company_size": size}), email="jo@gmail.com")
    assert fit.total == points


# --- engagement ---


def test_engagement_points_follow_intent():
    points = {kind: score_engagement(fills=[fill(kind)], now=T0, rules=RULES).total for kind in FORMS}
    assert points["newsletter"] < points["download"] <= points["webinar"] < points["demo"] == points["contact_sales"]


def test_repeats_of_one_form_within_the_window_count_once():
    four = [fill("download", at=T0 + timedelta(seconds=15 * i), sid=i) for i in range(4)]
    assert score_engagement(fills=four, now=T0 + timedelta(minutes=1), rules=RULES).total == 10
    other_form = [*four, fill("download", form="ebook", sid=9)]
    assert score_engagement(fills=other_form, now=T0, rules=RULES).total == 20
    next_week = [*four, fill("download", at=T0 + timedelta(days=7), sid=10)]
    assert (
        score_engagement(fills=next_week, now=T0 + timedelta(days=7), rules=RULES).total == 9 + 10
    )  # 10 decayed a week


def test_engagement_decays_with_the_half_life_when_read():
    score = score_engagement(fills=[fill("webinar")], now=T0 + timedelta(days=30), rules=RULES)
    assert score.total == 8  # 15 halved, rounded
    line = score.lines[0]
    assert (line.base, line.at, line.points) == (15, T0, 8)
    assert decayed(15, T0, T0 + timedelta(days=60), 30) == 4
    assert decayed(15, T0, T0 - timedelta(days=1), 30) == 15  # a fill "in the future" is not worth more
    assert decayed(15, T0, T0 + timedelta(days=600), 0) == 15  # half-life 0: no decay


def test_stored_breakdown_decays_again_at_read_time():
    card = score_lead(email="li@initech.com", fills=[fill("demo")], now=T0, rules=RULES)
    stored = card.as_dict(RULES)
    assert stored["engagement"][0]["base"] == 25
    assert engagement_at(stored, T0).total == 25
    assert engagement_at(stored, T0 + timedelta(days=30)).total == 13


def test_duplicates_count_for_nothing():
    original = fill("demo", sid=1, job_title="CEO")
    copy = fill("demo", sid=2, job_title="CEO", duplicate_of=1, answers={"budget": "over_50k"})
    assert score_lead(email="li@initech.com", fills=[original, copy], now=T0, rules=RULES) == score_lead(
        email="li@initech.com", fills=[original], now=T0, rules=RULES
    )


# --- stages ---


def decide(current, this: Fill, *history: Fill, rules: ScoringRules = RULES, email: str = "li@initech.com"):
    card = score_lead(email=email, fills=[*history, this], now=this.at, rules=rules)
    return decide_stage(current=current, fill=this, fit=card.fit, engagement=card.engagement, rules=rules)


@pytest.mark.parametrize(("kind", "stage"), [("newsletter", "prospect"), ("download", "MQL"), ("demo", "SQL")])
def test_new_lead_takes_the_stage_its_form_asks_for_when_it_qualifies(kind, stage):
    decision = decide(None, fill(kind, form_name="Q4"))
    assert (decision.stage, decision.changed) == (stage, True)
    assert "'Q4'" in decision.reason


def test_sales_request_reason_names_the_form():
    decision = decide("MQL", fill("demo", form_name="Q4-demo"))
    assert (decision.stage, decision.reason) == ("SQL", "sales request on form 'Q4-demo' (SQL)")


def test_a_sales_request_that_does_not_fit_is_an_mql_saying_why():
    this = fill(
        "demo",
        form_name="Request a demo",
        job_title="Analyst",
        answers={"company_size": "1_10", "budget": "none"},
        findings=(FindingRef("freemail.b2b", "risk"),),
    )
    decision = decide(None, this, email="jo@gmail.com")
    assert decision.stage == "MQL"
    assert decision.reason.startswith("asked for sales, not qualified: free-mail address, company 1–10, no budget")
    assert "fit -40, needs 10" in decision.reason


@pytest.mark.parametrize("code", ["freemail.b2b", "role.account"])
def test_a_blocker_keeps_a_lead_from_sql_whatever_its_points(code):
    this = fill(
        "demo",
        job_title="CEO",
        answers={"company_size": "over_5000", "budget": "over_50k", "timeline": "now"},
        findings=(FindingRef(code, "risk"),),
    )
    assert decide(None, this).stage == "MQL"
    unblocked = ScoringRules.from_mapping({"sql_blockers": []})
    assert decide(None, this, rules=unblocked).stage == "SQL"


def test_an_mql_whose_new_sales_request_does_not_qualify_stays_mql_with_the_new_reason():
    decision = decide("MQL", fill("demo", answers={"budget": "none"}))
    assert (decision.stage, decision.changed) == ("MQL", False)
    assert decision.reason.startswith("asked for sales, not qualified: no budget")


def test_a_content_fill_keeps_the_reason_an_mql_has():
    """An MQL that asked for sales and did not qualify still says so after a later download."""
    decision = decide(
        "MQL", fill("download", at=T0 + timedelta(days=1), sid=2), fill("demo", answers={"budget": "none"})
    )
    assert (decision.stage, decision.reason, decision.changed) == ("MQL", None, False)


def test_engagement_makes_an_mql_of_a_prospect():
    history = [fill("newsletter", form=f"news-{i}", sid=i) for i in range(2)]
    third = fill("newsletter", form="news-3", sid=3)
    decision = decide("prospect", third, *history)
    assert (decision.stage, decision.reason) == ("MQL", "engagement 15 \u2265 15 (MQL threshold)")
    assert decide("prospect", history[1], history[0]).stage == "prospect"


def test_fit_and_engagement_together_make_an_sql_without_a_sales_request():
    history = [fill("webinar", form=f"w{i}", sid=i, job_title="CEO") for i in range(3)]
    this = fill("download", sid=9, job_title="CEO")
    decision = decide("MQL", this, *history)  # fit 35, engagement 55
    assert (decision.stage, decision.reason) == ("SQL", "fit 35 \u2265 30 and engagement 55 \u2265 50")


@pytest.mark.parametrize("current", ["MQL", "SQL"])
def test_stages_never_move_backwards(current):
    decision = decide(current, fill("newsletter"))
    assert decision.stage == current and not decision.changed


def test_a_stage_automation_does_not_rank_is_left_alone():
    decision = decide("customer", fill("demo"))
    assert (decision.stage, decision.reason, decision.changed) == ("customer", None, False)


def test_target_stage_ignores_the_current_stage():
    card = score_lead(email="li@initech.com", fills=[fill("newsletter")], now=T0, rules=RULES)
    assert target_stage(fill=fill("newsletter"), fit=card.fit, engagement=card.engagement, rules=RULES)[0] == "prospect"


# --- configuration ---


def test_rules_come_from_configuration():
    rules = ScoringRules.from_mapping(
        {"actions": {"webinar": 40}, "sql_fit": 20, "half_life_days": "14", "sql_blockers": ["competitor"]}
    )
    assert rules.actions["webinar"] == 40 and rules.actions["download"] == 10
    assert (rules.sql_fit, rules.half_life_days, rules.sql_blockers) == (20, 14.0, ("competitor",))
    assert ScoringRules.from_mapping({"seniority": {"executive": 30}}).seniority["c_level"] == 30  # former name
    with pytest.raises(ValueError, match="unknown scoring rule 'nonsense'"):
        ScoringRules.from_mapping({"nonsense": 1})
    with pytest.raises(ValueError, match="scoring rule 'actions'"):
        ScoringRules.from_mapping({"actions": 3})
    with pytest.raises(ValueError, match="engagement points must be ≥ 0"):
        ScoringRules.from_mapping({"actions": {"newsletter": -5}})
