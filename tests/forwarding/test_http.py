"""One HTTP attempt against a real receiver: what is retried, Retry-After, time-outs, refused connections."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from app.forwarding.adapters import DestinationSpec, deliver, http
from app.forwarding.adapters.http import parse_retry_after
from tests.conftest import free_port
from tests.receivers import HttpReceiver, Reply


def post(target, settings, key="key-1"):
    return deliver(
        DestinationSpec(kind="webhook", target=target, secret="s"),
        {"stage": "SQL"},
        idempotency_key=key,
        settings=settings,
    )


@pytest.mark.parametrize(
    ("status", "ok", "retryable"),
    [
        (200, True, False),
        (201, True, False),
        (204, True, False),
        (500, False, True),
        (502, False, True),
        (503, False, True),
        (408, False, True),
        (429, False, True),
        (400, False, False),
        (401, False, False),
        (404, False, False),
        (410, False, False),
        (422, False, False),
        (301, False, False),
        (302, False, False),
    ],
)
def test_status_decides_success_and_retry(http_receiver, send_settings, status, ok, retryable):
    http_receiver.script(Reply(status, body=f"answer {status}", headers={"Location": "http://10.0.0.1/"}))
    result = post(http_receiver.url(), send_settings)
    assert (result.ok, result.retryable, result.status_code) == (ok, retryable, status)
    assert result.response_excerpt == ("" if status == 204 else f"answer {status}")
    assert result.latency_ms >= 0
    assert len(http_receiver.requests) == 1  # redirects are never followed
    if not ok:
        assert result.error.startswith(f"HTTP {status}")


def test_retry_after_seconds_and_http_date(http_receiver, send_settings):
    in_two_minutes = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    http_receiver.script(
        Reply(429, headers={"Retry-After": "7"}),
        Reply(503, headers={"Retry-After": in_two_minutes}),
        Reply(400, headers={"Retry-After": "7"}),
    )
    assert post(http_receiver.url(), send_settings).retry_after == 7
    assert 110 <= post(http_receiver.url(), send_settings).retry_after <= 120
    assert post(http_receiver.url(), send_settings).retry_after is None  # not retried anyway


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("0", 0),
        ("120", 120),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 60),
        ("Wed, 21 Oct 2015 07:26:00 GMT", 0),
        ("soon", None),
        ("", None),
        (None, None),
        ("-5", None),
    ],
)
def test_parse_retry_after(value, seconds):
    now = datetime(2015, 10, 21, 7, 27, tzinfo=UTC)
    assert parse_retry_after(value, now=now) == seconds


def test_timeout_is_retryable(http_receiver, send_settings):
    http_receiver.script(Reply(200, delay=1.0))
    result = post(http_receiver.url(), replace(send_settings, timeout=0.2))
    assert (result.ok, result.retryable, result.status_code) == (False, True, None)
    assert result.error == "timed out after 0.2 s"
    assert 150 <= result.latency_ms < 1000


def test_connection_refused_is_retryable(send_settings):
    result = post(f"http://127.0.0.1:{free_port()}/hook", send_settings)
    assert not result.ok and result.retryable
    assert "ConnectionRefusedError" in result.error


def test_pinned_connection_keeps_the_host_header(http_receiver, send_settings):
    """The socket goes to the checked address, the request still names the URL's host."""
    settings = replace(send_settings, allowed_private_destinations=("localhost",))
    assert post(http_receiver.url("/in?x=1", host="localhost"), settings).ok
    request = http_receiver.requests[0]
    assert request.headers["host"] == f"localhost:{http_receiver.port}"
    assert request.path == "/in?x=1"


def test_credentials_in_the_url_become_basic_auth(http_receiver, send_settings):
    url = http_receiver.url().replace("http://", "http://user:p%40ss@")
    assert post(url, send_settings).ok
    assert http_receiver.requests[0].headers["authorization"] == "Basic dXNlcjpwJTQwc3M="


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for the name localhost (openssl CLI)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_https_to_a_pinned_address_keeps_sni_and_certificate_check(certificate, send_settings):
    cert, key = certificate
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    receiver = HttpReceiver(tls=server_context).start()
    client_context = ssl.create_default_context(cafile=str(cert))
    settings = replace(send_settings, allowed_private_destinations=("localhost",))
    try:
        result = http.post(
            receiver.url(host="localhost"),
            b"{}",
            {"Idempotency-Key": "k"},
            settings=settings,
            tls_context=client_context,
        )
        assert result.ok, result.error
        assert receiver.server_names == ["localhost"]
        assert receiver.requests[0].headers["host"] == f"localhost:{receiver.port}"
        # The certificate names localhost, not 127.0.0.1: verification really uses the URL's host.
        wrong = http.post(
            receiver.url(host="127.0.0.1"),
            b"{}",
            {},
            settings=replace(send_settings, allowed_private_destinations=("127.0.0.1",)),
            tls_context=client_context,
        )
        assert not wrong.ok and wrong.retryable and "CERTIFICATE_VERIFY_FAILED" in wrong.error
    finally:
        receiver.stop()
