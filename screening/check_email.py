"""E-mail checks: syntax, odd local parts, typo'd popular domains, disposable, free-mail, role accounts."""

from __future__ import annotations

import re
from collections.abc import Iterable

from screening import disposable
from screening.address import parse_address
from screening.bundled import freemail_domains
from screening.context import Context
from screening.model import Candidate, Finding, Stage
from screening.roles import role_of

# Sales-intent forms, where a private mailbox lowers fit.
SALES_INTENTS = frozenset({Stage.SQL})
SALES_KINDS = frozenset({"demo", "contact_sales"})

POPULAR_DOMAINS = (
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "live.com",
    "icloud.com",
    "aol.com",
    "protonmail.com",
    "proton.me",
    "gmx.de",
    "gmx.net",
    "web.de",
    "mail.ru",
    "yandex.ru",
    "qq.com",
    "163.com",
    "hotmail.co.uk",
    "yahoo.co.uk",
    "msn.com",
    "comcast.net",
    "orange.fr",
    "libero.it",
)
# Typo'd top-level domains after a popular provider name: gmail.con, yahoo.cmo, outlook.co ...
# `co` and `cm` are real TLDs, but only the exact provider name before them counts, and Microsoft's
# consumer domains are live.co.uk / outlook.co.th / hotmail.co.jp ... (the `co` is a second level
# there, so `name` below is "live.co"); no bare live.co, outlook.co nor hotmail.co mailbox exists.
TLD_TYPOS = {
    "con": "com",
    "cmo": "com",
    "ocm": "com",
    "vom": "com",
    "xom": "com",
    "comm": "com",
    "coom": "com",
    "cm": "com",
    "om": "com",
    "co": "com",
    "cim": "com",
    "clm": "com",
    "ne": "net",
    "nt": "net",
}

# Real, separately registered mail domains one letter away from a popular provider: never typos.
REAL_LOOKALIKES = frozenset({"tmail.com", "hmail.com", "fmail.com", "ymail.com", "email.com", "mail.com"})


def _one_slip(typed: str, intended: str) -> bool:
    """`typed` is `intended` with one slip of the fingers: two neighbours swapped (gmial), one letter
    left out (gmai, but never the first: mail, cloud) or one letter doubled (gmaill).

    A letter replaced by another (tmail, hmail, fmail, hotmart) is not a slip we flag: it is how
    different, real domains differ, and the DNS checks still catch a name that does not exist.
    """
    if len(typed) == len(intended):
        diffs = [i for i, (a, b) in enumerate(zip(typed, intended, strict=True)) if a != b]
        return (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and typed[diffs[0]] == intended[diffs[1]]
            and typed[diffs[1]] == intended[diffs[0]]
        )
    if len(typed) == len(intended) - 1:
        return any(intended[:i] + intended[i + 1 :] == typed for i in range(1, len(intended)))
    if len(typed) == len(intended) + 1:
        return any(typed[i] == typed[i - 1] and typed[:i] + typed[i + 1 :] == intended for i in range(1, len(typed)))
    return False


def suggest_domain(domain: str) -> str | None:
    """The popular provider a domain looks like a typo of (gmial.com -> gmail.com), or None."""
    if domain in POPULAR_DOMAINS or domain in REAL_LOOKALIKES or domain in freemail_domains():
        return None
    name, _, tld = domain.rpartition(".")
    for popular in POPULAR_DOMAINS:
        popular_name, _, popular_tld = popular.rpartition(".")
        if name == popular_name and TLD_TYPOS.get(tld) == popular_tld:
            return popular
    for popular in POPULAR_DOMAINS:
        # Only the name part may be misspelt (gmial.com); a different TLD alone is a different domain.
        popular_name, _, popular_tld = popular.rpartition(".")
        # Short names (qq, aol, mail, web) are one letter away from too many real domains.
        if tld == popular_tld and len(popular_name) >= 5 and _one_slip(name, popular_name):
            return popular
    return None


def check_syntax(candidate: Candidate, context: Context) -> Iterable[Finding]:
    """Addresses that cannot exist; DNS is not consulted here."""
    address = parse_address(candidate.email)
    if not address.valid:
        yield Finding("email.syntax", "invalid", 100, f"{candidate.email!r} is not a valid address: {address.error}")


def check_local_part(candidate: Candidate, context: Context) -> Iterable[Finding]:
    """Quoted or odd local parts are legal but almost never typed by a real person."""
    address = parse_address(candidate.email)
    if not address.valid:
        return
    if address.quoted:
        yield Finding(
            "email.quoted",
            "uncertain",
            30,
            f"the part before the @ is quoted ({address.local}), which real mailboxes rarely use",
        )
    elif re.search(r"[!#$%&'*/=?^`{|}~]", address.local) or len(address.local) > 48:
        yield Finding(
            "email.odd_local",
            "uncertain",
            20,
            f"the part before the @ ({address.local}) has unusual characters or length",
        )


def check_typo(candidate: Candidate, context: Context) -> Iterable[Finding]:
    """gmial.com, hotmial.com, gmail.con: the visitor mistyped a popular provider."""
    address = parse_address(candidate.email)
    if not address.valid:
        return
    suggestion = suggest_domain(address.domain)
    if suggestion:
        yield Finding(
            "email.typo",
            "invalid",
            60,
            f"domain {address.domain} looks like a typo of {suggestion}: did they mean {address.local}@{suggestion}?",
        )


def check_disposable(candidate: Candidate, context: Context) -> Iterable[Finding]:
    """Throw-away mailboxes on any disposable source, subdomains of a listed parent included.

    Lists also carry typo-squatted domains (gmial.com, hotmial.com): there the person mistyped a real
    address, which the typo check says with the fix, so it is not called a throw-away provider.
    """
    address = parse_address(candidate.email)
    if not address.valid:
        return
    index = disposable.index_for(context)
    listing = index.match(address.domain)
    if listing is not None and suggest_domain(address.domain) is None:
        yield Finding("email.disposable", "spam", 100, disposable.describe(listing, address.domain, index))


def check_freemail(candidate: Candidate, context: Context) -> Iterable[Finding]:
    """A private mailbox: fine for a newsletter, lower fit on a demo or contact-sales form."""
    address = parse_address(candidate.email)
    if not address.valid or address.domain not in freemail_domains():
        return
    if candidate.form_intent in SALES_INTENTS or candidate.form_kind in SALES_KINDS:
        yield Finding(
            "freemail.b2b",
            "risk",
            10,
            f"{address.domain} is a free-mail provider, on a {candidate.form_kind or 'sales'} form",
        )
    else:
        yield Finding("freemail", "risk", 0, f"{address.domain} is a free-mail provider")


def check_role(candidate: Candidate, context: Context) -> Iterable[Finding]:
    """info@, sales2@, ventas-mx@, noreply@: a shared mailbox, not a person (see screening/roles.py)."""
    address = parse_address(candidate.email)
    if not address.valid:
        return
    role = role_of(address.local)
    if role is not None:
        yield Finding(
            "role.account",
            "risk",
            10,
            f"{address.local}@ is a role address ({role.word!r}, {role.lang}): a shared mailbox, not a person",
        )
