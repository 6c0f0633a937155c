"""One table per check: a hit and a near miss for each, without DNS (pure)."""

from __future__ import annotations

from datetime import datetime

import pytest

from screening import Candidate, Context, screen
from screening.checks import CHECKS
from screening.context import ListEntry, Lists, company_key

ANNA = {"created_by": "anna@example.com", "created_at": datetime(2026, 11, 3, 9, 30)}
LISTS = Lists.from_entries(
    [
        ("competitor_domain", ListEntry("rival.co.uk", note="main rival", **ANNA)),
        ("competitor_domain", ListEntry("rival.com", **ANNA)),
        ("competitor_name", ListEntry("Rival Inc.", **ANNA)),
        ("blocked_email", ListEntry("troll@acme.com", **ANNA)),
        ("blocked_domain", ListEntry("spammy.example", **ANNA)),
        ("blocked_ip", ListEntry("203.0.113.0/24", **ANNA)),
        ("blocked_ip", ListEntry("198.51.100.7", **ANNA)),
        ("allowed_domain", ListEntry("partner.example", **ANNA)),
        ("allowed_email", ListEntry("friend@mailinator.com", **ANNA)),
    ]
)


def codes(candidate: Candidate, context: Context | None = None) -> list[str]:
    return [f.code for f in screen(candidate, context or Context(lists=LISTS)).findings]


def C(email: str = "li@acme.com", **fields) -> Candidate:  # noqa: N802 - reads like a constructor
    return Candidate(email, **fields)


