"""Company names compared the way people write them: LeadWarden = Lead Warden = lead-warden GmbH = LEADWARDEN, Inc.

`name_key` sets aside case, accents, punctuation, spacing and legal forms from many countries;
`closest` then allows a slip of one letter (two in long names) between names of six or more letters.
Never a substring: "Arrival Logistics" is not "Rival", and "Rivalry Games" is not "Rival".
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from screening.bundled import public_suffix
from screening.textnorm import fold

# Legal forms, written as their letters run together ("S.A.S." -> sas, "Sp. z o.o." -> spzoo,
# "GmbH & Co. KG" -> gmbhandcokg): a trailing run of words whose letters make one of these is dropped.
LEGAL_FORMS = frozenset(
    """
    inc incorporated llc llp lp ltd limited plc corp corporation co cos company coltd coinc colimited corpltd
    andco andcompany andcie undco etcie ycia ecia
    group holding holdings
    gmbh mbh ag kg kgaa ohg ug gbr ev eg se gmbhcokg gmbhandcokg gmbhundcokg agcokg agandcokg ugcokg gesmbh
    sa sas sasu sarl eurl sca snc sci scop selarl sadecv sapidecv sab sabdecv srldecv spa srl srls sapa sas
    bv nv vof cv cva bvba sprl
    oy oyj ab hb kb as asa aps is ans da ou
    kk gk yk
    pty ptyltd pte pteltd sdnbhd bhd tbk pvt pvtltd privatelimited
    sl slu sll
    ltda eireli
    sro spolsro vos
    spzoo spoolka spk spj
    kft zrt nyrt bt
    doo dd ad ead ood eood
    ek pc pllc
    ltdsti ltdsirketi
    ooo oao zao pao ao
    """.split()
)
# Legal forms written before the name (ООО «Ромашка», PT Maju, The Rival Group).
LEADING_FORMS = frozenset({"the", "ooo", "ооо", "оао", "зао", "пао", "ао", "ип", "тов", "пт", "pt", "cv", "uab", "sia"})
# Legal forms in scripts written without spaces, removed wherever they stand (株式会社トヨタ, トヨタ株式会社).
CJK_FORMS = (
    "股份有限公司",
    "有限责任公司",
    "有限責任公司",
    "有限公司",
    "株式会社",
    "有限会社",
    "合同会社",
    "合資会社",
    "(株)",
    "(有)",
    "주식회사",
    "유한회사",
    "(주)",
    "集团",
    "集團",
    "公司",
)
WORD = re.compile(r"[^\W_]+")
BARE_DOMAIN = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)+")
# Fuzzy matching only between names this long (letters and digits), so short names stay exact.
MIN_FUZZY = 6
LONG_NAME = 12  # from here, two slips are allowed


@functools.lru_cache(maxsize=4096)
def name_key(name: str) -> str:
    """A company name as one run of letters and digits, without legal forms: 'Lead Warden GmbH' -> 'leadwarden'."""
    text = fold(name).strip()
    if BARE_DOMAIN.fullmatch(text):
        suffix = public_suffix(text)  # booking.com -> booking, lead-warden.io -> lead-warden
        if suffix and text != suffix:
            text = text[: -len(suffix) - 1]
    for form in CJK_FORMS:
        text = text.replace(form, " ")
    text = text.replace("&", " and ").replace("+", " and ")
    words = WORD.findall(text)
    if not words:
        return ""
    kept = _without_forms(words)
    return "".join(kept or words)


def _without_forms(words: list[str]) -> list[str]:
    """Leading and trailing legal forms dropped, keeping at least one word."""
    words = list(words)
    changed = True
    while changed and len(words) > 1:
        changed = False
        for size in (5, 4, 3, 2, 1):
            if len(words) > size and "".join(words[-size:]) in LEGAL_FORMS:
                del words[-size:]
                changed = True
                break
        if len(words) > 1 and words[-1] in ("and", "und", "et", "y", "e"):
            words.pop()
            changed = True
    while len(words) > 1 and words[0] in LEADING_FORMS:
        words.pop(0)
    return words


def distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance (adjacent swaps count once), or limit + 1 once it is surely above limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous: list[int] | None = None
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + cost)
            if previous is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous, row = row, current
    return row[-1]


def allowed_slips(a: str, b: str) -> int:
    """How many letters two names may differ by: none when short, one from six letters, two from twelve."""
    shorter = min(len(a), len(b))
    if shorter < MIN_FUZZY:
        return 0
    # Numbers are part of the name (Studio 54 is not Studio 55): they must agree exactly.
    if re.sub(r"\D", "", a) != re.sub(r"\D", "", b):
        return 0
    return 2 if shorter >= LONG_NAME else 1


@dataclass(frozen=True)
class Match:
    """A listed name the company matched, and how far apart their keys are (0 = same name)."""

    listed: str
    key: str
    slips: int


def closest(company: str, listed: Iterable[str]) -> Match | None:
    """The listed name `company` is (exactly, or within the allowed slips), preferring exact matches."""
    key = name_key(company)
    if not key:
        return None
    best: Match | None = None
    for name in listed:
        other = name_key(name)
        if not other:
            continue
        if other == key:
            return Match(name, other, 0)
        limit = allowed_slips(key, other)
        if limit and (slips := distance(key, other, limit)) <= limit and (best is None or slips < best.slips):
            best = Match(name, other, slips)
    return best
