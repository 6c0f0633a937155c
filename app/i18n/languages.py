"""The languages visitors can be served in, and how one is chosen. Pure: no Flask.

A form either fixes its language or follows the visitor's browser (`Accept-Language`); a browser
asking only for languages without a catalogue gets English, the language the strings are written in.
"""

from __future__ import annotations

from collections.abc import Iterable

DEFAULT = "en"
# Code -> the language's own name (what the form editor lists). Each has a catalogue in app/translations.
LANGUAGES: dict[str, str] = {
    "en": "English",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
    "pt": "Português",
    "it": "Italiano",
    "nl": "Nederlands",
    "ja": "日本語",
    "ar": "العربية",
}
# Written right to left: the page gets dir="rtl" and the layout (logical CSS properties) mirrors.
RTL = frozenset({"ar", "he", "fa", "ur"})


def direction(code: str) -> str:
    """`rtl` or `ltr` for a language code (`ar`, `ar_EG`, `ar-EG`)."""
    return "rtl" if primary(code) in RTL else "ltr"


def primary(code: str) -> str:
    """The language part of a tag: `pt` of `pt-BR` / `pt_BR`, lower-cased."""
    return code.replace("_", "-").split("-", 1)[0].lower()


def supported(code: str) -> str:
    """The catalogue's code for a tag we have (`de` for `de-AT`), else ""."""
    code = primary(code or "")
    return code if code in LANGUAGES else ""


def choose(fixed: str, accepted: Iterable[tuple[str, float]]) -> str:
    """The page's language: the form's fixed one if we have it, else the visitor's most preferred language
    we have (`accepted` as (tag, quality) pairs, any order), else English."""
    if language := supported(fixed):
        return language
    for tag, quality in sorted(accepted, key=lambda pair: -pair[1]):
        if quality > 0 and (language := supported(tag)):
            return language
    return DEFAULT