CASES = [
    # (id, candidate, code expected, present?)
    ("syntax hit", C("not an address"), "email.syntax", True),
    ("syntax: internationalised is fine", C("用户@例子.广告"), "email.syntax", False),
    ("syntax: accents are fine", C("josé@acme.com"), "email.syntax", False),
    ("quoted local part", C('"john doe"@acme.com'), "email.quoted", True),
    ("dotted local part is normal", C("john.doe@acme.com"), "email.quoted", False),
    ("odd local part", C("li!x{1}@acme.com"), "email.odd_local", True),
    ("plus tag is not odd", C("li+news@acme.com"), "email.odd_local", False),
    ("48 characters is not odd", C("a" * 48 + "@acme.com"), "email.odd_local", False),
    ("typo gmial", C("li@gmial.com"), "email.typo", True),
    ("typo gmail.con", C("li@gmail.con"), "email.typo", True),
    ("typo hotmial", C("li@hotmial.com"), "email.typo", True),
    ("mail.com is real", C("li@mail.com"), "email.typo", False),
    ("gmail.co.uk is not a typo", C("li@gmail.co.uk"), "email.typo", False),
    ("disposable", C("li@mailinator.com"), "email.disposable", True),
    ("disposable subdomain", C("li@x.mailinator.com"), "email.disposable", True),
    ("mailinator lookalike is not", C("li@mailinatorco.com"), "email.disposable", False),
    ("freemail on demo form", C("li@gmail.com", form_kind="demo", form_intent="SQL"), "freemail.b2b", True),
    ("freemail on newsletter", C("li@gmail.com", form_kind="newsletter"), "freemail.b2b", False),
    ("role address", C("info@acme.com"), "role.account", True),
    ("person named Info-ish", C("informatics.jo@acme.com"), "role.account", False),
    ("competitor subdomain", C("li@eu.rival.co.uk"), "competitor.domain", True),
    ("competitor exact", C("li@rival.com"), "competitor.domain", True),
    ("competitor lookalike on another domain", C("li@rival.com.evil.net"), "competitor.domain", False),
    ("competitor prefix", C("li@notrival.co.uk"), "competitor.domain", False),
    ("competitor name with suffix", C(company="RIVAL, inc"), "competitor.name", True),
    ("competitor name spacing", C(company="  Rival   Incorporated "), "competitor.name", True),
    ("competitor name near miss", C(company="Rivalry Games"), "competitor.name", False),
    (".edu", C("li@mit.edu"), "academic.domain", True),
    (".ac.uk", C("li@cs.uni.ac.uk"), "academic.domain", True),
    (".edu.au", C("li@unimelb.edu.au"), "academic.domain", True),
    ("bundled university", C("li@inf.ethz.ch"), "academic.domain", True),
    ("edu-consulting.com is not academic", C("li@edu-consulting.com"), "academic.domain", False),
    ("swot list: German university", C("li@uni-passau.de"), "academic.domain", True),
    ("swot list: lookalike of a university", C("li@uni-heidelberg-consulting.de"), "academic.domain", False),
    ("swot stop list: a school's old name, now not academic", C("li@1kspa-ltm.cz"), "academic.domain", False),
    ("student title", C(job_title="PhD candidate"), "student.title", True),
    ("student title German", C(job_title="Werkstudentin Marketing"), "student.title", True),
    ("student title Spanish", C(job_title="Estudiante de ingeniería"), "student.title", True),
    ("student title Russian", C(job_title="студент"), "student.title", True),
    ("professor is staff, not student", C(job_title="Professor of Economics"), "academic.staff", True),
    ("professor is not a student", C(job_title="Professor of Economics"), "student.title", False),
    ("studio manager is not a student", C(job_title="Studio manager"), "student.title", False),
    ("university company", C(company="Universität Wien"), "academic.company", True),
    ("university-free company", C(company="Universal Exports"), "academic.company", False),
    ("job seeker", C(message="I am looking for a job in your sales team"), "job_seeker.text", True),
    ("job title mentions jobs", C(job_title="Head of Jobs Platform"), "job_seeker.text", False),
    ("vendor pitch", C(message="We offer lead generation services at low cost"), "vendor.pitch", True),
    ("buyer message", C(message="We need pricing for 40 seats."), "vendor.pitch", False),
    ("link in name", C(first_name="Win http://x.ru"), "spam.link_in_field", True),
    ("company Booking.com is fine", C(company="Booking.com"), "spam.link_in_field", False),
    ("title ASP.NET is fine", C(job_title="ASP.NET Developer"), "spam.link_in_field", False),
    ("domain in a last name", C(last_name="cheap-pills.xyz"), "spam.link_in_field", True),
    ("a time slot is not gambling", C(message="Can we book a time slot on Monday?"), "spam.phrases", False),
    ("Student Loans Company is a business", C(company="Student Loans Company"), "student.title", False),
    ("html in company", C(company="<a href=x>cheap</a>"), "spam.html", True),
    ("url-stuffed message", C(message="see http://a.ru http://b.ru http://c.ru"), "spam.links", True),
    ("one link in message", C(message="our site is https://acme.com"), "spam.links", False),
    (
        "spam phrases",
        C(message="Cheap backlinks and SEO services to get first page of Google"),
        "spam.phrases",
        True,
    ),
    ("ordinary message", C(message="Can we see a demo of the reporting?"), "spam.phrases", False),
    ("keyboard mashing", C(first_name="asdfgh"), "spam.gibberish", True),
    ("random case", C(first_name="xKdOpQa"), "spam.gibberish", True),
    ("McDonald is a name", C(first_name="Ronald", last_name="McDonald"), "spam.gibberish", False),
    ("Schwarzkopf is a name", C(last_name="Schwarzkopf"), "spam.gibberish", False),
    ("identical fields", C(first_name="Bot", last_name="bot", company="BOT"), "spam.identical_fields", True),
    (
        "different fields",
        C(first_name="Ann", last_name="Lee", company="Acme"),
        "spam.identical_fields",
        False,
    ),
    ("mixed script", C(first_name="Pаypal"), "spam.mixed_script", True),  # Cyrillic а
    ("Cyrillic name is fine", C(first_name="Анна"), "spam.mixed_script", False),
    ("overlong field", C(company="x" * 300), "spam.long_field", True),
    ("long but fine", C(company="x" * 100), "spam.long_field", False),
    ("honeypot", C(signals={"honeypot": True}), "capture.honeypot", True),
    ("too fast", C(signals={"token": "valid", "fill_seconds": 0.4}), "capture.too_fast", True),
    (
        "static token has no fill time",
        C(signals={"token": "valid", "fill_seconds": 0.4, "token_static": True}),
        "capture.too_fast",
        False,
    ),
    ("forged token", C(signals={"token": "forged"}), "capture.token_forged", True),
    ("token for another form", C(signals={"token": "wrong_form"}), "capture.token_wrong_form", True),
    ("valid token", C(signals={"token": "valid"}), "capture.token_wrong_form", False),
    ("expired token", C(signals={"token": "expired"}), "capture.token_expired", True),
    (
        "origin not allowed",
        C(signals={"origin": "https://evil.example", "origin_allowed": False}),
        "capture.origin",
        True,
    ),
    (
        "origin unknown (no list)",
        C(signals={"origin": "https://x.example", "origin_allowed": None}),
        "capture.origin",
        False,
    ),
    ("blocked email", C("Troll@acme.com"), "blocked.email", True),
    ("blocked email, another mailbox", C("troll2@acme.com"), "blocked.email", False),
    ("blocked email on a lookalike domain", C("troll@acme.com.evil.net"), "blocked.email", False),
    ("blocked domain subdomain", C("li@mx.spammy.example"), "blocked.domain", True),
    ("blocked domain, longer name", C("li@notspammy.example"), "blocked.domain", False),
    ("blocked domain as a subdomain elsewhere", C("li@spammy.example.evil.net"), "blocked.domain", False),
    ("blocked range", C(ip="203.0.113.99"), "blocked.ip", True),
    ("blocked single IP", C(ip="198.51.100.7"), "blocked.ip", True),
    ("IP next to the blocked one", C(ip="198.51.100.8"), "blocked.ip", False),
    ("allowed domain", C("li@partner.example"), "allow.domain", True),
    ("allowed domain lookalike", C("li@partner.example.evil.net"), "allow.domain", False),
    ("allowed email", C("Friend@Mailinator.com"), "allow.email", True),
    ("allowed email, another mailbox", C("friend2@mailinator.com"), "allow.email", False),
    ("allowed email, subdomain", C("friend@x.mailinator.com"), "allow.email", False),
    ("student in the message", C(message="I am a PhD student writing on CRM"), "student.message", True),
    ("student housing is a market", C(message="We run student housing"), "student.message", False),
    ("message ignored beside a title", C(job_title="CTO", message="a student"), "student.message", False),
]


