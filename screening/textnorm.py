"""Folding text into the one form screening compares: case, width, accents and look-alike letters set aside.

Roles, company names and spam phrases are all written plainly in `screening/data/` and compared
after the same `fold`, so "Société", "SOCIETE" and "ｓｏｃｉéｔé" meet, and Arabic or Turkish
spellings that differ only in hamza, dotless i or diacritics do too.
"""

from __future__ import annotations

import unicodedata

# Letters that do not decompose into a base letter plus a mark, folded by hand; and the Arabic
# spellings of one letter that people and spammers use interchangeably.
LETTERS = str.maketrans(
    {
        "ł": "l",
        "ø": "o",
        "æ": "ae",
        "œ": "oe",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "ı": "i",
        "ħ": "h",
        "ŀ": "l",
        "’": "'",
        "‘": "'",
        "ʼ": "'",
        "`": "'",
        "´": "'",
        "«": '"',
        "»": '"',
        "“": '"',
        "”": '"',
        "„": '"',
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ی": "ي",
        "ة": "ه",
        "ک": "ك",
        "ـ": "",  # tatweel, the Arabic stretching stroke
    }
)
# Japanese voicing marks are letters' identities (か vs が), not accents: kept.
KEEP_MARKS = frozenset("\u3099\u309a")


def strip_marks(text: str) -> str:
    """Accents and other combining marks removed (é -> e, й -> и, Arabic harakat), Hangul kept whole."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in decomposed if c in KEEP_MARKS or not unicodedata.combining(c))
    return unicodedata.normalize("NFC", kept)


def fold(text: str) -> str:
    """NFKC, casefold, no accents, hand-folded letters, no invisible format characters (zero-width, bidi)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = strip_marks(text).translate(LETTERS)
    return "".join(c for c in text if unicodedata.category(c) != "Cf")


def fold_letters(text: str) -> str:
    """`fold` without case folding or NFKC: for regular expressions, whose escapes (\\S, \\W) are case-sensitive."""
    return strip_marks(text).translate(LETTERS)
