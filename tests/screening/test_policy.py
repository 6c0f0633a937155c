"""The verdict policy: category actions, thresholds, the allowlist, configuration, velocity."""

from __future__ import annotations

import pytest

from screening import Candidate, Context, Finding, Policy, screen
from screening.context import ListEntry, Lists
from screening.errors import PolicyError, UnsafePolicyError
from screening.pipeline import decide

ALLOW = Lists.from_entries([("allowed_domain", ListEntry("mailinator.com", created_by="rita"))])


def verdict_of(*findings: Finding, policy: Policy | None = None) -> tuple[str, str | None]:
    result = decide(list(findings), Context(policy=policy or Policy()), normalized_email=None)
    return result.verdict, result.category


@pytest.mark.parametrize(
    ("findings", "expected"),
    [
        ([], ("accepted", None)),
        ([Finding("x", "spam", 100, "")], ("rejected", "spam")),
        (
            [Finding("x", "spam", 60, "")],
            ("held", "spam"),
        ),  # spam that is not sure enough is held, not rejected
        ([Finding("x", "spam", 40, "")], ("accepted", None)),
        ([Finding("x", "competitor", 100, "")], ("held", "competitor")),
        ([Finding("x", "academic", 50, "")], ("accepted", "academic")),  # marked
        ([Finding("x", "risk", 100, "")], ("accepted", None)),  # risk only lowers the lead score
        ([Finding("x", "competitor", 100, ""), Finding("y", "spam", 100, "")], ("rejected", "spam")),
        (
            [
                Finding("x", "spam", 40, ""),
                Finding("y", "uncertain", 30, ""),
                Finding("z", "student", 30, ""),
            ],
            ("held", "spam"),
        ),  # mixed signals add up
    ],
)
def test_decide_table(findings, expected):
    assert verdict_of(*findings) == expected


def test_allowlist_wins_over_everything_but_syntax():
    context = Context(lists=ALLOW)
    allowed = screen(Candidate("li@mailinator.com", signals={"honeypot": True}), context)
    assert allowed.verdict == "accepted"
    assert {"allow.domain", "email.disposable", "capture.honeypot"} <= {f.code for f in allowed.findings}
    invalid = screen(Candidate("li@@mailinator.com"), context)
    assert invalid.verdict == "rejected" and invalid.category == "invalid"


def test_policy_from_mapping_merges_actions_and_validates():
    policy = Policy.from_mapping({"actions": {"student": "mark"}, "hold_at": "60", "dnsbl_zones": ["bl.example."]})
    assert policy.action_for("student") == "mark" and policy.action_for("spam") == "reject"
    assert policy.hold_at == 60 and policy.dnsbl_zones == ("bl.example",)
    assert verdict_of(Finding("x", "student", 60, ""), policy=policy) == ("accepted", "student")
    with pytest.raises(PolicyError):
        Policy.from_mapping({"hold_at_typo": 1})
    with pytest.raises(PolicyError):
        Policy.from_mapping({"actions": {"spam": "delete"}})
    with pytest.raises(PolicyError):
        Policy.from_mapping({"hold_at": "many"})


def test_policy_refuses_to_reject_uncertain_because_our_dns_failed():
    with pytest.raises(UnsafePolicyError, match="'uncertain' cannot be 'reject': .*DNS time-outs"):
        Policy.from_mapping({"actions": {"uncertain": "reject"}})
    with pytest.raises(UnsafePolicyError):  # built directly, the default action standing in
        Policy(actions={"spam": "reject"}, default_action="reject")
    assert issubclass(UnsafePolicyError, PolicyError)  # the config loader's `except PolicyError` still holds
    assert Policy.from_mapping({"actions": {"uncertain": "mark"}}).action_for("uncertain") == "mark"
    assert Policy.from_mapping({"default_action": "reject"}).action_for("uncertain") == "hold"


@pytest.mark.parametrize(
    ("ip_count", "email_count", "expected", "verdict"),
    [
        (10, 5, [], "accepted"),  # exactly at both thresholds: not a burst
        (11, 1, ["velocity.ip"], "held"),
        (1, 6, ["velocity.email"], "held"),
    ],
)
def test_velocity_fires_only_above_the_threshold(ip_count, email_count, expected, verdict):
    counts = {"ip": ip_count, "email": email_count}
    context = Context(recent_activity=lambda kind, value, window: counts[kind])
    result = screen(Candidate("li@acme.com", ip="192.0.2.9"), context)
    assert [f.code for f in result.findings] == expected and result.verdict == verdict
    if expected == ["velocity.email"]:
        assert result.category == "duplicate"
        evidence = result.findings[0].evidence
        assert "6 submissions from li@acme.com in the last 10 minutes (more than 5)" in evidence


def test_velocity_asks_the_context_about_recent_activity():
    asked = []

    def activity(kind: str, value: str, window: int) -> int:
        asked.append((kind, value, window))
        return 12 if kind == "ip" else 1

    result = screen(Candidate("li@acme.com", ip="192.0.2.9"), Context(recent_activity=activity))
    assert asked == [("ip", "192.0.2.9", 600), ("email", "li@acme.com", 600)]
    [finding] = result.findings
    assert (
        finding.code == "velocity.ip" and "12 submissions from IP 192.0.2.9 in the last 10 minutes" in finding.evidence
    )
    assert result.verdict == "held"


def test_same_inputs_same_result():
    candidate = Candidate("li@gmial.com", first_name="asdfgh", message="backlinks")
    assert screen(candidate) == screen(candidate)