@pytest.mark.parametrize(("candidate", "code", "present"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_check_table(candidate, code, present):
    assert (code in codes(candidate)) is present


@pytest.mark.parametrize(
    ("domain", "suggestion"),
    [
        # hits: one slip of the fingers on a popular provider, or a typo'd TLD after its exact name
        ("gmial.com", "gmail.com"),  # two letters swapped
        ("hotmial.com", "hotmail.com"),
        ("gmai.com", "gmail.com"),  # one letter left out
        ("yaho.com", "yahoo.com"),
        ("outlok.com", "outlook.com"),
        ("gmaill.com", "gmail.com"),  # one letter doubled
        ("hotmial.co.uk", "hotmail.co.uk"),
        ("gmail.con", "gmail.com"),
        ("gmail.co", "gmail.com"),
        ("gmail.cm", "gmail.com"),
        # Microsoft's .co mailboxes are second-level (live.co.uk, outlook.co.th): bare .co is a typo
        ("hotmail.co", "hotmail.com"),
        ("outlook.co", "outlook.com"),
        ("live.co", "live.com"),
        # near misses: real, separately registered domains
        ("tmail.com", None),  # first letter replaced
        ("hmail.com", None),
        ("fmail.com", None),
        ("gnail.com", None),  # a replaced letter is not a slip we flag; DNS checks still run
        ("hotmart.com", None),  # two letters replaced
        ("cloud.com", None),  # the first letter left out of icloud
        ("ymail.com", None),
        ("live.co.uk", None),
        ("live.co.za", None),
        ("outlook.co.th", None),
        ("hotmail.co.jp", None),
    ],
)
def test_typo_suggestions(domain, suggestion):
    from screening.check_email import suggest_domain

    assert suggest_domain(domain) == suggestion
    assert ("email.typo" in codes(C(f"li@{domain}"))) is (suggestion is not None)


@pytest.mark.parametrize(
    ("name", "present"),
    [
        # hits: keyboard mashing, repeats, random case
        ("asdfgh", True),
        ("qwertyuiop", True),
        ("lkjhgf", True),  # a row typed backwards
        ("xkcdjfhqz", True),
        ("jjjjjj", True),
        ("aaaaaa", True),
        ("tHiSiSaNaMe", True),
        ("AsDfGhJk", True),
        ("Xkcdjfa", True),  # six consonants in a row, vowel or not at the end
        # near misses: real names
        ("Mkrtchyan", False),
        ("McDonald-McKay", False),
        ("Nguyen", False),
        ("Ngozi", False),
        ("Tsvetkova", False),
        ("Schwarzkopf", False),
        ("Llywelyn", False),
        ("Srinivasan", False),
        ("O'Brien-Smith", False),
        ("Zbigniew", False),
        ("Doherty", False),  # erty is on the top row
        ("Wertheim", False),
        ("Brzęczyszczykiewicz", False),
        ("Hengstschläger", False),
        ("DiCaprio", False),
    ],
)
def test_gibberish_names(name, present):
    assert ("spam.gibberish" in codes(C(last_name=name))) is present


def test_every_check_has_a_case():
    covered = {case[2].split(".")[0] for case in CASES}
    assert {
        "email",
        "freemail",
        "role",
        "competitor",
        "academic",
        "student",
        "spam",
        "capture",
        "blocked",
        "allow",
        "job_seeker",
        "vendor",
    } <= covered
    assert len(CHECKS) >= 20


def test_evidence_names_who_added_the_list_entry():
    [finding] = [f for f in screen(C("li@eu.rival.co.uk"), Context(lists=LISTS)).findings]
    assert finding.evidence == (
        "domain rival.co.uk is on the competitor list (eu.rival.co.uk belongs to it), "
        "added by anna on 3 Nov 2026 (main rival)"
    )


def test_origin_finding_names_the_origin_and_holds():
    result = screen(C(signals={"origin": "https://evil.example", "origin_allowed": False}))
    assert result.verdict == "held" and result.category == "origin"
    assert "https://evil.example" in result.findings[0].evidence


def test_professor_and_student_say_which_fired():
    student = screen(C("li@mit.edu", job_title="PhD student"))
    professor = screen(C("li@mit.edu", job_title="Associate Professor"))
    assert (student.verdict, student.category) == ("held", "student")
    assert (professor.verdict, professor.category) == ("accepted", "academic")
    assert "not a student" in [f for f in professor.findings if f.code == "academic.staff"][0].evidence


@pytest.mark.parametrize(
    "title",
    [
        "Doctoral researcher",
        "Student at the Faculty of Law",
        "MBA student, Dean's list",
        "PhD student and researcher",
    ],
)
def test_student_words_win_over_staff_words(title):
    result = screen(C(job_title=title))
    assert [f.code for f in result.findings] == ["student.title"]
    assert (result.verdict, result.category) == ("held", "student")


@pytest.mark.parametrize(
    ("title", "code"),
    [
        ("Student Success Manager", None),
        ("Director of Student Affairs", None),
        ("Alumna relations officer", None),
        ("Head of Students", None),
        ("Post-doctoral researcher", "academic.staff"),
        ("Lecturer for MBA students", "academic.staff"),
    ],
)
def test_staff_of_student_services_are_not_students(title, code):
    result = screen(C(job_title=title))
    assert [f.code for f in result.findings] == ([code] if code else [])
    assert result.verdict == "accepted"


def test_evidence_says_student_words_won():
    [finding] = screen(C(job_title="PhD student and researcher")).findings
    assert finding.evidence.endswith("student words win over 'researcher'")


IDN = "bücher.example"
ACE = "xn--bcher-kva.example"


@pytest.mark.parametrize(
    ("kind", "stored", "email", "code"),
    [
        ("blocked_domain", ACE, f"li@{IDN}", "blocked.domain"),
        ("blocked_domain", IDN, f"li@{ACE}", "blocked.domain"),
        ("blocked_domain", f" @{IDN.upper()}. ", f"li@mx.{IDN}", "blocked.domain"),
        ("blocked_email", f"troll@{ACE}", f"Troll@{IDN}", "blocked.email"),
        ("blocked_email", f" Troll@{IDN} ", f"troll@{ACE}", "blocked.email"),
        ("allowed_email", f"friend@{ACE}", f"friend@{IDN}", "allow.email"),
        ("allowed_domain", IDN, f"li@{ACE}", "allow.domain"),
        ("competitor_domain", IDN, f"li@eu.{ACE}", "competitor.domain"),
    ],
)
def test_list_entries_match_in_either_idna_form(kind, stored, email, code):
    lists = Lists.from_entries([(kind, ListEntry(stored))])
    assert code in codes(C(email), Context(lists=lists))


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Rival Inc.", "rival"),
        ("The Rival Group GmbH", "rival"),
        ("Société Générale S.A.", "societe generale"),
        ("AT&T", "at and t"),
    ],
)
def test_company_key(name, key):
    assert company_key(name) == key


def test_swot_evidence_names_the_school():
    from screening.check_domain import academic_domain_reason

    assert academic_domain_reason("fim.uni-passau.de") == (
        "fim.uni-passau.de belongs to Universität Passau (swot academic domain list)"
    )
