"""The capture path kept lean: forms cached per process yet never served stale, one Redis round trip before
storing (the rate limit and the forms' version), the screening job sent without waiting, the WTForms form
reused with the same answers, and a database connection dropped under the pool retried."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from redis import Redis
from sqlalchemy import event, select
from werkzeug.datastructures import MultiDict

from app import create_app
from app.db import session_scope
from app.models import Form, Submission
from app.runtime.embedded_redis import RedisServer
from app.runtime.queues import SCREENING
from app.runtime.sweeper import sweep
from forms import FORM_KINDS, build_form
from tests.conftest import make_settings

NEWSLETTER = "newsletter"


@pytest.fixture
def own_redis(tmp_path) -> Any:
    """A Redis for this test alone, which it may stop."""
    server = RedisServer(tmp_path / "own-redis").start()
    yield server
    server.stop()


@pytest.fixture
def settings_for(tmp_path, database_url, own_redis):
    """Settings on this test's Redis (the limiter's store included), with overrides."""

    def make(**overrides: Any) -> dict[str, Any]:
        return make_settings(tmp_path, database_url=database_url, redis_url=own_redis.url, **overrides)

    return make


@pytest.fixture(name="settings")
def own_settings(settings_for):
    """The `app` fixture on this test's Redis."""
    return settings_for()


def submissions(db_session) -> list[Submission]:
    db_session.expire_all()
    return list(db_session.scalars(select(Submission).order_by(Submission.id)))


def queued_ids(redis_url: str) -> list[str]:
    return [job.decode() for job in Redis.from_url(redis_url).lrange(f"rq:queue:{SCREENING}", 0, -1)]


def newsletter(db_session) -> Form:
    return db_session.scalars(select(Form).where(Form.slug == NEWSLETTER)).one()


def test_a_form_changed_by_another_process_is_served_changed_at_once(app, client, settings, db_session):
    assert client.post(f"/f/{NEWSLETTER}", json={"email": "a@acme.com"}).status_code == 202  # cached now
    other = create_app(settings)  # another web process (or the admin's), same database and Redis
    try:
        with other.app_context(), session_scope() as session:
            session.scalars(select(Form).where(Form.slug == NEWSLETTER)).one().active = False
            session.commit()
    finally:
        other.extensions["leadsieve.engine"].dispose()
    assert client.post(f"/f/{NEWSLETTER}", json={"email": "b@acme.com"}).status_code == 410
    assert client.get(f"/f/{NEWSLETTER}").status_code == 410

    form = newsletter(db_session)  # any session that commits a change to a form announces it
    form.active, form.settings = True, {**form.settings, "consent_text": "I agree to hear from you."}
    db_session.commit()
    refused = client.post(f"/f/{NEWSLETTER}", json={"email": "c@acme.com"})
    assert refused.status_code == 400 and "consent" in refused.get_json()["fields"]
    assert [s.email for s in submissions(db_session)] == ["a@acme.com"]


def test_a_version_is_never_reused_after_redis_forgets_it(app, own_redis):
    forms = app.extensions["leadsieve.form_cache"]
    first = forms.version()
    assert first and forms.version() == first
    Redis.from_url(own_redis.url).flushall()  # a restart without persistence
    assert forms.version() not in (None, first)


def test_a_post_asks_redis_once_and_the_database_only_to_insert(app, client, own_redis, db_session):
    assert app.config["RATELIMIT_CAPTURE"] == "20 per minute;300 per hour"  # two windows, one script
    redis = Redis.from_url(own_redis.url)
    client.post(f"/f/{NEWSLETTER}", json={"email": "warm@acme.com"})  # loads the script, caches the form
    statements: list[str] = []
    engine = app.extensions["leadsieve.engine"]

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement.split(None, 1)[0].upper())

    event.listen(engine, "before_cursor_execute", record)
    redis.config_resetstat()
    try:
        answers = [client.post(f"/f/{NEWSLETTER}", json={"email": f"p{i}@acme.com"}) for i in range(3)]
    finally:
        event.remove(engine, "before_cursor_execute", record)
    app.extensions["leadsieve.capture_link"].settle()  # read what the posts did not wait for
    assert [a.status_code for a in answers] == [202] * 3
    stats = redis.info("commandstats")
    calls = {name.removeprefix("cmdstat_"): stat["calls"] for name, stat in stats.items()}
    # One script per post: both windows counted (INCR, TTL) and the forms' version read (SET NX, GET) in it.
    assert {name: calls.get(name, 0) for name in ("evalsha", "eval", "incr", "ttl", "set", "get")} == {
        "evalsha": 3,
        "eval": 0,
        "incr": 6,
        "ttl": 6,
        "set": 3,
        "get": 3,
    }
    assert calls["multi"] == calls["exec"] == 3  # each post's screening job, one transaction each
    assert statements == ["INSERT"] * 3  # no form lookup, no ping
    assert queued_ids(own_redis.url) == [f"screen-{s.id}" for s in submissions(db_session)]


