"""Downloaded disposable lists (`leadsieve lists refresh` against a local HTTP server) reach the worker
without a restart; the mail-exchanger ledger is learned in the shared Redis and flags new domains."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import select

from app.cli import cli
from app.jobs import screen_submission
from app.models import Finding, Form, Submission
from app.screening_context.builder import build_context, refresh_lists
from app.screening_context.disposable_sources import (
    RedisMxLedger,
    disposable_for,
    lists_directory,
    read_manifest,
)
from screening.disposable import bundled_index, seed_exchangers
from tests.dnsserver import DnsServer, mx, suite_zone

# An ordinary domain of the suite's DNS zone that a downloaded list will call disposable.
LISTED_LATER = "initech.com"
FILLER = [f"throwaway{i}.example" for i in range(1500)]


class ListServer:
    """Serves `routes[path] = (status, body, headers)` on 127.0.0.1; a `cut` header sends less than promised."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, bytes, dict[str, str]]] = {}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                status, body, headers = owner.routes.get(self.path, (404, b"not found", {}))
                self.send_response(status)
                cut = "X-Cut" in headers
                self.send_header("Content-Length", str(len(body) * (2 if cut else 1)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
                if cut:
                    self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def serve(self, path: str, body: str | bytes, *, status: int = 200, **headers: str) -> str:
        self.routes[path] = (status, body.encode() if isinstance(body, str) else body, headers)
        return self.url(path)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _plain(domains: list[str]) -> str:
    return "# a disposable list\n" + "\n".join(domains) + "\n"


# Listed domains (bundled) whose mail goes to an exchanger no list or seed knows: the ledger learns it.
LEARNERS = [
    d
    for d in sorted(bundled_index().domains)
    if d.count(".") == 1 and d.endswith(".com") and d not in seed_exchangers()
][:3]


@pytest.fixture
def list_server() -> Iterator[ListServer]:
    server = ListServer()
    yield server
    server.stop()


@pytest.fixture
def mx_server() -> Iterator[DnsServer]:
    zone = suite_zone()
    zone.update(
        {
            "fresh-inbox.example": mx("mx.yopmail.com"),
            "corp-google.example": mx("aspmx.l.google.com"),
            "unlisted-newtemp.example": mx("mx.newtemp.example"),
            **{d: mx(f"mx{i}.newtemp.example") for i, d in enumerate(LEARNERS)},
        }
    )
    server = DnsServer(zone).start()
    yield server
    server.stop()


@pytest.fixture
def settings(settings: dict[str, Any], mx_server: DnsServer) -> dict[str, Any]:
    """The suite's zone plus this module's names, on a private DNS server."""
    settings["DNS_NAMESERVERS"] = [mx_server.address]
    return settings


def _screen(app, session, email: str) -> tuple[Submission, list[Finding]]:
    form = session.scalars(select(Form).where(Form.slug == "request-demo")).one()
    submission = Submission(form_id=form.id, email=email)
    session.add(submission)
    session.commit()
    with app.app_context():
        screen_submission(submission.id)
    session.expire_all()
    findings = session.scalars(select(Finding).where(Finding.submission_id == submission.id)).all()
    return session.get(Submission, submission.id), list(findings)


def _refresh(app, *urls: str, args: tuple[str, ...] = ()) -> Any:
    app.config["DISPOSABLE_SOURCE_URLS"] = list(urls)
    return app.test_cli_runner().invoke(cli, ["lists", "refresh", *args])


def _copy(app) -> str:
    directory = lists_directory(app)
    (entry,) = read_manifest(directory)
    return (directory / entry["file"]).read_text(encoding="utf-8")


def test_good_list_is_accepted_and_the_worker_uses_it_without_restart(app, db_session, list_server):
    before, _ = _screen(app, db_session, f"li@{LISTED_LATER}")
    assert before.verdict == "accepted"
    url = list_server.serve("/lists/disposable.txt", _plain([*FILLER, LISTED_LATER]))
    result = _refresh(app, url)
    assert result.exit_code == 0, result.output
    assert "ok       127.0.0.1/lists/disposable.txt: 1501 domains (previous copy: none)" in result.output
    after, findings = _screen(app, db_session, f"li2@{LISTED_LATER}")
    assert (after.verdict, after.reason_category) == ("rejected", "spam")
    (finding,) = [f for f in findings if f.code == "email.disposable"]
    assert "listed by 127.0.0.1/lists/disposable.txt (1 of 7 sources)" in finding.evidence


def test_json_array_is_accepted(app, list_server):
    url = list_server.serve("/list.json", json.dumps([*FILLER, LISTED_LATER]), **{"Content-Type": "application/json"})
    assert _refresh(app, url).exit_code == 0
    assert disposable_for(app).match(LISTED_LATER) is not None


@pytest.mark.parametrize(
    ("body", "headers", "args", "reason"),
    [
        (_plain(FILLER[:600]), {}, (), "only 600 domains against 1501 in the previous copy"),
        (_plain(FILLER), {"X-Cut": "1"}, (), "the transfer was cut off"),
        ("<!doctype html><html><body><h1>Rate limited</h1></body></html>", {}, (), "wrong format"),
        ('{"domains": ["a.example"]}', {}, (), "wrong format: a JSON object is not a list"),
        (b"\xff\xfe" + "x.example\n".encode("utf-16-le") * 2000, {}, (), "not UTF-8"),
        ("x" * (1024 * 1024 + 1), {}, ("--max-mb", "1"), "over the 1048576-byte limit"),
    ],
    ids=["truncated list", "cut-off transfer", "html page", "json object", "utf-16", "too large"],
)
def test_bad_download_is_refused_and_the_previous_copy_kept(app, list_server, body, headers, args, reason):
    url = list_server.serve("/d.txt", _plain([*FILLER, LISTED_LATER]))
    assert _refresh(app, url).exit_code == 0
    good = _copy(app)
    list_server.serve("/d.txt", body, **headers)
    result = _refresh(app, url, args=args)
    assert result.exit_code == 1
    assert "refused  127.0.0.1/d.txt: " in result.output and reason in result.output, result.output
    assert "kept the previous copy (1501 domains)" in result.output
    assert _copy(app) == good
    assert disposable_for(app).match(LISTED_LATER) is not None


def test_first_copy_too_small_or_missing_is_refused(app, list_server):
    small = list_server.serve("/small.txt", _plain(FILLER[:50]))
    result = _refresh(app, small, list_server.url("/missing.txt"))
    assert result.exit_code == 1
    assert "only 50 domains, fewer than the 1000 a list must have; no copy in use" in result.output
    assert "refused  127.0.0.1/missing.txt: HTTP 404" in result.output
    assert read_manifest(lists_directory(app)) == []


def test_unconfigured_list_is_dropped(app, list_server):
    url = list_server.serve("/d.txt", _plain([*FILLER, LISTED_LATER]))
    assert _refresh(app, url).exit_code == 0
    result = _refresh(app)
    assert result.exit_code == 0 and "(DISPOSABLE_SOURCE_URLS is empty: bundled lists only)" in result.output
    assert disposable_for(app).match(LISTED_LATER) is None
    assert [p.name for p in lists_directory(app).iterdir()] == ["sources.json"]


def test_worker_parent_refresh_merges_new_lists_for_its_work_horses(app, list_server):
    """The worker's lists refresher (the parent RQ forks from) merges a refreshed list once, so each
    work horse inherits it instead of merging it per job."""
    with app.app_context():
        first = refresh_lists(app)
        assert first is not None
        stale = disposable_for(app)
        url = list_server.serve("/d.txt", _plain([*FILLER, LISTED_LATER]))
        assert _refresh(app, url).exit_code == 0
        refresh_lists(app)
        fresh = app.extensions["leadsieve.disposable_index"][1]
        assert fresh is not stale and fresh.match(LISTED_LATER) is not None
        assert disposable_for(app) is fresh  # no second merge while the manifest is unchanged


# --- mail exchangers, learned in Redis --------------------------------------------------------------


def test_seeded_exchanger_rejects_a_domain_no_list_knows(app, db_session):
    submission, findings = _screen(app, db_session, "li@fresh-inbox.example")
    assert (submission.verdict, submission.reason_category) == ("rejected", "spam")
    assert [f.evidence for f in findings if f.code == "dns.disposable_mx"] == [
        "mail for fresh-inbox.example is handled by mx.yopmail.com, an exchanger of YOPmail "
        "(yopmail.fr, yopmail.net and dozens of alternative domains), a disposable-address service"
    ]
    ordinary, findings = _screen(app, db_session, "li@corp-google.example")
    assert ordinary.verdict == "accepted" and not findings


def test_exchanger_learned_by_earlier_jobs_holds_a_new_domain(app, db_session):
    early, _ = _screen(app, db_session, "li@unlisted-newtemp.example")
    assert early.verdict == "accepted"  # nothing learned yet
    for domain in LEARNERS:
        listed, _ = _screen(app, db_session, f"li@{domain}")
        assert listed.reason_category == "spam"
    redis = Redis.from_url(app.config["REDIS_URL"])
    assert redis.pfcount(RedisMxLedger.PREFIX + "newtemp.example") == 3
    later, findings = _screen(app, db_session, "li2@unlisted-newtemp.example")
    assert (later.verdict, later.reason_category) == ("held", "spam")
    assert [f.evidence for f in findings if f.code == "dns.disposable_mx"] == [
        "mail for unlisted-newtemp.example is handled by mx.newtemp.example, which serves 3 known "
        "disposable domains (and 1 other domain seen here)"
    ]


def test_ledger_is_shared_between_processes_and_survives_redis_trouble(app):
    redis = app.extensions["leadsieve.redis"]
    one, two = RedisMxLedger(redis), RedisMxLedger(redis)
    one.record(["newtemp.example"], "a.example", disposable=True)
    one.record(["newtemp.example"], "a.example", disposable=True)  # the same domain again: counted once
    one.record(["newtemp.example"], "b.example", disposable=False)
    assert two.counts(["newtemp.example"]) == {"newtemp.example": (1, 1)}
    broken = RedisMxLedger(Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2))
    broken.record(["newtemp.example"], "c.example", disposable=True)  # no error: this process remembers
    assert broken.counts(["newtemp.example"]) == {"newtemp.example": (1, 0)}


def test_context_carries_index_and_ledger(app, db_session):
    with app.app_context():
        context = build_context(session=db_session, app=app)
    assert context.disposable is disposable_for(app)
    assert isinstance(context.mx_ledger, RedisMxLedger)
