"""Reputation and velocity: blocked and allowed lists, bursts, optional DNSBL zones."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from screening.address import email_key, parse_address
from screening.bundled import parents
from screening.context import Context
from screening.identity import lead_key
from screening.model import Candidate, Finding

ALLOWLIST_CODES = frozenset({"allow.email", "allow.domain"})
# Past the default hold threshold (50), short of reject (100).
SPAM_FEEDBACK_WEIGHT = 60


def check_allowlist(candidate: Candidate, context: Context) -> Iterable[Finding]:
    """Allowed e-mails and domains (and their subdomains): they win over every other finding but syntax."""
    address = parse_address(candidate.email)
    if not address.valid:
        return
    lists = context.lists
    email = address.normalized.lower()
    entry = lists.allowed_emails.get(email_key(candidate.email))
    if entry is not None:
        yield Finding("allow.email", "allowed", 0, f"{email} is on the allowlist, {entry.provenance()}")
        return
    for domain in parents(address.domain):
        if domain in lists.allowed_domains:
            entry = lists.allowed_domains[domain]
            yield Finding("allow.domain", "allowed", 0, f"domain {domain} is on the allowlist, {entry.provenance()}")
            return


def check_blocklist(candidate: Candidate, context: Context) -> Iterable[Finding]:
    """Admin-blocked e-mails, domains (subdomains included), IPs and CIDR ranges."""
    lists = context.lists
    address = parse_address(candidate.email)
    if address.valid:
        email = address.normalized.lower()
        entry = lists.blocked_emails.get(email_key(candidate.email))
        if entry is not None:
            evidence = f"{email} is on the blocked list, {entry.provenance()}"
            yield Finding("blocked.email", "spam", 100, evidence)
        marked = lists.spam_feedback.get(lead_key(candidate.email))
        if marked is not None and entry is None:
            # Held, not rejected (below the spam category's reject threshold): a person's judgement, so
            # a reviewer looks at what this person sends next.
            yield Finding(
                "feedback.spam",
                "spam",
                SPAM_FEEDBACK_WEIGHT,
                f"sales marked this person as spam, {marked.provenance()}",
            )
        for domain in parents(address.domain):
            if domain in lists.blocked_domains:
                yield Finding(
                    "blocked.domain",
                    "spam",
                    100,
                    f"domain {domain} is on the blocked list, {lists.blocked_domains[domain].provenance()}",
                )
                break
    if candidate.ip and lists.blocked_networks:
        try:
            ip = ipaddress.ip_address(candidate.ip)
        except ValueError:
            return
        for network, entry in lists.blocked_networks:
            if ip.version == network.version and ip in network:
                what = "IP" if network.num_addresses == 1 else f"range {network}"
                yield Finding(
                    "blocked.ip",
                    "spam",
                    100,
                    f"IP {ip} is on the blocked list ({what}), {entry.provenance()}",
                )
                break


def check_velocity(candidate: Candidate, context: Context) -> Iterable[Finding]:
    """Bursts: many submissions from one IP, or one address, in a short window."""
    if context.recent_activity is None:
        return
    policy = context.policy
    window = policy.velocity_window_seconds
    minutes = max(1, window // 60)
    if candidate.ip:
        count = context.recent_activity("ip", candidate.ip, window)
        if count > policy.ip_burst:
            yield Finding(
                "velocity.ip",
                "spam",
                60,
                f"{count} submissions from IP {candidate.ip} in the last {minutes} minutes "
                f"(more than {policy.ip_burst})",
            )
    address = parse_address(candidate.email)
    if address.valid:
        count = context.recent_activity("email", address.normalized, window)
        if count > policy.email_burst:
            yield Finding(
                "velocity.email",
                "duplicate",
                50,
                f"{count} submissions from {address.normalized} in the last {minutes} minutes "
                f"(more than {policy.email_burst})",
            )


def check_dnsbl(candidate: Candidate, context: Context) -> Iterable[Finding]:
    """The submitter's IP on a configured DNS blocklist (off unless DNSBL_ZONES is set)."""
    zones = context.policy.dnsbl_zones
    if not zones or context.resolver is None or not candidate.ip:
        return
    try:
        ip = ipaddress.ip_address(candidate.ip)
    except ValueError:
        return
    if not ip.is_global and not ip.is_loopback:
        return
    if ip.version == 4:
        reversed_ip = ".".join(reversed(str(ip).split(".")))
    else:
        reversed_ip = ".".join(reversed(ip.exploded.replace(":", "")))
    for zone in zones:
        listed, detail = context.resolver.listed(f"{reversed_ip}.{zone}", deadline=context.deadline)
        if listed:
            yield Finding("dnsbl.listed", "spam", 60, f"IP {ip} is listed on {zone} ({detail})")
        elif listed is None:
            yield Finding("dnsbl.unknown", "uncertain", 0, f"could not ask {zone} about {ip}: {detail}")
