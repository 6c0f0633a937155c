"""Spam phrases in many languages, matched on text with the usual disguises taken off.

The phrases live in `screening/data/spam_phrases.txt` (`lang<TAB>category<TAB>strength<TAB>pattern`) and
are compiled once per process, one alternation per (lang, category, strength). Text is folded
(screening/textnorm.py) and de-obfuscated first: zero-width characters, "w h a t s a p p",
"t[.]me", look-alike Cyrillic letters inside Latin words, and a leetspeak reading ("b1tc0in").
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from urllib.parse import urlsplit

from screening.errors import ScreeningError
from screening.textnorm import fold, fold_letters

STRENGTHS = {"strong": 60, "medium": 40, "weak": 25}
CATEGORY_LABELS = {
    "seo": "SEO/backlinks pitch",
    "crypto": "crypto/investment pitch",
    "loans": "loan/credit offer",
    "invoice": "invoice/payment demand",
    "adult": "adult/dating",
    "self_promo": "self-promotion (channel, subscribe, likes)",
    "messenger": "messenger contact pitch",
    "cold_pitch": "cold sales pitch",
    "gambling": "casino/betting",
    "pharma": "pharma",
    "scam": "scam",
}
# Languages written without spaces between words, or with prefixes attached to words (Arabic "و", "ال"):
# their patterns match anywhere; every other language's only match whole words.
UNBOUNDED = frozenset({"zh", "ja", "ko", "ar"})
# Each further phrase of a category adds this much to the category's strongest phrase, up to the cap.
EXTRA_PHRASE = 15
CATEGORY_CAP = 100


class SpamListError(ScreeningError):
    """The bundled phrase list has a line that is not `lang<TAB>category<TAB>strength<TAB>pattern`."""


@dataclass(frozen=True)
class Group:
    """One compiled alternation: every pattern of a language, category and strength."""

    lang: str
    category: str
    strength: str
    regex: re.Pattern[str]


@dataclass(frozen=True)
class Hit:
    """A phrase found in a field: what it said, and which list line group matched it."""

    field: str
    phrase: str
    lang: str
    category: str
    strength: str
    start: int
    end: int

    @property
    def weight(self) -> int:
        """The strength as a weight (strong 60, medium 40, weak 25)."""
        return STRENGTHS[self.strength]


def parse_lines(text: str) -> list[tuple[str, str, str, str]]:
    """(lang, category, strength, pattern) rows of a phrase list; raises SpamListError naming a bad line."""
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 4 or parts[1] not in CATEGORY_LABELS or parts[2] not in STRENGTHS or not parts[3]:
            raise SpamListError(f"spam_phrases.txt line {number}: expected lang, category, strength, pattern")
        rows.append((parts[0], parts[1], parts[2], parts[3]))
    return rows


def compile_groups(rows: Iterable[tuple[str, str, str, str]]) -> tuple[Group, ...]:
    """One regular expression per (lang, category, strength); patterns folded like the text they meet."""
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for lang, category, strength, pattern in rows:
        grouped.setdefault((lang, category, strength), []).append(fold_letters(pattern))
    groups = []
    for (lang, category, strength), patterns in grouped.items():
        body = "|".join(f"(?:{p})" for p in patterns)
        source = body if lang in UNBOUNDED else rf"(?<!\w)(?:{body})(?!\w)"
        try:
            groups.append(Group(lang, category, strength, re.compile(source)))
        except re.error as exc:
            raise SpamListError(f"spam_phrases.txt: a {lang} {category} pattern does not compile: {exc}") from exc
    return tuple(groups)


@functools.cache
def phrase_groups() -> tuple[Group, ...]:
    """The bundled phrase list, compiled once per process (the worker preloads it)."""
    text = resources.files("screening.data").joinpath("spam_phrases.txt").read_text(encoding="utf-8")
    return compile_groups(parse_lines(text))


# ---- de-obfuscation

# Cyrillic and Greek letters drawn like Latin ones, swapped into Latin words to dodge filters (Whаtsapp).
CONFUSABLES = str.maketrans(
    {
        "а": "a",
        "е": "e",
        "о": "o",
        "р": "p",
        "с": "c",
        "х": "x",
        "у": "y",
        "і": "i",
        "ј": "j",
        "ѕ": "s",
        "к": "k",
        "м": "m",
        "т": "t",
        "в": "b",
        "н": "h",
        "ο": "o",
        "α": "a",
        "ν": "v",
        "ρ": "p",
        "τ": "t",
        "ι": "i",
        "κ": "k",
    }
)
LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
LATIN = re.compile(r"[a-z]")
CYRILLIC_OR_GREEK = re.compile(r"[\u0370-\u03ff\u0400-\u04ff]")
# Four or more single letters with one separator between each: w h a t s a p p, c.a.s.i.n.o, v-i-a-g-r-a.
SPACED_LETTERS = re.compile(r"(?<!\w)(?:[^\W\d_][ .\-_*·•|]){3,}[^\W\d_](?!\w)")
DOT_WORD = re.compile(r"\s*[\[({]\s*(?:\.|dot|punto|punkt|point)\s*[\])}]\s*|(?<=\w) dot (?=[a-z]{2,4}\b)")
SPACES = re.compile(r"\s+")
TOKEN = re.compile(r"\S+")


def _unspaced(match: re.Match[str]) -> str:
    return re.sub(r"[ .\-_*·•|]", "", match.group(0))


def _latinised(match: re.Match[str]) -> str:
    word = match.group(0)
    if LATIN.search(word) and CYRILLIC_OR_GREEK.search(word):
        return word.translate(CONFUSABLES)
    return word


def _leet(match: re.Match[str]) -> str:
    word = match.group(0)
    letters = sum(c.isalpha() for c in word)
    if letters >= 2 and re.search(r"[a-z][0134579@$]|[0134579@$][a-z]", word):
        return word.translate(LEET)
    return word


def normalise(text: str) -> str:
    """Folded, de-obfuscated text on one line: what the phrase patterns are written against."""
    text = SPACES.sub(" ", fold(text)).strip()
    text = TOKEN.sub(_latinised, text)
    text = DOT_WORD.sub(".", text)
    return SPACED_LETTERS.sub(_unspaced, text)


def readings(text: str) -> tuple[str, ...]:
    """The normalised text, and its leetspeak reading when that differs (same length, so spans agree)."""
    plain = normalise(text)
    leet = TOKEN.sub(_leet, plain)
    return (plain,) if leet == plain else (plain, leet)


def find_phrases(field: str, text: str) -> list[Hit]:
    """Every phrase in `text`, in reading order, leaving out matches that lie inside a stronger or longer one."""
    if not text:
        return []
    hits = []
    for reading in readings(text):
        for group in phrase_groups():
            for m in group.regex.finditer(reading):
                if m.end() > m.start():
                    hits.append(Hit(field, m.group(0), group.lang, group.category, group.strength, m.start(), m.end()))
    # Strongest first, then longest; a match lying wholly inside a kept one ("backlinks" inside
    # "dofollow backlinks", or the same words in the leetspeak reading) is the same phrase again.
    hits.sort(key=lambda h: (-h.weight, -(h.end - h.start), h.start))
    kept: list[Hit] = []
    for hit in hits:
        if not any(k.start <= hit.start and hit.end <= k.end for k in kept):
            kept.append(hit)
    return sorted(kept, key=lambda h: h.start)


def category_weight(hits: list[Hit]) -> int:
    """The strongest phrase's weight, plus EXTRA_PHRASE for each further distinct phrase, capped."""
    distinct = {h.phrase for h in hits}
    return min(CATEGORY_CAP, max(h.weight for h in hits) + EXTRA_PHRASE * (len(distinct) - 1))