def test_the_limit_counts_the_shortest_window_first_and_nothing_past_the_one_exceeded(
    settings_for, own_redis, db_session
):
    app = create_app(settings_for(RATELIMIT_CAPTURE="2 per minute;3 per hour"))
    Redis.from_url(own_redis.url).flushdb()
    client = app.test_client()
    try:
        answers = [client.post(f"/f/{NEWSLETTER}", json={"email": f"p{i}@acme.com"}) for i in range(3)]
        assert [a.status_code for a in answers] == [202, 202, 429]
        assert 0 < int(answers[2].headers["Retry-After"]) <= 60
        redis = Redis.from_url(own_redis.url)
        counts = {key.decode().rsplit("/", 1)[1]: int(redis.get(key)) for key in redis.keys("LIMITER/capture/*")}
        assert counts == {"minute": 3, "hour": 2}  # Flask-Limiter's rule: the refused post is not an hour's
        other = client.post(f"/f/{NEWSLETTER}", json={"email": "q@acme.com"}, environ_base={"REMOTE_ADDR": "10.1.2.3"})
        assert other.status_code == 202
    finally:
        app.extensions["leadsieve.engine"].dispose()


def test_without_redis_posts_are_stored_counted_in_memory_and_forms_read_fresh(
    settings_for, own_redis, db_session, caplog
):
    app = create_app(settings_for(RATELIMIT_CAPTURE="2 per minute"))
    client = app.test_client()
    try:
        assert client.post(f"/f/{NEWSLETTER}", json={"email": "before@acme.com"}).status_code == 202  # cached
        own_redis.stop()
        form = newsletter(db_session)
        form.settings = {**form.settings, "thank_you": "Danke!"}
        with caplog.at_level(logging.WARNING):
            db_session.commit()  # announcing the change fails: logged, never raised
            answers = [client.post(f"/f/{NEWSLETTER}", json={"email": f"down{i}@acme.com"}) for i in range(3)]
        assert [a.status_code for a in answers] == [202, 202, 429]  # counted in this process meanwhile
        assert answers[0].get_json()["message"] == "Danke!"  # read from the database, not the cache
        assert "could not announce a form change" in caplog.text
        assert "could not send the screening job of submission" in caplog.text
        fresh = create_app(settings_for())  # a process whose first post comes during the outage
        try:
            assert fresh.test_client().post(f"/f/{NEWSLETTER}", json={"email": "late@acme.com"}).status_code == 202
        finally:
            fresh.extensions["leadsieve.engine"].dispose()
        stored = submissions(db_session)
        assert [s.email for s in stored] == ["before@acme.com", "down0@acme.com", "down1@acme.com", "late@acme.com"]

        own_redis.start()  # back, and empty
        with app.app_context(), session_scope() as session:
            assert sweep(session, older_than_seconds=0) == 4  # what capture could not queue, the sweeper does
        assert sorted(queued_ids(own_redis.url)) == sorted(f"screen-{s.id}" for s in stored)
    finally:
        app.extensions["leadsieve.engine"].dispose()


def test_a_database_connection_dropped_in_the_pool_costs_the_visitor_nothing(app, client, settings, db_session):
    url = settings["DATABASE_URL"]
    if not url.startswith("postgresql"):
        pytest.skip("a SQLite connection is never dropped by a server")
    import psycopg

    assert client.post(f"/f/{NEWSLETTER}", json={"email": "first@acme.com"}).status_code == 202  # pooled now
    db_session.close()
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True) as admin:
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchone()
    assert killed and killed[0] >= 1  # a database restart, as the pool sees it: nothing pings any more
    assert client.post(f"/f/{NEWSLETTER}", json={"email": "after@acme.com"}).status_code == 202
    assert [s.email for s in submissions(db_session)] == ["first@acme.com", "after@acme.com"]


# --- the reused form answers as a new one ----------------------------------------------------------------

