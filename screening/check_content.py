"""Spam content in what was typed, and the capture-time signals (honeypot, fill time, token, origin)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from screening.context import Context
from screening.model import Candidate, Finding

NAME_FIELDS = ("first_name", "last_name", "company", "job_title")
URL = re.compile(r"(https?://|hxxps?://|www\.)\S+", re.IGNORECASE)
BARE_DOMAIN = re.compile(
    r"\b[a-z0-9-]{2,}\.(com|net|org|ru|info|biz|xyz|top|io|co|online|site|shop|click)\b", re.IGNORECASE
)
HTML = re.compile(r"<\s*/?\s*[a-z][a-z0-9]*(\s[^>]*)?>|\[url=|&lt;a\s", re.IGNORECASE)
SPAM_PHRASES = [
    (re.compile(p, re.IGNORECASE), label)
    for p, label in [
        (r"\bback-?links?\b", "backlinks"),
        (r"\bseo (services?|package|expert|agency|audit)\b", "SEO services"),
        (r"\b(first|top) page (of|on) google\b", "first page of Google"),
        (r"\b(rank|ranking) your (website|site)\b", "ranking your website"),
        (r"\b(increase|boost|drive) (your )?(website )?traffic\b", "more traffic"),
        (r"\bguest ?posts?\b", "guest posts"),
        (r"\b(crypto(currency)?|bitcoin|btc|ethereum|usdt)\b", "crypto"),
        (r"\b(forex|binary options?|trading signals?)\b", "trading"),
        (r"\b(investment opportunity|guaranteed (returns?|profit)|double your)\b", "investment pitch"),
        (r"\b(payday |personal |business )?loans?\b.{0,40}\b(approv|rate|apply|offer|fast)", "loans"),
        (r"\b(casino|sports betting|online poker|online slots)\b", "gambling"),
        (r"\b(viagra|cialis|diet pills)\b", "pharma"),
        (r"\b(make|earn) (money|\$\d+)\b|\bwork from home\b", "make money"),
        (r"\b(lottery|you (have )?won|claim your prize)\b", "prize"),
        (r"\bclick here\b", "click here"),
        (r"\b(web ?design|app development) (services|company)\b", "web design pitch"),
    ]
]
# Keys next to each other on one row (QWERTY, QWERTZ, AZERTY), typed either way. The top rows need
# five keys in a row: four-key runs there are inside real names (Doherty: erty, Wertheim: wert).
TOP_ROWS = ("qwertyuiop", "qwertzuiop", "azertyuiop")
LOWER_ROWS = ("asdfghjkl", "qsdfghjklm", "zxcvbnm", "yxcvbnm", "wxcvbn")
KEYBOARD_RUNS = frozenset(
    text[i : i + size]
    for rows, size in ((TOP_ROWS, 5), (LOWER_ROWS, 4))
    for row in rows
    for text in (row, row[::-1])
    for i in range(len(text) - size + 1)
)
# Vowels by base letter, so ą, ę, ő, ů ... count (Brzęczyszczykiewicz); y too (Mkrtchyan, Llywelyn).
VOWELS = frozenset("aeiouyæøœı")
# One sound written with two or three consonants: a run counts each as one letter
# (Mkrtchyan, Kirschstein, Hengstschläger).
CONSONANT_CLUSTERS = re.compile(r"sch|ng|[cgkpstz]h|ck|[csrd]z")
# Long runs of consonants: six, with w counted as a vowel (Welsh: Llywelyn, Gwyn).
MAX_CONSONANT_RUN = 6
SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")


def _fields(candidate: Candidate) -> list[tuple[str, str]]:
    return [(name, getattr(candidate, name) or "") for name in NAME_FIELDS]


def check_links_in_fields(candidate: Candidate, context: Context) -> Iterable[Finding]:
    """Links or HTML where a name belongs: bots advertising through every input."""
    for name, value in _fields(candidate):
        label = name.replace("_", " ")
        if HTML.search(value):
            yield Finding("spam.html", "spam", 100, f"the {label} contains HTML: {value[:60]!r}")
        elif URL.search(value):
            yield Finding("spam.link_in_field", "spam", 100, f"the {label} contains a link: {value[:60]!r}")
        elif name in ("first_name", "last_name") and BARE_DOMAIN.search(value):
            # Companies may be called Booking.com and titles say ASP.NET; a person's name has no domain.
            yield Finding("spam.link_in_field", "spam", 60, f"the {label} contains a domain: {value[:60]!r}")


def check_message(candidate: Candidate, context: Context) -> Iterable[Finding]:
    """URL-stuffed or HTML messages, and well-known spam phrases."""
    message = candidate.message or ""
    if not message:
        return
    links = URL.findall(message)
    limit = context.policy.max_message_links
    if len(links) > limit:
        weight = 100 if len(links) > 2 * limit + 1 else 60
        yield Finding("spam.links", "spam", weight, f"the message holds {len(links)} links (more than {limit})")
    if HTML.search(message):
        yield Finding("spam.html", "spam", 50, "the message contains HTML or BBCode links")
    phrases = [label for pattern, label in SPAM_PHRASES if pattern.search(message)]
    if phrases:
        yield Finding(
            "spam.phrases",
            "spam",
            min(100, 35 * len(phrases)),
            f"the message uses spam phrases: {', '.join(phrases)}",
        )


def _is_vowel(c: str) -> bool:
    return unicodedata.normalize("NFD", c)[0] in VOWELS


def _gibberish(word: str) -> str | None:
    letters = [c for c in word if c.isalpha()]
    if len(letters) < 4 or URL.search(word) or BARE_DOMAIN.search(word):
        return None
    lower = "".join(letters).lower()
    if any(run in lower for run in KEYBOARD_RUNS):
        return "keyboard mashing"
    if re.search(r"(.)\1{3}", lower):
        return "one letter over and over"
    if not all(ord(c) < 0x250 for c in lower):
        return None  # consonant/vowel heuristics only hold for Latin script
    if len(lower) >= 6 and not any(_is_vowel(c) for c in lower):
        return "no vowels"
    shape = "".join("v" if c == "w" or _is_vowel(c) else "c" for c in CONSONANT_CLUSTERS.sub("c", lower))
    if "c" * MAX_CONSONANT_RUN in shape:
        return "a long run of consonants"
    # One capital inside each part is a name (McDonald-McKay, O'Brien, DeVito, MacArthur); more is noise.
    for part in re.split(r"[-'’]", word):
        part_letters = [c for c in part if c.isalpha()]
        inner_caps = sum(1 for a, b in zip(part_letters, part_letters[1:], strict=False) if a.islower() and b.isupper())
        if inner_caps >= 2:
            return "random upper/lower case"
    if any(c.isdigit() for c in word) and len(letters) >= 2:
        return "digits in a name"
    return None


def check_gibberish_names(candidate: Candidate, context: Context) -> Iterable[Finding]:
    """Keyboard mashing and random case in names: ASDFasdf, xKjQwPz."""
    for name in ("first_name", "last_name"):
        for word in (getattr(candidate, name) or "").split():
            why = _gibberish(word)
            if why:
                yield Finding(
                    "spam.gibberish",
                    "spam",
                    40,
                    f"the {name.replace('_', ' ')} {word[:40]!r} looks random ({why})",
                )
                break


def check_identical_fields(candidate: Candidate, context: Context) -> Iterable[Finding]:
    """The same text pasted into every field."""
    values = [(n, v.strip().casefold()) for n, v in _fields(candidate) if len(v.strip()) >= 2]
    if candidate.message and len(candidate.message.strip()) >= 2:
        values.append(("message", candidate.message.strip().casefold()))
    by_value: dict[str, list[str]] = {}
    for name, value in values:
        by_value.setdefault(value, []).append(name)
    for value, names in by_value.items():
        if len(names) >= 3:
            yield Finding(
                "spam.identical_fields",
                "spam",
                50,
                f"{', '.join(n.replace('_', ' ') for n in names)} all say {value[:40]!r}",
            )
        elif len(names) == 2 and set(names) == {"first_name", "last_name"} and len(value) >= 3:
            yield Finding("spam.identical_fields", "spam", 20, f"first and last name are both {value[:40]!r}")


def _scripts(word: str) -> set[str]:
    found = set()
    for c in word:
        if c.isalpha():
            name = unicodedata.name(c, "")
            for script in SCRIPTS:
                if name.startswith(script):
                    found.add(script)
    return found


def check_script_mismatch(candidate: Candidate, context: Context) -> Iterable[Finding]:
    """Latin mixed with Cyrillic or Greek inside one word: look-alike letters that dodge filters."""
    for name, value in [*_fields(candidate), ("message", candidate.message or "")]:
        for word in value.split():
            scripts = _scripts(word)
            if len(scripts) > 1:
                yield Finding(
                    "spam.mixed_script",
                    "spam",
                    40,
                    f"the {name.replace('_', ' ')} mixes {' and '.join(sorted(s.title() for s in scripts))} "
                    f"letters in one word ({word[:30]!r})",
                )
                return


def check_lengths(candidate: Candidate, context: Context) -> Iterable[Finding]:
    """Fields far longer than a name, title or message ever is."""
    policy = context.policy
    for name, value in _fields(candidate):
        if len(value) > policy.max_field_length:
            yield Finding(
                "spam.long_field",
                "spam",
                30,
                f"the {name.replace('_', ' ')} is {len(value)} characters long (limit {policy.max_field_length})",
            )
    if len(candidate.message or "") > policy.max_message_length:
        yield Finding(
            "spam.long_field",
            "spam",
            30,
            f"the message is {len(candidate.message)} characters long (limit {policy.max_message_length})",
        )


def check_capture_signals(candidate: Candidate, context: Context) -> Iterable[Finding]:
    """Honeypot, fill time, form token and origin, as capture recorded them."""
    signals = candidate.signals
    if signals.get("honeypot"):
        yield Finding("capture.honeypot", "spam", 100, "the hidden honeypot field was filled in")
    token = signals.get("token")
    if token == "forged":
        yield Finding("capture.token_forged", "spam", 60, "the form token has a bad signature (forged or tampered)")
    elif token == "wrong_form":
        yield Finding("capture.token_wrong_form", "spam", 40, "the form token was issued for a different form")
    elif token == "expired":
        yield Finding(
            "capture.token_expired",
            "uncertain",
            20,
            "the form token had expired (page open for days, or replayed)",
        )
    # A missing token alone is no finding: JSON API integrations post without one.
    fill = signals.get("fill_seconds")
    minimum = context.policy.min_fill_seconds
    if isinstance(fill, int | float) and not signals.get("token_static") and fill < minimum:
        yield Finding(
            "capture.too_fast",
            "spam",
            30,
            f"the form was filled in {fill:.1f}s (people need at least {minimum:g}s)",
        )
    if signals.get("origin_allowed") is False:
        origin = signals.get("origin") or "an unknown origin"
        yield Finding(
            "capture.origin",
            "origin",
            50,
            f"sent from {origin}, which is not on this form's allowed origins; "
            "hold until an admin adds it (or rejects the site)",
        )
