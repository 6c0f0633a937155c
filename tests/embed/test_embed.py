"""Embedding without a browser: CORS, preflight, frame-ancestors, tokens, embed.js caching, snippets."""

from __future__ import annotations

import gzip
import re

import pytest
from sqlalchemy import select

from app.capture.tokens import issue_token
from app.cli import cli
from app.models import Form, Submission

LISTED = "https://www.example.com"
UNLISTED = "https://evil.example.net"


def test_preflight_for_an_allowed_origin(client):
    response = client.options(
        "/f/embedded",
        headers={
            "Origin": LISTED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == LISTED
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_preflight_for_an_unlisted_origin_gets_no_cors(client):
    response = client.options("/f/embedded", headers={"Origin": UNLISTED, "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize(
    ("origin", "echoed"), [(LISTED, LISTED), ("https://a.example.org", "https://a.example.org"), (UNLISTED, None)]
)
def test_post_answers_cors_only_for_listed_origins_but_stores_all(client, db_session, origin, echoed):
    response = client.post(
        "/f/embedded", data={"email": "kim@vandelay.com"}, headers={"Origin": origin, "Accept": "application/json"}
    )
    assert response.status_code == 202
    assert response.headers.get("Access-Control-Allow-Origin") == echoed
    assert "Origin" in response.headers["Vary"]
    assert db_session.scalars(select(Submission)).one().signals["origin"] == origin


def test_field_errors_and_rate_limits_carry_cors_too(client):
    response = client.post(
        "/f/embedded", data={"email": "nope"}, headers={"Origin": LISTED, "Accept": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["Access-Control-Allow-Origin"] == LISTED


def test_form_without_a_list_accepts_any_origin(client):
    response = client.get("/f/newsletter/token", headers={"Origin": UNLISTED})
    assert response.headers["Access-Control-Allow-Origin"] == UNLISTED
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]


def test_token_endpoint_issues_a_fresh_valid_token(app, client, db_session):
    response = client.get("/f/embedded/token", headers={"Origin": LISTED})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    token = response.get_json()["token"]
    client.post("/f/embedded", data={"email": "a@acme.com", "token": token})
    assert db_session.scalars(select(Submission)).one().signals["token"] == "valid"
    assert client.get("/f/no-such/token").status_code == 404


def test_iframe_page_frame_ancestors_and_parent_origin(client):
    response = client.get(f"/f/embedded/embed?parent={LISTED}&utm_source=ads&gclid=abc")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert f"frame-ancestors 'self' {LISTED} https://*.example.org" in csp
    html = response.get_data(as_text=True)
    assert f'data-parent-origin="{LISTED}"' in html
    assert 'name="utm_source" type="hidden" value="ads"' in html
    assert 'name="gclid" value="abc"' in html
    assert "embed=1" in html and "frame.js" in html


def test_iframe_never_posts_heights_to_an_unlisted_parent(client):
    html = client.get(f"/f/embedded/embed?parent={UNLISTED}").get_data(as_text=True)
    assert "data-parent-origin" not in html


def test_iframe_post_renders_thanks_inside_the_frame(client):
    response = client.post(f"/f/embedded?embed=1&parent={LISTED}", data={"email": "a@acme.com"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Thank you" in html
    assert 'class="embedded"' in html and f'data-parent-origin="{LISTED}"' in html


def test_static_token_is_long_lived_and_gives_no_fill_time(app, client, db_session):
    import time

    form_id = db_session.scalar(select(Form.id).where(Form.slug == "newsletter"))
    month_old = issue_token(app.config["SECRET_KEY"], form_id, static=True, issued_at=int(time.time()) - 30 * 86400)
    week_limit = app.config["FORM_TOKEN_MAX_AGE"]
    assert week_limit < 30 * 86400
    client.post("/f/newsletter", json={"email": "a@acme.com", "token": month_old})
    signals = db_session.scalars(select(Submission)).one().signals
    assert (signals["token"], signals["token_static"], signals["fill_seconds"]) == ("valid", True, None)


def test_embed_js_is_versioned_and_cacheable(client):
    from app.embed.routes import script_version

    version = script_version()
    response = client.get(f"/embed.js?v={version}")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert "immutable" in response.headers["Cache-Control"]
    assert response.headers["ETag"] == f'"{version}"'
    again = client.get("/embed.js", headers={"If-None-Match": f'"{version}"'})
    assert again.status_code == 304
    # What a visitor downloads (servers and CDNs gzip it): a small script, whatever it learns to do.
    assert len(gzip.compress(response.data)) < 5_000


def test_cli_prints_both_snippets(app):
    runner = app.test_cli_runner()
    script = runner.invoke(cli, ["embed", "request-demo"])
    assert script.exit_code == 0, script.output
    out = script.output
    assert re.search(
        r'<form action="http://127\.0\.0\.1:5000/f/request-demo" method="post" '
        r'data-leadsieve-form="request-demo"[^>]* lang="en" dir="ltr">',
        out,
    )
    assert '<script src="http://127.0.0.1:5000/embed.js?v=' in out and "async" in out
    assert '<noscript><a href="http://127.0.0.1:5000/f/request-demo">' in out
    assert 'name="token" value="' in out and 'name="website"' in out
    frame = runner.invoke(cli, ["embed", "request-demo", "--iframe"])
    assert '<iframe src="http://127.0.0.1:5000/f/request-demo/embed" data-leadsieve-frame' in frame.output
    assert runner.invoke(cli, ["embed", "nope"]).exit_code == 1


def test_wildcard_origin_admits_the_bare_domain_for_cors_and_framing_alike(client):
    """`https://*.example.org` lets https://example.org in through CORS, so framing must allow it too."""
    response = client.options(
        "/f/embedded", headers={"Origin": "https://example.org", "Access-Control-Request-Method": "POST"}
    )
    assert response.headers["Access-Control-Allow-Origin"] == "https://example.org"
    csp = client.get("/f/embedded/embed").headers["Content-Security-Policy"]
    sources = csp.split("frame-ancestors ", 1)[1].split(";")[0].split()
    assert sources == ["'self'", LISTED, "https://*.example.org", "https://example.org"]


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "https://leads.example.com"}, {"Referer": "https://leads.example.com/f/embedded/embed?embed=1"}],
)
def test_own_pages_behind_a_tls_proxy_count_as_allowed(app, client, db_session, headers):
    """TRUSTED_PROXY_COUNT=0 behind a TLS proxy: the request looks like http://<internal host>, but the
    hosted page and the iframe post from PUBLIC_BASE_URL's origin, which is ours."""
    app.config["PUBLIC_BASE_URL"] = "https://leads.example.com"
    response = client.post(
        "/f/embedded?embed=1", data={"email": "kim@vandelay.com"}, base_url="http://10.0.0.5:8000", headers=headers
    )
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/f/embedded/thanks/")  # relative: right behind the proxy too
    signals = db_session.scalars(select(Submission)).one().signals
    assert (signals["origin"], signals["origin_allowed"]) == ("https://leads.example.com", True)


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://www.example.com/pricing?x=1", "https://www.example.com"),
        ("https://www.example.com:443/", "https://www.example.com"),
        ("http://Example.com:80", "http://example.com"),
        ("http://127.0.0.1:8080/f/demo", "http://127.0.0.1:8080"),
        ("https://user:pw@leads.example.com/", "https://leads.example.com"),
        ("http://[::1]:5000/x", "http://[::1]:5000"),
        ("https://example.com:notaport/", None),
        ("/relative/path", None),
        ("", None),
    ],
)
def test_origin_of_states_an_origin_as_browsers_send_it(url, origin):
    from app.capture.signals import origin_of

    assert origin_of(url) == origin
