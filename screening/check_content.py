"""Spam content in what was typed, and the capture-time signals (honeypot, fill time, token, origin)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from screening import spam
from screening.context import Context
from screening.model import Candidate, Finding

NAME_FIELDS = ("first_name", "last_name", "company", "job_title")
URL = re.compile(r"(https?://|hxxps?://|www\.)\S+", re.IGNORECASE)
BARE_DOMAIN = re.compile(
    r"\b[a-z0-9-]{2,}\.(com|net|org|ru|info|biz|xyz|top|io|co|online|site|shop|click)\b", re.IGNORECASE
)
HTML = re.compile(r"<\s*/?\s*[a-z][a-z0-9]*(\s[^>]*)?>|\[url=|&lt;a\s", re.IGNORECASE)
# Forms whose message field is required: there a link to the sender's own site is ordinary. Everywhere
# else the message is optional (demo) or not shown at all (download, webinar, newsletter; batch rows),
# so a link in it was volunteered, which bots do and buyers rarely do (forms/kinds.py REQUIRED).
MESSAGE_REQUIRED_KINDS = frozenset({"contact_sales"})
# Free-text fields searched for spam phrases. The company and job title are left out: "Telegram",
# "Casino Royale Hotel" and "SEO Specialist" are what people are called, not what they pitch.
PHRASE_FIELDS = ("message", "first_name", "last_name")
# Weights of the link signals in a message (each weak alone; any two together reach the hold threshold).
OPTIONAL_MESSAGE_LINK = 30
LINK_KIND_WEIGHTS = {"messenger": 60, "shortener": 40, "video/social": 40}
ONLY_A_LINK = 20
ONLY_A_LINK_LETTERS = 12
GIBBERISH_TEXT = 40
GIBBERISH_COMPANY = 25
# A first name of five letters or more, then a capital and one to three letters: RobertTob, JamesFub.
BOT_TAIL = re.compile(r"[A-Z][a-z]{4,}[A-Z][a-z]{1,3}")
BOT_TAIL_WEIGHT = 30
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
    """URL-stuffed or HTML messages; a link volunteered in an optional message; links to messengers,
    shorteners and video or social profiles; a message that is nothing but a link."""
    message = candidate.message or ""
    if not message.strip():
        return
    links = spam.find_links(message)
    limit = context.policy.max_message_links
    if len(links) > limit:
        weight = 100 if len(links) > 2 * limit + 1 else 60
        yield Finding("spam.links", "spam", weight, f"the message holds {len(links)} links (more than {limit})")
    elif links and candidate.form_kind not in MESSAGE_REQUIRED_KINDS:
        form = f"{candidate.form_kind.replace('_', ' ')} form" if candidate.form_kind else "form"
        yield Finding(
            "spam.message_link",
            "spam",
            OPTIONAL_MESSAGE_LINK,
            f"the message volunteers a link on a {form} where the message is optional: {links[0].url[:80]}",
        )
    kinds = {link.kind: link for link in links if link.kind}
    for kind, link in kinds.items():
        yield Finding(
            "spam.link_host",
            "spam",
            LINK_KIND_WEIGHTS[kind],
            f"the message links to {link.host} ({kind}): {link.url[:80]}",
        )
    # Letters and digits left once the links are out (counted, not split on spaces: Chinese has none).
    if links and sum(c.isalnum() for c in spam.LINK.sub(" ", spam.normalise(message))) < ONLY_A_LINK_LETTERS:
        yield Finding("spam.only_link", "spam", ONLY_A_LINK, "the message is a link and (almost) nothing else")
    if HTML.search(message):
        yield Finding("spam.html", "spam", 50, "the message contains HTML or BBCode links")


def check_phrases(candidate: Candidate, context: Context) -> Iterable[Finding]:
    """Spam phrases in many languages (screening/data/spam_phrases.txt), one finding per category.

    A strong phrase holds on its own; further phrases of the category add up, and phrases of
    several categories together reach the reject threshold.
    """
    by_category: dict[str, list[spam.Hit]] = {}
    for name in PHRASE_FIELDS:
        for hit in spam.find_phrases(name, getattr(candidate, name) or ""):
            by_category.setdefault(hit.category, []).append(hit)
    for category, hits in by_category.items():
        quoted = ", ".join(
            f"{h.phrase[:60]!r} ({h.lang}, {h.strength}"
            + ("" if h.field == "message" else f", in the {h.field.replace('_', ' ')}")
            + ")"
            for h in hits[:6]
        )
        yield Finding(
            "spam.phrases",
            "spam",
            spam.category_weight(hits),
            f"{spam.CATEGORY_LABELS[category]}: {quoted}",
        )


def _is_vowel(c: str) -> bool:
    return unicodedata.normalize("NFD", c)[0] in VOWELS


def _gibberish(word: str, *, random_case: bool = True, digits: bool = True) -> str | None:
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
    if not random_case:
        return None
    # One capital inside each part is a name (McDonald-McKay, O'Brien, DeVito, MacArthur); more is noise.
    for part in re.split(r"[-'’]", word):
        part_letters = [c for c in part if c.isalpha()]
        inner_caps = sum(1 for a, b in zip(part_letters, part_letters[1:], strict=False) if a.islower() and b.isupper())
        if inner_caps >= 2:
            return "random upper/lower case"
    if digits and any(c.isdigit() for c in word) and len(letters) >= 2:
        return "digits in a name"
    return None


def check_gibberish_names(candidate: Candidate, context: Context) -> Iterable[Finding]:
    """Keyboard mashing and random case in names: ASDFasdf, xKjQwPz; and bot names made of a first name
    and a short capitalised tail (RobertTob, JamesFub), which real names joined by a capital are not
    (McDonald, DeShawn, MaryAnn: the part before the capital is short)."""
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
            if BOT_TAIL.fullmatch(word):
                yield Finding(
                    "spam.gibberish",
                    "spam",
                    BOT_TAIL_WEIGHT,
                    f"the {name.replace('_', ' ')} {word[:40]!r} looks like a first name with a random tail",
                )
                break


def _random_words(text: str, *, random_case: bool) -> list[tuple[str, str]]:
    """(word, why) for the words of free text that look typed at random; acronyms (CRM, HTTPS) are words."""
    found = []
    for raw in text.split():
        word = raw.strip(".,;:!?()[]{}\"'«»")
        if not word or word.isupper() or URL.search(word) or BARE_DOMAIN.search(word):
            continue
        why = _gibberish(word, random_case=random_case, digits=False)
        if why:
            found.append((word, why))
    return found


def check_gibberish_text(candidate: Candidate, context: Context) -> Iterable[Finding]:
    """Bot filler in the message (nVjgcMRzqLUTdr, sdfghjk) or a company typed at random (Xkcdjfq Ltd).

    A message counts when it is short and random, or when several of its words are; a company only for
    keyboard runs, repeats and consonant runs (never for its capitals: HubSpotCRM is a brand).
    """
    message = candidate.message or ""
    words = [w for w in message.split() if sum(c.isalpha() for c in w) >= 4]
    random_words = _random_words(message, random_case=True)
    if random_words and (len(words) <= 3 or len(random_words) >= max(3, len(words) // 2)):
        word, why = random_words[0]
        yield Finding(
            "spam.gibberish_text",
            "spam",
            GIBBERISH_TEXT,
            f"the message looks typed at random: {word[:40]!r} ({why})"
            + (f" and {len(random_words) - 1} more such words" if len(random_words) > 1 else ""),
        )
    company = _random_words(candidate.company or "", random_case=False)
    if company:
        word, why = company[0]
        yield Finding(
            "spam.gibberish",
            "spam",
            GIBBERISH_COMPANY,
            f"the company {candidate.company[:40]!r} looks random ({word[:40]!r}: {why})",
        )


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
