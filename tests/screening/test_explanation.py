"""Explanations: every verdict says, in one line, which weights met which threshold."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace

import pytest

from screening import Candidate, Context, Finding, Policy, screen
from screening.batch import run_batch
from screening.pipeline import decide, explain


def F(category: str, weight: int, code: str = "x") -> Finding:
    return Finding(code, category, weight, "")


@pytest.mark.parametrize(
    ("findings", "line"),
    [
        ([], "accepted: no weighed findings"),
        ([F("spam", 100)], "rejected: spam 100 ≥ 100"),
        ([F("spam", 60)], "held: spam 60 ≥ 50 (rejects at 100)"),
        ([F("spam", 40)], "accepted: spam 40 < 50"),
        ([F("uncertain", 60)], "held: uncertain 60 ≥ 50"),
        ([F("competitor", 80), F("spam", 30)], "held: competitor 80 ≥ 50; also spam 30"),
        ([F("academic", 50)], "accepted as academic: academic 50 ≥ 50"),
        ([F("risk", 10)], "accepted: no weighed findings; ignored: risk 10"),
        ([F("spam", 30), F("uncertain", 20)], "accepted: spam 30, uncertain 20 < 50 each; together 50 < 90"),
        (
            [F("spam", 40), F("uncertain", 30), F("student", 30)],
            "held: all categories 100 ≥ 90 (spam 40, student 30, uncertain 30)",
        ),
        (
            [F("invalid", 100, "email.syntax"), F("spam", 100)],
            "rejected: the address is not valid (email.syntax: rejected whatever else was found)",
        ),
        (
            [F("allowed", 0, "allow.domain"), F("spam", 100)],
            "accepted: allowlisted (allow.domain: wins over every other finding)",
        ),
        (
            [F("uncertain", 50, "dns.unknown"), F("risk", 10)],
            "held: uncertain 50 ≥ 50; ignored: risk 10 — only because DNS did not answer",
        ),
    ],
)
def test_one_line_per_rule(findings, line):
    assert str(explain(findings, Policy())) == line


def test_the_explanation_agrees_with_the_verdict_for_every_rule():
    cases = [[], [F("spam", 100)], [F("spam", 60)], [F("academic", 50)], [F("spam", 40), F("student", 50)]]
    for findings in cases:
        result = decide(findings, Context(), normalized_email=None)
        assert result.explanation is not None
        assert (result.explanation.verdict, result.explanation.category) == (result.verdict, result.category)


def test_thresholds_come_from_the_policy():
    policy = Policy.from_mapping({"hold_at": 60, "reject_at": 120, "actions": {"academic": "hold"}})
    assert str(explain([F("spam", 100)], policy)) == "held: spam 100 ≥ 60 (rejects at 120)"
    assert str(explain([F("academic", 50)], policy)) == "accepted: academic 50 < 60"


def test_stored_findings_explain_the_same_way():
    """The admin explains the rows it stored (code, category, weight), without the Finding type."""
    stored = [SimpleNamespace(code="competitor.domain", category="competitor", weight=100, evidence="…")]
    assert str(explain(stored, Policy())) == "held: competitor 100 ≥ 50"


def test_screen_and_batch_carry_the_explanation():
    result = screen(Candidate("li@gmial.com"), Context())
    assert result.explanation is not None and str(result.explanation).startswith("held: invalid 60 ≥ 50")
    text = '{"email": "li@gmial.com"}\n{"email": "sam@acme.com"}\n'
    sink = io.StringIO()
    run_batch(io.StringIO(text), sink, in_format="jsonl", out_format="jsonl", context=Context())
    typo, clean = (json.loads(line) for line in sink.getvalue().splitlines())
    assert typo["explanation"] == str(result.explanation)
    assert typo["suggested_email"] == "li@gmail.com" and typo["risk_score"] == result.score
    assert "score" not in typo
    assert (clean["explanation"], clean["suggested_email"]) == ("accepted: no weighed findings", "")