FIELD_NAMES = (
    "email",
    "first_name",
    "last_name",
    "company",
    "job_title",
    "phone",
    "country",
    "message",
    "consent",
    "website",
    "token",
    "utm_source",
    "referrer",
    "budget",
    "authority",
    "timeline",
    "company_size",
)
VALUES = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "y",
            "false",
            "Sam@HOOLI.com",
            "not-an-email",
            "a@b",
            "x" * 260 + "@acme.com",
            "+44 20 7946 0958",
            "12",
            "United Kingdom",
            "<b>UK</b>",
            "over_50k",
            "a million",
            "decision_maker",
            "1_10",
            "C" * 205,
            "Jose\u0301\u200b",
        ]
    ),
    st.text(max_size=12),
)
POSTS = st.lists(st.dictionaries(st.sampled_from(FIELD_NAMES), st.lists(VALUES, min_size=1, max_size=2)), max_size=4)
SETTINGS = st.sampled_from(
    [
        {},
        {"consent_text": "I agree to be contacted."},
        {"shown": ["email", "company", "phone"], "required": ["email", "company"]},
        {"shown": ["email"], "required": ["email"], "consent_text": "Yes."},
    ]
)


def snapshot(form: Any, valid: bool) -> dict[str, Any]:
    """Everything capture reads from a form after validating it."""
    return {
        "valid": valid,
        "errors": form.errors,
        "contact": form.contact_data(),
        "answers": form.answers_data(),
        "context": form.context_data(),
        "consent": form.consent.data,
        "website": form.website.data,
        "token": form.token.data,
    }


@settings(
    max_examples=120,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(kind=st.sampled_from(sorted(FORM_KINDS)), form_settings=SETTINGS, posts=POSTS)
# A valid address, then a malformed one: the first one's normalised form must not linger.
@example(kind="newsletter", form_settings={}, posts=[{"email": ["Sam@HOOLI.com"]}, {"email": ["not-an-email"]}])
def test_a_reused_form_answers_every_post_as_a_new_form_would(app, kind, form_settings, posts):
    with app.test_request_context():
        reused = build_form(kind, form_settings)
        for post in posts:
            formdata = MultiDict([(name, value) for name, values in post.items() for value in values])
            fresh = build_form(kind, form_settings, formdata)
            reused.reprocess(formdata)
            assert snapshot(reused, reused.validate()) == snapshot(fresh, fresh.validate())


def test_what_redis_refuses_after_a_send_is_logged_and_the_link_goes_on(app, own_redis, caplog):
    link = app.extensions["leadsieve.capture_link"]
    redis = Redis.from_url(own_redis.url)
    redis.hset("a-hash", "field", "value")
    with caplog.at_level(logging.WARNING):
        # Refused when it runs (EXEC answers an error for it): the answer is read at the next use.
        assert link.send([("MULTI",), ("INCR", "a-hash"), ("EXEC",)], what="job one")
        assert link.call(("PING",)) in ([b"PONG"], ["PONG"], [True])
        assert "job one failed in Redis" in caplog.text
        # Refused while queued (wrong arity): that conversation is not trusted further, a new one starts.
        assert link.send([("MULTI",), ("INCR",), ("EXEC",)], what="job two")
        assert link.send([("SET", "k", "v")], what="job three")
        assert "Redis did not confirm job two" in caplog.text
        assert link.call(("GET", "k")) in ([b"v"], ["v"])  # job three went out on the new connection
        assert "job three" not in caplog.text


def test_a_changed_limit_applies_to_the_next_post(app, client):
    app.config["RATELIMIT_CAPTURE"] = "1 per minute"
    answers = [client.post(f"/f/{NEWSLETTER}", json={"email": f"p{i}@acme.com"}).status_code for i in range(2)]
    assert answers == [202, 429]
    app.config["RATELIMIT_ENABLED"] = False
    assert client.post(f"/f/{NEWSLETTER}", json={"email": "p3@acme.com"}).status_code == 202


def test_limits_switched_off_with_a_store_of_their_own_still_start_and_store(settings_for, db_session):
    """Flask-Limiter builds no strategy when it starts disabled; the gate must not ask it for one."""
    app = create_app(settings_for(RATELIMIT_ENABLED=False, RATELIMIT_STORAGE_URI="memory://"))
    client = app.test_client()
    try:
        answers = [client.post(f"/f/{NEWSLETTER}", json={"email": f"p{i}@acme.com"}) for i in range(3)]
        assert [a.status_code for a in answers] == [202, 202, 202]
        assert [s.email for s in submissions(db_session)] == ["p0@acme.com", "p1@acme.com", "p2@acme.com"]
    finally:
        app.extensions["leadsieve.engine"].dispose()
