"""The worker screens with today's admin lists and the loopback DNS server, and stores readable findings."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

from sqlalchemy import select

from app.cli import cli
from app.jobs import screen_submission
from app.models import Finding, Form, ListEntry, Submission


def _submit(session, email: str, *, slug: str = "request-demo", **fields) -> int:
    form = session.scalars(select(Form).where(Form.slug == slug)).one()
    submission = Submission(form_id=form.id, email=email, **fields)
    session.add(submission)
    session.commit()
    return submission.id


def _list(session, kind: str, value: str, note: str = "") -> None:
    session.add(
        ListEntry(
            kind=kind,
            value=value,
            note=note,
            created_by="anna@example.com",
            created_at=datetime(2026, 11, 3, 10, 0),
        )
    )
    session.commit()


def _screen(app, session, submission_id: int) -> tuple[Submission, list[Finding]]:
    with app.app_context():
        screen_submission(submission_id)
    session.expire_all()
    findings = session.scalars(select(Finding).where(Finding.submission_id == submission_id)).all()
    return session.get(Submission, submission_id), list(findings)


def test_competitor_domain_holds_with_readable_evidence(app, db_session):
    _list(db_session, "competitor_domain", "rival.co.uk", note="main rival")
    submission, findings = _screen(app, db_session, _submit(db_session, "li@eu.rival.co.uk"))
    assert (submission.verdict, submission.reason_category) == ("held", "competitor")
    assert [f.evidence for f in findings if f.code == "competitor.domain"] == [
        "domain rival.co.uk is on the competitor list (eu.rival.co.uk belongs to it), "
        "added by anna on 3 Nov 2026 (main rival)"
    ]


def test_list_entries_added_during_the_day_apply_to_the_next_job(app, db_session):
    first, _ = _screen(app, db_session, _submit(db_session, "a@rival.com", company="Rival"))
    assert first.verdict == "accepted"
    _list(db_session, "competitor_name", "Rival Inc.")
    second, findings = _screen(app, db_session, _submit(db_session, "b@rival.com", company="RIVAL inc"))
    assert (second.verdict, [f.code for f in findings]) == ("held", ["competitor.name"])


def test_blocked_ip_and_cidr_reject(app, db_session):
    _list(db_session, "blocked_ip", "203.0.113.0/24")
    _list(db_session, "blocked_ip", "198.51.100.7")
    for ip in ("203.0.113.50", "198.51.100.7"):
        submission, findings = _screen(app, db_session, _submit(db_session, f"x{ip[-1]}@acme.com", ip=ip))
        assert (submission.verdict, submission.reason_category) == ("rejected", "spam")
        assert any(f.code == "blocked.ip" and ip in f.evidence for f in findings)
    near, _ = _screen(app, db_session, _submit(db_session, "y@acme.com", ip="198.51.100.8"))
    assert near.verdict == "accepted"


def test_allowlisted_domain_accepts_despite_findings(app, db_session):
    _list(db_session, "allowed_domain", "mailinator.com")
    submission, findings = _screen(app, db_session, _submit(db_session, "tester@mailinator.com"))
    assert submission.verdict == "accepted"
    assert {"allow.domain", "email.disposable"} <= {f.code for f in findings}


def test_dns_outcomes_through_the_worker(app, db_session):
    nxdomain, _ = _screen(app, db_session, _submit(db_session, "li@nowhere.example"))
    timeout, findings = _screen(app, db_session, _submit(db_session, "li@timeout.example"))
    assert (nxdomain.verdict, nxdomain.reason_category) == ("rejected", "invalid")
    assert (timeout.verdict, timeout.reason_category) == ("held", "uncertain")
    assert [f.code for f in findings] == ["dns.unknown"]


def test_origin_not_allowed_is_held_naming_the_origin(app, db_session):
    submission, findings = _screen(
        app,
        db_session,
        _submit(
            db_session,
            "kim@vandelay.com",
            slug="embedded",
            signals={"origin": "https://new-site.example", "origin_allowed": False, "token": "missing"},
        ),
    )
    assert (submission.verdict, submission.reason_category) == ("held", "origin")
    assert "https://new-site.example" in findings[0].evidence


def test_velocity_burst_from_one_ip_holds(app, db_session):
    app.config["SCREENING_IP_BURST"] = 2
    ids = [_submit(db_session, f"p{i}@acme.com", ip="192.0.2.77") for i in range(3)]
    submission, findings = _screen(app, db_session, ids[-1])
    assert (submission.verdict, submission.reason_category) == ("held", "spam")
    assert findings[0].code == "velocity.ip" and "3 submissions from IP 192.0.2.77" in findings[0].evidence


def test_rescreen_replaces_findings(app, db_session):
    submission_id = _submit(db_session, "li@rival.co.uk")
    _list(db_session, "competitor_domain", "rival.co.uk")
    held, findings = _screen(app, db_session, submission_id)
    assert held.verdict == "held" and len(findings) == 1
    db_session.query(ListEntry).delete()
    held.status, held.verdict = "received", None  # what the admin's re-screen does before enqueueing
    db_session.commit()
    again, findings = _screen(app, db_session, submission_id)
    assert again.verdict == "accepted" and findings == []


def test_batch_command_csv_carries_columns_and_reports_bad_rows(app, db_session, tmp_path):
    _list(db_session, "competitor_domain", "rival.co.uk")
    source = tmp_path / "leads.csv"
    source.write_text(
        "Email,First Name,Company,Booth\n"
        "li@initech.com,Li,Initech,A1\n"
        ",,No address,A2\n"
        "ana@eu.rival.co.uk,Ana,Rival,B7\n"
        "x@nowhere.example,X,,C3\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    result = app.test_cli_runner().invoke(cli, ["screen", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "skipped line 3: no e-mail address in this row" in result.output
    assert "screened 4 rows" in result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [(r["Booth"], r["verdict"], r["category"], r["line"]) for r in rows] == [
        ("A1", "accepted", "", "2"),
        ("A2", "error", "", "3"),
        ("B7", "held", "competitor", "4"),
        ("C3", "rejected", "invalid", "5"),
    ]
    assert rows[0]["suggested_stage"] == "prospect"
    assert "added by anna" in rows[2]["findings"]


def test_batch_command_jsonl(app, tmp_path):
    source = tmp_path / "leads.jsonl"
    source.write_text(
        '{"email": "sam@hooli.com", "form_kind": "demo", "crm_id": 7}\n{not json\n["a list"]\n',
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    result = app.test_cli_runner().invoke(cli, ["screen", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["line"], r["verdict"]) for r in rows] == [(1, "accepted"), (2, "error"), (3, "error")]
    assert rows[0]["crm_id"] == 7 and rows[0]["suggested_stage"] == "SQL"
    assert "line 2: not JSON" in rows[1]["error"] and "skipped line 3: not a JSON object" in result.output


def test_one_resolver_per_process_and_lists_cached_for_the_ttl(app, db_session):
    from app.screening_context.builder import build_context, preload

    app.config["SCREENING_LISTS_TTL_SECONDS"] = 60
    with app.app_context():
        preload(app)
        first = build_context(session=db_session)
        _list(db_session, "blocked_domain", "acme.com")
        cached = build_context(session=db_session)
        app.config["SCREENING_LISTS_TTL_SECONDS"] = 0
        fresh = build_context(session=db_session)
    assert first.resolver is cached.resolver is fresh.resolver
    assert cached.lists is first.lists and "acme.com" not in cached.lists.blocked_domains
    assert "acme.com" in fresh.lists.blocked_domains


def test_bad_screening_policy_stops_the_worker_at_start(app):
    import pytest

    from app.screening_context.builder import preload
    from screening.errors import PolicyError

    app.config["SCREENING_POLICY"] = {"actions": {"spam": "shred"}}
    with pytest.raises(PolicyError, match="actions must be one of"):
        preload(app)


def test_screening_settings_from_the_environment(tmp_path):
    from app.screening_context.builder import policy_from_config
    from config import TestConfig

    settings = TestConfig.from_env(
        {
            "LEADSIEVE_INSTANCE": str(tmp_path),
            "DNS_NAMESERVERS": "127.0.0.1:5353, [::1]:53",
            "DNSBL_ZONES": "bl.example",
            "SCREENING_POLICY": '{"hold_at": 60, "actions": {"student": "mark"}}',
            "SCREENING_IP_BURST": "3",
        }
    )
    assert settings["DNS_NAMESERVERS"] == ["127.0.0.1:5353", "[::1]:53"]
    policy = policy_from_config(settings)
    assert (policy.hold_at, policy.ip_burst, policy.dnsbl_zones) == (60, 3, ("bl.example",))
    assert policy.action_for("student") == "mark"


def test_dns_answers_are_shared_by_forked_work_horses(app, dns_server):
    """RQ forks a work horse per job: an answer one horse fetched must serve the next one."""
    import os
    import warnings

    from app.screening_context.builder import resolver_for

    before = dns_server.queries[("initech.com", "MX")]
    with warnings.catch_warnings():  # Python 3.12+ warns about fork() beside threads; RQ forks all the same
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the first "work horse": asks DNS, then dies with its memory
        status = resolver_for(app).mail_domain("initech.com").status
        os._exit(0 if status == "mx" else 1)
    _, code = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(code) == 0
    assert dns_server.queries[("initech.com", "MX")] == before + 1
    assert resolver_for(app).mail_domain("initech.com").status == "mx"  # the next one: from Redis
    assert dns_server.queries[("initech.com", "MX")] == before + 1


def test_dns_cache_without_redis_falls_back_to_asking(app, dns_server):
    from app.runtime.queues import connect
    from app.screening_context.dns_cache import SharedDnsCache
    from screening.resolver import MailResolver

    cache = SharedDnsCache(connect("redis://127.0.0.1:1/0", timeout=0.2))
    resolver = MailResolver([dns_server.address], timeout=0.5, cache=cache)
    assert resolver.mail_domain("initech.com").status == "mx"
    assert resolver.mail_domain("initech.com").status == "mx"  # this process's copy
    assert cache.hits() == 1


def test_forked_work_horses_use_the_lists_the_parent_refreshed(app, db_session):
    """The worker's parent re-reads the lists every TTL; a horse forked from it must not read them again."""
    import os
    import warnings

    from sqlalchemy import event

    from app.screening_context.builder import build_context, refresh_lists

    app.config["SCREENING_LISTS_TTL_SECONDS"] = 60
    _list(db_session, "blocked_domain", "spam.example")
    with app.app_context():
        refresh_lists(app)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # the "work horse"
            engine = app.extensions["leadsieve.engine"]
            reads = []
            event.listen(
                engine,
                "before_cursor_execute",
                lambda _c, _cur, statement, *_: reads.append(statement) if "list_entries" in statement else None,
            )
            from app.db import session_scope

            with session_scope() as session:
                context = build_context(session=session)
            os._exit(0 if "spam.example" in context.lists.blocked_domains and not reads else 1)
    _, code = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(code) == 0
