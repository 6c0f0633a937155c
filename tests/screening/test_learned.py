"""The learned spam model (screening/learned.py): it learns from decisions, names the tokens that drove it,
speaks only after enough real decisions of each kind, resets to its seed, and never rejects alone."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest

from screening import Candidate, Context, Policy, screen
from screening import learned as model
from screening.learned import HAM, SPAM, Trainer, features, score, seed_examples, seed_trainer

# A spam wave no phrase list knows (promotional merchandise), and real buyers' requests.
CAMPAIGN = [
    "Custom printed tote bags and water bottles with your logo, MOQ 300 pcs, free samples and fast delivery.",
    "We supply custom logo water bottles, tote bags and lanyards, MOQ 200 pieces, free samples, door to door.",
    "Promotional lanyards and tote bags with your logo printed, low MOQ, free samples this month.",
    "Logo printed water bottles and notebooks for your team events, MOQ 100 pcs, free samples shipped today.",
]
BUYERS = [
    "We are a 40-person sales team and want to route demo requests from three websites to Salesforce.",
    "What does the plan cost for two websites and about 1,000 submissions a month? We would pay annually.",
    "Our marketing team needs the webinar registrations forwarded to HubSpot with the UTM source.",
    "Please call me about pricing for five admin seats, we want to start next month.",
]
NEXT_WAVE = "Custom logo tote bags, lanyards and water bottles for your brand, low MOQ and free samples."
NEAR_MISS = (
    "We hand out water bottles with our logo at trade shows. Can you tag the leads from our booth form "
    "by event and send them to Salesforce?"
)


def C(message: str = "", **fields) -> Candidate:  # noqa: N802 - reads like a constructor
    fields.setdefault("first_name", "Ann")
    fields.setdefault("last_name", "Lee")
    fields.setdefault("company", "Acme")
    return Candidate("ann.lee@acme.example", message=message, form_kind="demo", **fields)


def trained(*, spam=CAMPAIGN, ham=BUYERS, min_examples=3, threshold=0.95, seed=True) -> model.ModelState:
    trainer = seed_trainer().copy() if seed else Trainer()
    for text in spam:
        trainer.add(features(C(text)), SPAM)
    for text in ham:
        trainer.add(features(C(text)), HAM)
    return trainer.state(min_examples=min_examples, threshold=threshold)


def learned_findings(candidate: Candidate, state: model.ModelState, policy: Policy | None = None):
    return [
        f
        for f in screen(candidate, Context(learned=state, policy=policy or Policy())).findings
        if f.code == "spam.learned"
    ]


def test_learns_a_spam_wave_from_decisions_and_names_its_tokens():
    assert screen(C(NEXT_WAVE)).verdict == "accepted"  # no rule knows this wave
    state = trained()
    p, top = score(state, C(NEXT_WAVE))
    assert p >= 0.99
    assert {"samples", "logo", "moq"} <= set(top)
    [finding] = learned_findings(C(NEXT_WAVE), state)
    assert finding.category == "spam"
    assert finding.evidence.startswith("learned from 8 decisions here: ")
    assert "'logo'" in finding.evidence and "point to spam (p=0.99)" in finding.evidence
    assert screen(C(NEXT_WAVE), Context(learned=state)).verdict == "held"


def test_a_similar_looking_request_from_a_buyer_is_not_flagged():
    state = trained()
    p, top = score(state, C(NEAR_MISS))
    assert p < 0.5, top
    assert learned_findings(C(NEAR_MISS), state) == []
    assert screen(C(NEAR_MISS), Context(learned=state)).verdict == "accepted"


def test_the_tokens_named_are_the_candidates_own_words_and_pairs():
    state = trained(spam=["Get cheap guest post backlinks, whatsapp me"] * 3)
    p, top = score(state, C("Selling guest post backlinks, contact on whatsapp"))
    assert p > 0.9
    own = {name for name, _ in model.tokens(C("Selling guest post backlinks, contact on whatsapp")).values()}
    assert set(top) <= own
    assert "backlinks" in top and "whatsapp" in top
    # A pair and its words are one clue, named once.
    assert not ({"guest post", "guest"} <= set(top) or {"guest post", "post"} <= set(top))


def test_no_finding_until_enough_real_decisions_of_each_kind():
    few_ham = trained(ham=BUYERS[:2], min_examples=3)
    assert score(few_ham, C(NEXT_WAVE))[0] > 0.99  # the model has an opinion ...
    assert not few_ham.ready
    assert learned_findings(C(NEXT_WAVE), few_ham) == []  # ... but keeps it to itself
    assert trained(min_examples=3).ready
    assert trained(min_examples=5).ready is False  # four of each


def test_the_seed_corpus_never_opens_the_gate_on_its_own():
    state = seed_trainer().state(min_examples=1)
    assert (state.spam, state.ham) == (100, 100)
    assert (state.local_spam, state.local_ham) == (0, 0)
    assert not state.ready
    spam_text = next(text for label, text in seed_examples() if label == SPAM)
    assert learned_findings(C(spam_text), state) == []


def test_reset_goes_back_to_the_seed_and_leaves_it_untouched():
    before = seed_trainer().state()
    trainer = seed_trainer().copy()
    trainer.add(features(C(CAMPAIGN[0])), SPAM)
    assert trainer.state().spam == before.spam + 1
    assert seed_trainer().state() == before  # the shared seed model was not changed by the copy
    fresh = seed_trainer().copy().state(min_examples=3)
    assert (fresh.local_spam, fresh.local_ham) == (0, 0)
    assert learned_findings(C(NEXT_WAVE), fresh) == []


def test_weight_holds_at_the_threshold_and_never_rejects_alone():
    state = trained(threshold=0.95)
    [certain] = learned_findings(C(NEXT_WAVE), state)
    assert Policy().hold_at <= certain.weight < Policy().reject_at
    assert screen(C(NEXT_WAVE), Context(learned=state)).verdict == "held"
    # With the policy's marks moved, the weight follows them.
    policy = Policy(hold_at=60, reject_at=150)
    [moved] = learned_findings(C(NEXT_WAVE), state, policy)
    assert 60 <= moved.weight < 150
    # Just at the threshold, the weight is the hold mark.
    p, _ = score(state, C(NEXT_WAVE))
    [edge] = learned_findings(C(NEXT_WAVE), trained(threshold=p))
    assert edge.weight == Policy().hold_at


def test_with_another_spam_finding_it_may_reject():
    state = trained()
    candidate = C(NEXT_WAVE + " Message me on WhatsApp for the price list.")
    result = screen(candidate, Context(learned=state))
    assert "spam.learned" in {f.code for f in result.findings}
    assert result.verdict == "rejected"


@pytest.mark.parametrize("message", ["", "   ", "12345 678", "!!! ?"])
def test_nothing_to_read_says_nothing(message):
    state = trained()
    assert score(state, C(message, company="", job_title="")) == (0.5, ())
    assert learned_findings(C(message, company="", job_title=""), state) == []


def test_a_short_greeting_is_not_enough():
    assert learned_findings(C("Hi", company="", job_title=""), trained()) == []


def test_names_and_the_address_are_not_read():
    # A person's name or mailbox must not become a spam word because a namesake was rejected.
    a = C("Please send pricing", first_name="Robert", last_name="Tob")
    b = Candidate(
        "other@else.example", first_name="Maria", last_name="Diaz", company="Acme", message="Please send pricing"
    )
    assert features(a) == features(b)


def test_words_written_without_spaces_become_character_pairs():
    tokens = {name for name, _ in model.tokens(C("加入比特币投资群")).values()}
    assert {"加入", "比特", "特币"} <= tokens
    mixed = {name for name, _ in model.tokens(C("SEO服务 top")).values()}
    assert {"seo", "服务", "top"} <= mixed


def test_links_count_by_host():
    tokens = {name for name, _ in model.tokens(C("see https://t.me/cheapseo and www.Example.com/x")).values()}
    assert {"(a link)", "t.me", "example.com"} <= tokens


def test_features_are_stable_across_processes():
    # Stored examples hold hashed features: a change here orphans every installation's decisions
    # (bump FEATURES_VERSION on purpose instead). Python's own hash() would differ per process.
    code = "from screening.learned import feature; print(feature('whatsapp'))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(other.stdout) == model.feature("whatsapp") == 1280377576


def test_seed_corpus_is_well_formed_and_balanced():
    rows = seed_examples()
    assert Counter(label for label, _ in rows) == {SPAM: 100, HAM: 100}
    texts = [text for _, text in rows]
    assert len(set(texts)) == len(texts)
    assert all(len(text) >= 10 and "\t" not in text for text in texts)
