"""The SSRF guard: which addresses are refused, what ALLOWED_PRIVATE_DESTINATIONS lets through,
and the second check at send time."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

import pytest

from app.forwarding.adapters import BadDestination, DestinationSpec, UnsafeDestination, check_destination, deliver
from app.forwarding.adapters.ssrf import blocked_reason

BLOCKED = [
    "127.0.0.1",
    "127.8.9.10",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "0.0.0.0",
    "100.64.0.1",
    "100.100.100.200",
    "224.0.0.1",
    "239.255.255.250",
    "255.255.255.255",
    "240.0.0.1",
    "192.0.0.170",
    "198.18.0.1",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd00:ec2::254",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::7f00:1",
    "2002:7f00:1::1",
    "2002:a00:1::1",
    "2001:db8::1",
]
PUBLIC = ["93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]


@pytest.mark.parametrize("address", BLOCKED)
def test_private_and_special_addresses_are_blocked(address):
    assert blocked_reason(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address):
    assert blocked_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://169.254.169.254/latest/meta-data/",
        "https://10.0.0.5/",
        "http://[::1]:8000/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://localhost/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://0177.0.0.1/",
        "http://0/",
        "http://[fd00:ec2::254]/",
    ],
)
def test_urls_reaching_private_addresses_are_refused(url):
    with pytest.raises(UnsafeDestination, match="ALLOWED_PRIVATE_DESTINATIONS"):
        check_destination(url, [])


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/",
        "file:///etc/passwd",
        "gopher://127.0.0.1/",
        "javascript:alert(1)",
        "http:///path",
        "http://exa mple.com/",
        "http://example.com:99999/",
        "example.com/hook",
        "http://a\r\nb/",
    ],
)
def test_non_http_or_malformed_urls_are_bad(url):
    with pytest.raises(BadDestination):
        check_destination(url, [])


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:8080/hook", ["127.0.0.1"]),
        ("http://10.1.2.3/", ["10.0.0.0/8"]),
        ("http://localhost:9/", ["localhost"]),
        ("http://LOCALHOST:9/", ["localhost."]),
        ("http://[::1]:9/", ["::1"]),
        ("http://[::ffff:10.1.2.3]/", ["10.1.2.0/24"]),
        ("http://[fd00::5]/", ["fd00::/8"]),
    ],
)
def test_allowed_private_destinations(url, allowed):
    target = check_destination(url, allowed)
    assert target.addresses


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1/", ["127.0.0.2"]),
        ("http://10.1.2.3/", ["10.1.3.0/24", "localhost"]),
        ("http://169.254.169.254/", ["metadata"]),
        ("http://[::1]/", ["127.0.0.1"]),
    ],
)
def test_allowing_something_else_does_not_help(url, allowed):
    with pytest.raises(UnsafeDestination):
        check_destination(url, allowed)


def test_public_literal_passes_with_its_parts():
    target = check_destination("https://93.184.216.34/hooks/in?a=1", [])
    assert (target.scheme, target.host, target.port, target.path, target.addresses) == (
        "https",
        "93.184.216.34",
        443,
        "/hooks/in?a=1",
        ("93.184.216.34",),
    )


def test_unresolvable_host_is_bad():
    with pytest.raises(BadDestination, match="cannot resolve"):
        check_destination("http://no-such-host.invalid/", [])


def test_send_time_check_refuses_what_resolves_private_now(http_receiver, send_settings):
    """Saved while localhost was allowed; sent after it no longer is: nothing reaches the receiver."""
    url = http_receiver.url(host="localhost")
    check_destination(url, ["localhost"])
    result = deliver(
        DestinationSpec(kind="webhook", target=url),
        {},
        idempotency_key="k",
        settings=replace(send_settings, allowed_private_destinations=()),
    )
    assert not result.ok and not result.retryable
    assert result.error.startswith("refused: localhost resolves to loopback address 127.0.0.1")
    assert http_receiver.requests == []


@pytest.mark.parametrize("kind", ["webhook", "slack", "salesforce", "hubspot"])
def test_every_http_adapter_checks_at_send_time(http_receiver, send_settings, kind):
    result = deliver(
        DestinationSpec(kind=kind, target=http_receiver.url(), options={"oid": "00D"}),
        {},
        idempotency_key="k",
        settings=replace(send_settings, allowed_private_destinations=()),
    )
    assert not result.ok and result.error.startswith("refused: loopback address 127.0.0.1")
    assert http_receiver.requests == []
