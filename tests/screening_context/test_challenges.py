"""Challenge providers and Akismet: the page renders the widget (never the secret) with a CSP that allows
only that provider, capture stores the token without calling out, and the worker asks a local fake that
speaks each provider's documented siteverify format (and Akismet's comment-check)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select

from app.jobs import screen_submission
from app.models import Finding, Form, Submission
from tests.conftest import free_port
from tests.receivers import HttpReceiver, Reply

PROVIDERS = {
    "turnstile": ("cf-turnstile-response", "CHALLENGE_VERIFY_URL_TURNSTILE", "challenges.cloudflare.com"),
    "hcaptcha": ("h-captcha-response", "CHALLENGE_VERIFY_URL_HCAPTCHA", "hcaptcha.com"),
    "recaptcha_v3": ("g-recaptcha-response", "CHALLENGE_VERIFY_URL_RECAPTCHA", "www.google.com/recaptcha/"),
}
SECRET = "0x4AAAAAAA-very-secret-key"


@pytest.fixture
def verifier(app):
    """A fake siteverify/Akismet server; every provider URL and Akismet point at it."""
    receiver = HttpReceiver().start()
    config = app.config
    for name, (_field, setting, _origin) in PROVIDERS.items():
        config[setting] = receiver.url(f"/{name}/siteverify")
    config["AKISMET_URL"] = receiver.url("/1.1/comment-check")
    config["AKISMET_API_KEY"] = "akismet-key"
    config["CHALLENGE_TIMEOUT_SECONDS"] = 1.0
    yield receiver
    receiver.stop()


def _use(session, provider: str, *, slug: str = "request-demo", akismet: bool = False, min_score=0.5) -> Form:
    form = session.scalars(select(Form).where(Form.slug == slug)).one()
    settings = dict(form.settings)
    if provider:
        settings["challenge"] = {
            "provider": provider,
            "site_key": "site-key-1",
            "secret": SECRET,
            "min_score": min_score,
        }
    settings["akismet"] = akismet
    form.settings = settings
    session.commit()
    return form


def _submit(session, form: Form, raw: dict, *, message: str = "") -> int:
    submission = Submission(
        form_id=form.id,
        email="jane.doe@example.com",
        first_name="Jane",
        last_name="Doe",
        company="Example",
        message=message,
        ip="203.0.113.9",
        raw=raw,
        signals={},
    )
    session.add(submission)
    session.commit()
    return submission.id


def _screen(app, session, submission_id: int) -> tuple[Submission, dict[str, Finding]]:
    with app.app_context():
        screen_submission(submission_id)
    session.expire_all()
    findings = session.scalars(select(Finding).where(Finding.submission_id == submission_id)).all()
    return session.get(Submission, submission_id), {f.code: f for f in findings}


def _answer(**body) -> Reply:
    return Reply(200, json.dumps(body), {"Content-Type": "application/json"})


@pytest.mark.parametrize("provider", PROVIDERS)
def test_passed_challenge_is_accepted_and_posted_in_the_documented_format(app, db_session, verifier, provider):
    field = PROVIDERS[provider][0]
    form = _use(db_session, provider)
    verifier.script(_answer(success=True, score=0.9, action="submit", **{"error-codes": []}))
    submission, findings = _screen(app, db_session, _submit(db_session, form, {field: "token-abc"}))
    assert submission.verdict == "accepted"
    assert not [c for c in findings if c.startswith("challenge.")]
    (request,) = verifier.requests
    assert request.path == f"/{provider}/siteverify"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.body.decode()) == {
        "secret": [SECRET],
        "response": ["token-abc"],
        "remoteip": ["203.0.113.9"],
    }
    # A re-screen reuses the answer: tokens are single-use, asking again would say "duplicate".
    assert submission.signals["challenge_result"]["outcome"] == "passed"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_forged_token_is_rejected_as_spam(app, db_session, verifier, provider):
    form = _use(db_session, provider)
    verifier.script(_answer(success=False, **{"error-codes": ["invalid-input-response"]}))
    submission, findings = _screen(app, db_session, _submit(db_session, form, {PROVIDERS[provider][0]: "forged"}))
    assert (submission.verdict, submission.reason_category) == ("rejected", "spam")
    assert findings["challenge.failed"].evidence.endswith("refused the token (invalid-input-response)")


def test_failure_without_a_token_fault_code_holds_rather_than_rejects(app, db_session, verifier):
    form = _use(db_session, "hcaptcha")
    verifier.script(_answer(success=False, **{"error-codes": ["bad-request"]}))
    submission, findings = _screen(app, db_session, _submit(db_session, form, {"h-captcha-response": "x"}))
    assert (submission.verdict, submission.reason_category) == ("held", "spam")
    assert findings["challenge.failed"].weight < 100


def test_recaptcha_low_score_is_held(app, db_session, verifier):
    form = _use(db_session, "recaptcha_v3", min_score=0.7)
    verifier.script(_answer(success=True, score=0.3, action="submit"))
    submission, findings = _screen(app, db_session, _submit(db_session, form, {"g-recaptcha-response": "t"}))
    assert (submission.verdict, submission.reason_category) == ("held", "spam")
    assert "scored the visitor 0.3 (below the form's 0.7)" in findings["challenge.low_score"].evidence


def test_recaptcha_score_at_the_mark_passes(app, db_session, verifier):
    form = _use(db_session, "recaptcha_v3", min_score=0.5)
    verifier.script(_answer(success=True, score=0.5, action="submit"))
    submission, _ = _screen(app, db_session, _submit(db_session, form, {"g-recaptcha-response": "t"}))
    assert submission.verdict == "accepted"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_provider_outage_is_held_as_unknown_never_rejected(app, db_session, verifier, provider):
    form = _use(db_session, provider)
    verifier.script(503)
    submission, findings = _screen(app, db_session, _submit(db_session, form, {PROVIDERS[provider][0]: "t"}))
    assert (submission.verdict, submission.reason_category) == ("held", "uncertain")
    assert "HTTP 503" in findings["challenge.unknown"].evidence
    assert "challenge_result" not in (submission.signals or {})  # asked again when re-screened


def test_refused_connection_is_held_as_unknown(app, db_session, verifier):
    app.config["CHALLENGE_VERIFY_URL_TURNSTILE"] = f"http://127.0.0.1:{free_port()}/siteverify"  # nobody listens
    form = _use(db_session, "turnstile")
    submission, findings = _screen(app, db_session, _submit(db_session, form, {"cf-turnstile-response": "t"}))
    assert (submission.verdict, submission.reason_category) == ("held", "uncertain")
    assert "challenge.unknown" in findings


@pytest.mark.parametrize("provider", PROVIDERS)
def test_missing_token_on_a_form_that_asks_for_one_is_held(app, db_session, verifier, provider):
    form = _use(db_session, provider)
    submission, findings = _screen(app, db_session, _submit(db_session, form, {}))
    assert (submission.verdict, submission.reason_category) == ("held", "spam")
    assert "challenge.missing" in findings
    assert verifier.requests == []


def test_form_without_a_provider_asks_nobody(app, db_session, verifier):
    form = _use(db_session, "")
    submission, findings = _screen(app, db_session, _submit(db_session, form, {"cf-turnstile-response": "t"}))
    assert submission.verdict == "accepted" and verifier.requests == []


@pytest.mark.parametrize(
    ("reply", "verdict", "code"),
    [
        (Reply(200, "true"), "held", "akismet.spam"),
        (Reply(200, "true", {"X-akismet-pro-tip": "discard"}), "rejected", "akismet.spam"),
        (Reply(200, "false"), "accepted", None),
        (Reply(200, "invalid", {"X-akismet-debug-help": "bad key"}), "held", "akismet.unknown"),
        (Reply(503, "down"), "held", "akismet.unknown"),
    ],
)
def test_akismet_checks_the_message(app, db_session, verifier, reply, verdict, code):
    form = _use(db_session, "", akismet=True)
    verifier.script(reply)
    submission_id = _submit(db_session, form, {}, message="Please send a quote for 40 seats.")
    submission, findings = _screen(app, db_session, submission_id)
    assert submission.verdict == verdict
    assert [c for c in findings if c.startswith("akismet.")] == ([code] if code else [])
    (request,) = verifier.requests
    sent = parse_qs(request.body.decode())
    assert sent["api_key"] == ["akismet-key"]
    assert sent["comment_content"] == ["Please send a quote for 40 seats."]
    assert sent["comment_author_email"] == ["jane.doe@example.com"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_page_renders_the_widget_never_the_secret_and_csp_allows_only_that_provider(app, client, db_session, provider):
    _use(db_session, provider)
    origin = PROVIDERS[provider][2]
    for path in ("/f/request-demo", "/f/request-demo/embed"):
        page = client.get(path)
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "site-key-1" in html and SECRET not in html
        assert origin in html
        csp = page.headers["Content-Security-Policy"]
        script_src = next(d for d in csp.split("; ") if d.startswith("script-src"))
        assert origin.split("/")[0].removeprefix("www.") in script_src
        assert "frame-src" in csp
    other = client.get("/f/newsletter")
    assert other.status_code == 200
    assert "site-key-1" not in other.get_data(as_text=True)
    assert origin.split("/")[0] not in other.headers["Content-Security-Policy"]
    assert "frame-src" not in other.headers["Content-Security-Policy"]


def test_capture_stores_the_token_without_calling_the_provider(app, client, db_session, verifier):
    _use(db_session, "turnstile", slug="newsletter")
    assert 'class="cf-turnstile"' in client.get("/f/newsletter").get_data(as_text=True)
    answer = client.post("/f/newsletter", data={"email": "jane.doe@example.com", "cf-turnstile-response": "tok-1"})
    assert answer.status_code in (200, 303), answer.get_data(as_text=True)
    assert verifier.requests == []
    stored = db_session.scalars(select(Submission).order_by(Submission.id.desc())).first()
    assert stored.raw["cf-turnstile-response"] == "tok-1"


def test_form_editor_stores_the_challenge_and_never_shows_the_secret(app, admin, db_session):
    from tests.helpers import csrf_from

    data = {
        "name": "Guarded demo",
        "slug": "guarded-demo",
        "kind": "demo",
        "active": "y",
        "shown": ["email"],
        "required": ["email"],
        "challenge_provider": "recaptcha_v3",
        "challenge_site_key": "site-key-9",
        "challenge_secret": SECRET,
        "challenge_min_score": "0.7",
        "akismet": "y",
        "csrf_token": csrf_from(admin.get("/admin/forms/new").get_data(as_text=True)),
    }
    response = admin.post("/admin/forms/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    form = db_session.scalars(select(Form).where(Form.slug == "guarded-demo")).one()
    assert form.settings["challenge"] == {
        "provider": "recaptcha_v3",
        "site_key": "site-key-9",
        "secret": SECRET,
        "min_score": 0.7,
    }
    assert form.settings["akismet"] is True
    page = admin.get(f"/admin/forms/{form.id}").get_data(as_text=True)
    assert "site-key-9" in page and SECRET not in page
    # Saved again with the secret left empty: the stored one is kept.
    data["csrf_token"] = csrf_from(page)
    data["challenge_secret"] = ""
    assert admin.post(f"/admin/forms/{form.id}", data=data).status_code == 302
    db_session.expire_all()
    assert db_session.get(Form, form.id).settings["challenge"]["secret"] == SECRET
    # A provider without a site key is refused.
    data["challenge_site_key"] = ""
    assert admin.post(f"/admin/forms/{form.id}", data=data).status_code == 400
