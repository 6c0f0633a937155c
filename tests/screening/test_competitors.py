"""Competitor names: spacing, case, accents, punctuation and legal forms set aside; one slip in long names;
never a substring."""

from __future__ import annotations

from datetime import datetime

import pytest

from screening import Candidate, Context, screen
from screening.companies import closest, distance, name_key
from screening.context import ListEntry, Lists

ANNA = {"created_by": "anna@example.com", "created_at": datetime(2026, 11, 3, 9, 30)}
LISTS = Lists.from_entries(
    [
        ("competitor_name", ListEntry("LeadWarden", note="main rival", **ANNA)),
        ("competitor_name", ListEntry("Rival Inc.", **ANNA)),
        ("competitor_name", ListEntry("Société Générale de Formulaires S.A.", **ANNA)),
        ("competitor_name", ListEntry("Formulario Express S.L.", **ANNA)),
        ("competitor_name", ListEntry("Studio 54", **ANNA)),
        ("competitor_name", ListEntry("株式会社リードワーデン", **ANNA)),
        ("competitor_name", ListEntry("ООО «Лидогенератор»", **ANNA)),
    ]
)


def competitor(company: str = "", email: str = "li@acme.com"):
    found = [f for f in screen(Candidate(email, company=company), Context(lists=LISTS)).findings]
    return [f for f in found if f.category == "competitor"]


@pytest.mark.parametrize(
    "company",
    [
        "LeadWarden",
        "Lead Warden",
        "lead-warden GmbH",
        "LEADWARDEN, Inc.",
        "Lead Warden Ltd.",
        "Leadwarden Limited",
        "LeadWarden S.A.S.",
        "LeadWarden SAS",
        "Lead.Warden SARL",
        "LeadWarden S.p.A.",
        "LeadWarden S.r.l.",
        "LeadWarden B.V.",
        "LeadWarden N.V.",
        "LeadWarden Pty Ltd",
        "LeadWarden Oy",
        "LeadWarden AB",
        "LeadWarden A/S",
        "LeadWarden ApS",
        "LeadWarden AS",
        "LeadWarden K.K.",
        "LeadWarden Co., Ltd.",
        "LeadWarden Corp",
        "LeadWarden Corporation",
        "LeadWarden PLC",
        "LeadWarden Sp. z o.o.",
        "LeadWarden GmbH & Co. KG",
        "LeadWarden AG",
        "The LeadWarden Group",
        "LeadWarden Holdings LLC",
        "leadwarden.io",
        "  LEAD   WARDEN  ",
        "Lead Wärden",  # accents set aside
        "ＬｅａｄＷａｒｄｅｎ",  # full-width letters
        "Rival",
        "RIVAL, inc",
        "Société Générale de Formulaires",
        "SOCIETE GENERALE DE FORMULAIRES SA",
        "Formulario Express, S.L.U.",
        "リードワーデン株式会社",  # the Japanese legal form after the name instead of before
        "Лидогенератор",
        "ООО Лидогенератор",
    ],
)
def test_same_name_written_differently(company):
    [finding] = competitor(company)
    assert finding.code == "competitor.name" and finding.weight == 80


@pytest.mark.parametrize(
    ("company", "slips"),
    [
        ("LeadWardn", 1),  # a letter left out
        ("Leed Warden GmbH", 1),  # a letter replaced
        ("LeadWraden", 1),  # two letters swapped
        ("Lead Wardens", 1),  # a letter added
        ("Societe Generale des Formulaires", 1),
        ("Societe Generalle de Formularies", 2),  # two slips in a long name
    ],
)
def test_small_slips_in_long_names(company, slips):
    [finding] = competitor(company)
    assert finding.code == "competitor.name" and finding.weight == 60
    assert f"{slips} letter" in finding.evidence


@pytest.mark.parametrize(
    "company",
    [
        "Arrival Logistics",  # contains "rival": never a substring match
        "Arrival",
        "Rivalry Games",
        "Rivals",  # short names are exact only
        "Trival",
        "LeadWarden Europe",  # another word is another company name, for a person to judge
        "Warden",
        "Lead",
        "Studio 55",  # numbers must agree
        "Leadwarder Wardens",
        "Formulario Expreso Internacional",
        "Acme GmbH",
        "",
    ],
)
def test_near_misses_are_not_competitors(company):
    assert competitor(company) == []


def test_evidence_names_the_listed_name_and_who_added_it():
    [finding] = competitor("Lead Warden GmbH")
    assert finding.evidence == (
        "company 'Lead Warden GmbH' matches competitor 'LeadWarden' (the same name once case, accents, "
        "punctuation, spacing and legal form are set aside), added by anna on 3 Nov 2026 (main rival)"
    )


def test_competitor_holds():
    result = screen(Candidate("li@acme.com", company="Lead Warden Ltd"), Context(lists=LISTS))
    assert (result.verdict, result.category) == ("held", "competitor")


def test_domain_carrying_a_listed_name():
    [finding] = competitor(email="li@lead-warden.io")
    assert finding.code == "competitor.domain_name"
    assert competitor(email="li@rival.io") == []  # five letters: too short to tell from a domain alone
    assert competitor(email="leadwarden@gmail.com") == []


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("LEADWARDEN, Inc.", "leadwarden"),
        ("lead-warden GmbH", "leadwarden"),
        ("Acme GmbH & Co. KG", "acme"),
        ("Smith & Co.", "smith"),
        ("AT&T", "atandt"),
        ("Acme 有限公司", "acme"),
        ("Acme Ltd. Şti.", "acme"),
        ("Booking.com", "booking"),
        ("GmbH", "gmbh"),  # nothing but a legal form stays itself
    ],
)
def test_name_key(name, key):
    assert name_key(name) == key


def test_distance_counts_a_swap_once():
    assert distance("leadwarden", "leadwraden", 2) == 1
    assert distance("leadwarden", "lead", 2) == 3  # stops counting past the limit
    assert closest("Rival", ["Rival Inc."]) is not None
