"""Lists of submissions that stay fast as the table grows: keyset pages (never a row skipped or repeated),
a capped count, the search by e-mail (exact, start, domain) and by name or company, and a CSV export that
says how many rows it holds."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import insert, select

from app.models import Form, Lead, Submission, utcnow

T0 = datetime(2026, 3, 1, 9, 0)


def bulk(session, rows: list[dict]) -> None:
    """Rows straight into the table (Core), with the defaults a capture would give."""
    forms = dict(session.execute(select(Form.slug, Form.id)).all())
    session.execute(
        insert(Submission),
        [
            {
                "form_id": forms[row.pop("slug", "request-demo")],
                "status": "screened",
                "raw": {},
                "signals": {},
                "answers": {},
                **row,
            }
            for row in rows
        ],
    )
    session.commit()


def spread(n: int, *, verdict: str, category: str | None = None, prefix: str = "p") -> list[dict]:
    """n rows, many sharing their second (ties are where keyset pages can go wrong)."""
    return [
        {
            "email": f"{prefix}{i}@acme.com",
            "verdict": verdict,
            "reason_category": category,
            "received_at": T0 + timedelta(seconds=i // 7),
        }
        for i in range(n)
    ]


def link(html: str, rel: str) -> str | None:
    found = re.search(rf'href="([^"]+)" rel="{rel}"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def emails(html: str) -> list[str]:
    return re.findall(r">([a-z]+\d+@acme\.com)</a>", html)


def walk(client, url: str) -> tuple[list[str], list[str]]:
    """Follow Next to the end, then Previous back to the start: the e-mails seen each way."""
    forward, pages = [], []
    while url:
        html = client.get(url).get_data(as_text=True)
        pages.append(html)
        forward += emails(html)
        url = link(html, "next")
    backward = emails(pages[-1])
    url = link(pages[-1], "prev")
    while url:
        html = client.get(url).get_data(as_text=True)
        backward = emails(html) + backward
        url = link(html, "prev")
    return forward, backward


@pytest.mark.parametrize(
    ("url", "verdict", "category", "newest_first"),
    [
        ("/admin/submissions?verdict=accepted", "accepted", None, True),
        ("/admin/rejected?category=spam", "rejected", "spam", True),
        ("/admin/", "held", "uncertain", False),
    ],
)
def test_keyset_pages_never_skip_or_repeat_a_row(admin, db_session, url, verdict, category, newest_first):
    bulk(db_session, spread(173, verdict=verdict, category=category))
    bulk(db_session, spread(9, verdict="rejected", category="student", prefix="other"))  # filtered out
    expected = [
        e
        for e, _ in sorted(
            ((f"p{i}@acme.com", (T0 + timedelta(seconds=i // 7), i)) for i in range(173)),
            key=lambda pair: pair[1],
            reverse=newest_first,
        )
    ]
    forward, backward = walk(admin, url)
    assert forward == expected  # every row once, in order, across 4 pages
    assert backward == expected  # and the same rows walking back


def test_rows_arriving_while_paging_are_not_shown_twice(admin, db_session):
    bulk(db_session, spread(120, verdict="accepted"))
    first = admin.get("/admin/submissions").get_data(as_text=True)
    bulk(db_session, [{"email": "new1@acme.com", "verdict": "accepted", "received_at": T0 + timedelta(days=9)}])
    second = admin.get(link(first, "next")).get_data(as_text=True)
    assert not set(emails(first)) & set(emails(second))
    assert len(emails(first)) == len(emails(second)) == 50


def test_lists_count_only_what_fits_on_a_page_and_the_queue_up_to_the_cap(admin, db_session):
    bulk(db_session, spread(1003, verdict="held", category="uncertain"))
    bulk(db_session, spread(60, verdict="rejected", category="spam", prefix="r"))
    assert "More than 1,000 held" in admin.get("/admin/").get_data(as_text=True)  # the queue: up to the cap
    assert "More than 50 rejected" in admin.get("/admin/rejected").get_data(as_text=True)
    assert "11 rejected" in admin.get("/admin/rejected?q=r1").get_data(as_text=True)  # r1 and r10 to r19
    html = admin.get("/admin/submissions?verdict=held").get_data(as_text=True)
    assert "More than 50 screened submissions match" in html and "Page 1</span>" in html
    assert "14 screened submission(s) match" in admin.get("/admin/submissions?q=p10").get_data(as_text=True)


def test_malformed_cursors_give_the_first_page(admin, db_session):
    bulk(db_session, spread(60, verdict="accepted"))
    first = emails(admin.get("/admin/submissions").get_data(as_text=True))
    for cursor in ("after=nonsense", "before=2026-13-01T00:00:00_1", "after=_", "page=-3&after=%00"):
        assert emails(admin.get(f"/admin/submissions?{cursor}").get_data(as_text=True)) == first, cursor


PEOPLE = [
    {"email": "Jane.Doe@Acme.com", "first_name": "Jane", "last_name": "Doe", "company": "Acme Corp"},
    {"email": "jane.doerr@globex.com", "first_name": "Jane", "last_name": "Doerr", "company": "Globex"},
    {"email": "raj@initech.com", "first_name": "Raj", "last_name": "Patel", "company": "The Acme Group"},
    {"email": "li@hooli.com", "first_name": "Li", "last_name": "Wei", "company": "Hooli 100% Ltd"},
]


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("jane.doe@acme.com", ["Jane.Doe@Acme.com"]),  # a whole address: exactly, in any case
        ("JANE.DOE@ACME.COM", ["Jane.Doe@Acme.com"]),
        ("jane.doe@", ["Jane.Doe@Acme.com"]),  # the start of an address
        ("jane.d", ["Jane.Doe@Acme.com", "jane.doerr@globex.com"]),
        ("@acme.com", ["Jane.Doe@Acme.com"]),  # a domain
        ("acme", ["Jane.Doe@Acme.com", "raj@initech.com"]),  # a company, anywhere in its name
        ("jane doe", ["Jane.Doe@Acme.com", "jane.doerr@globex.com"]),  # every word, in any field
        ("doerr globex", ["jane.doerr@globex.com"]),
        ("patel", ["raj@initech.com"]),
        ("100%", ["li@hooli.com"]),  # LIKE's own characters taken literally
        ("%%", []),
        ("j_ne", []),
        ("nobody@acme.com", []),
    ],
)
def test_search_by_email_start_domain_name_and_company(admin, db_session, q, found):
    bulk(db_session, [{**person, "verdict": "accepted", "received_at": T0} for person in PEOPLE])
    html = admin.get("/admin/submissions", query_string={"q": q}).get_data(as_text=True)
    shown = [p["email"] for p in PEOPLE if f">{p['email']}</a>" in html]
    assert shown == found, q


def test_the_queue_and_the_spam_folder_search_the_same_way(admin, db_session):
    bulk(db_session, [{**PEOPLE[0], "verdict": "held", "reason_category": "uncertain", "received_at": T0}])
    bulk(db_session, [{**PEOPLE[1], "verdict": "rejected", "reason_category": "spam", "received_at": T0}])
    assert "Jane.Doe@Acme.com" in admin.get("/admin/?q=jane.doe@acme.com").get_data(as_text=True)
    assert "Jane.Doe@Acme.com" not in admin.get("/admin/?q=jane.doerr@").get_data(as_text=True)
    assert "jane.doerr@globex.com" in admin.get("/admin/rejected?q=doerr+globex").get_data(as_text=True)


def test_the_export_of_n_rows_has_n_rows_and_says_so(admin, db_session):
    lead = Lead(email="p3@acme.com", stage="SQL", score=42)
    db_session.add(lead)
    db_session.commit()
    rows = spread(12345, verdict="accepted")
    rows[3].update(lead_id=lead.id, company="=cmd|' /C calc'!A0", phone="+1 555 0100", message="-2+3")
    rows[5].update(first_name="\tTab", last_name="\uff1dSUM(A1)", job_title="  =1+1", utm_source="@x")
    bulk(db_session, rows)
    bulk(db_session, spread(5, verdict="rejected", category="spam", prefix="spam"))
    response = admin.get("/admin/submissions.csv?verdict=accepted")
    body = response.get_data()
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["X-Export-Rows"] == "12345"
    assert int(response.headers["Content-Length"]) == len(body)  # a cut download cannot look whole
    assert "-12345-rows.csv" in response.headers["Content-Disposition"]
    records = list(csv.DictReader(io.StringIO(body.decode())))
    assert len(records) == 12345 and len({r["email"] for r in records}) == 12345
    assert records[0]["email"] == "p12344@acme.com"  # newest first
    [p3] = [r for r in records if r["email"] == "p3@acme.com"]
    assert p3["company"] == "'=cmd|' /C calc'!A0" and p3["message"] == "'-2+3"  # never a formula
    assert p3["phone"] == "+1 555 0100" and (p3["stage"], p3["score"]) == ("SQL", "42")
    assert p3["received_at"] == "2026-03-01T09:00:00+00:00"  # ISO 8601 with its zone
    assert records[1]["stage"] == records[1]["score"] == ""
    [p5] = [r for r in records if r["email"] == "p5@acme.com"]  # several cells of one row, spaces first
    assert (p5["first_name"], p5["last_name"], p5["job_title"], p5["utm_source"]) == (
        "'\tTab",
        "'\uff1dSUM(A1)",
        "'  =1+1",
        "'@x",
    )


def test_an_empty_export_is_a_header_and_zero_rows(admin):
    response = admin.get("/admin/submissions.csv?q=nobody@nowhere.example")
    assert response.headers["X-Export-Rows"] == "0"
    assert response.get_data(as_text=True).splitlines()[0].startswith("received_at,email,")
    assert utcnow().strftime("%Y-%m-%d") in response.headers["Content-Disposition"]