# ---- links

# Links: a scheme or www., or a host with a path (youtube.com/watch?v=…, t.me/name).
LINK = re.compile(
    r"(?:(?:https?|hxxps?)://|www\.)[^\s<>\"']+|(?<![\w@.])(?:[a-z0-9-]+\.)+[a-z]{2,}/[^\s<>\"']*",
    re.IGNORECASE,
)
SHORTENERS = frozenset(
    "bit.ly tinyurl.com goo.gl t.co ow.ly is.gd cutt.ly rb.gy shorturl.at tiny.cc rebrand.ly s.id "
    "clck.ru u.to buff.ly bl.ink short.io lnkd.in linktr.ee bio.link beacons.ai urlz.fr qr.ae v.gd".split()
)
VIDEO_SOCIAL = frozenset(
    "youtube.com youtu.be m.youtube.com tiktok.com vm.tiktok.com twitch.tv instagram.com vimeo.com "
    "rumble.com dailymotion.com soundcloud.com open.spotify.com kick.com onlyfans.com patreon.com "
    "facebook.com fb.watch x.com twitter.com snapchat.com pinterest.com vk.com ok.ru bilibili.com "
    "douyin.com rutube.ru dzen.ru".split()
)
MESSENGERS = frozenset(
    "t.me telegram.me telegram.dog wa.me api.whatsapp.com chat.whatsapp.com whatsapp.com viber.click "
    "invite.viber.com u.wechat.com weixin.qq.com line.me lin.ee qm.qq.com discord.gg discord.com "
    "signal.me m.me".split()
)


@dataclass(frozen=True)
class Link:
    """A link in free text, its host, and what kind of host it is (shortener, video/social, messenger, '')."""

    url: str
    host: str
    kind: str


def _host(url: str) -> str:
    target = url if "://" in url else f"http://{url}"
    try:
        host = urlsplit(target.replace("hxxp", "http", 1)).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def _kind(host: str) -> str:
    for kind, hosts in (("messenger", MESSENGERS), ("shortener", SHORTENERS), ("video/social", VIDEO_SOCIAL)):
        if host in hosts or any(host.endswith("." + h) for h in hosts):
            return kind
    return ""


def find_links(text: str) -> list[Link]:
    """Links in normalised text (so t[.]me/x and w w w . x . c o m count), each with its host's kind."""
    links = []
    for m in LINK.finditer(normalise(text)):
        url = m.group(0).rstrip(".,;:!?)]}")
        host = _host(url)
        if host:
            links.append(Link(url, host, _kind(host)))
    return links
