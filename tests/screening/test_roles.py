"""Role accounts: shared mailboxes in many languages, with digits and separators; people are never roles."""

from __future__ import annotations

import pytest

from screening import Candidate, screen
from screening.roles import role_of


def role_codes(email: str) -> list[str]:
    return [f.code for f in screen(Candidate(email)).findings if f.code == "role.account"]


@pytest.mark.parametrize(
    ("local", "word"),
    [
        # digits and separators around a role word
        ("sales2", "sales"),
        ("info-de", "info"),
        ("team_30", "team"),
        ("ventas23", "ventas"),
        ("support.emea", "support"),
        ("vertrieb.dach", "vertrieb"),
        ("kontakt-2024", "kontakt"),
        ("Info_UK", "info"),
        ("sales+newsletter", "sales"),
        # written together with another role word or a glue qualifier
        ("salesteam", "sales"),
        ("contactus", "contactus"),
        ("infouk", "info"),
        ("marketingde", "marketing"),
        # robots
        ("noreply", "noreply"),
        ("no-reply", "noreply"),
        ("no_reply", "noreply"),
        ("do.not.reply", "donotreply"),
        ("nepasrepondre", "nepasrepondre"),
        ("mailer-daemon", "mailerdaemon"),
        # the major languages
        ("vertrieb", "vertrieb"),
        ("kontakt", "kontakt"),
        ("contato", "contato"),
        ("contacto", "contacto"),
        ("commercial", "commercial"),
        ("commerciale", "commerciale"),
        ("verkoop", "verkoop"),
        ("vendas", "vendas"),
        ("bestellung", "bestellung"),
        ("buchhaltung", "buchhaltung"),
        ("facturation", "facturation"),
        ("rh", "rh"),
        ("recrutement", "recrutement"),
        ("empleo", "empleo"),
        ("marketing", "marketing"),
        ("rrhh", "rrhh"),
        ("service-client", "serviceclient"),
        ("atencion.cliente", "atencion"),
        ("biuro", "biuro"),
        ("satis", "satis"),
        ("prodazhi", "prodazhi"),
        ("Comptabilité", "comptabilite"),
        # internationalised local parts
        ("営業", "営業"),
        ("営業部", "営業"),
        ("营业", "营业"),
        ("продажи", "продажи"),
    ],
)
def test_role_words(local, word):
    role = role_of(local)
    assert role is not None and role.word == word


@pytest.mark.parametrize(
    "local",
    [
        # people whose names contain a role word
        "marketa.novak",
        "salesky",
        "infante",
        "benoit",
        "brit",
        "casale",
        "alles",
        "hrvoje",
        "informatics.jo",
        "teamaker",
        "pressley",
        # a person beside a role word: a personal mailbox
        "sales.anna",
        "john.sales",
        "maria.ventas",
        "office.anna",
        # qualifiers alone are not roles
        "emea",
        "de",
        "team.anna",
        "itay",
        "j.smith2",
    ],
)
def test_people_are_not_roles(local):
    assert role_of(local) is None


def test_finding_names_the_role_word_and_language():
    [finding] = [f for f in screen(Candidate("ventas23@acme.com")).findings if f.code == "role.account"]
    assert finding.category == "risk" and finding.weight == 10
    assert "'ventas', es" in finding.evidence and "ventas23@" in finding.evidence


def test_role_account_is_a_risk_never_a_verdict():
    result = screen(Candidate("sales2@acme.com"))
    assert role_codes("sales2@acme.com") == ["role.account"]
    assert result.verdict == "accepted"


def test_internationalised_address():
    assert role_codes("営業部@例え.jp") == ["role.account"]
    assert role_codes("田中@例え.jp") == []
