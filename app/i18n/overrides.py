"""A form's own texts per language (`Form.translations`), and the editor's text form of them. Pure.

Stored as `{"de": {"title": "…", "label.email": "…"}, …}`. The editor shows one line per text,
`de.title = Demo anfordern`, `de.label.email = Geschäftliche E-Mail`: labels are keyed on the
field's key, so they follow a field wherever the form puts it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from app.i18n.languages import LANGUAGES

# The form's own texts a language may replace; labels are `label.<field key>`.
TEXT_KEYS = ("title", "intro", "button", "thank_you", "email_subject", "email_body")
LABEL_PREFIX = "label."
_LINE = re.compile(r"^\s*([A-Za-z]{2,3})\.([a-z_]+(?:\.[a-z][a-z0-9_]{0,63})?)\s*=\s*(.*?)\s*$")
MAX_TEXT = 2000


class OverrideError(ValueError):
    """A line of the editor's translations that cannot be read; the message names it."""


def _valid_key(key: str) -> bool:
    return key in TEXT_KEYS or (key.startswith(LABEL_PREFIX) and len(key) > len(LABEL_PREFIX))


def parse(text: str) -> dict[str, dict[str, str]]:
    """The editor's lines as the stored dict; OverrideError names the first bad line."""
    result: dict[str, dict[str, str]] = {}
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise OverrideError(
                f"line {number}: write it as language.text = translation, e.g. de.title = Demo anfordern"
            )
        language, key, value = match.group(1).lower(), match.group(2), match.group(3)
        if language not in LANGUAGES:
            raise OverrideError(f"line {number}: {language!r} is not one of {', '.join(LANGUAGES)}")
        if not _valid_key(key):
            names = ", ".join((*TEXT_KEYS, "label.<field key>"))
            raise OverrideError(f"line {number}: {key!r} is not a text a language can replace ({names})")
        if value:  # `\n` in a line is a line break (an e-mail text's paragraphs)
            result.setdefault(language, {})[key] = value.replace("\\n", "\n")[:MAX_TEXT]
    return result


def render(translations: Mapping[str, Any] | None) -> str:
    """The stored dict as the editor's lines, languages and keys in a stable order."""
    lines = []
    for language in sorted(translations or {}):
        texts = (translations or {})[language]
        if not isinstance(texts, Mapping):
            continue
        for key in sorted(
            texts, key=lambda k: (k.startswith(LABEL_PREFIX), TEXT_KEYS.index(k) if k in TEXT_KEYS else 0, k)
        ):
            lines.append(f"{language}.{key} = {texts[key]}".replace("\n", "\\n"))
    return "\n".join(lines)


def text_for(translations: Mapping[str, Any] | None, language: str, key: str) -> str:
    """The form's own text `key` in `language`, "" when the marketer gave none."""
    texts = (translations or {}).get(language)
    value = texts.get(key) if isinstance(texts, Mapping) else None
    return value if isinstance(value, str) else ""
