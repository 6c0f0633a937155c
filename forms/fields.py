"""Input clean-up and validators shared by every public form."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import get_locale, gettext
from wtforms import Field
from wtforms.validators import ValidationError

# Control characters (C0/C1 except tab/newline), bidi overrides and zero-width marks.
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def clean_text(value: Any) -> Any:
    """NFC-normalise, drop invisible/control characters and strip surrounding space."""
    if not isinstance(value, str):
        return value
    return _INVISIBLE.sub("", unicodedata.normalize("NFC", value)).strip()


def clean_line(value: Any) -> Any:
    """Like clean_text, and fold newlines: single-line fields never carry line breaks."""
    value = clean_text(value)
    if isinstance(value, str):
        value = re.sub(r"\s+", " ", value)
    return value


def _email_message(exc: EmailNotValidError) -> str:
    """email-validator explains the fault in English (`The part after the @-sign is not valid`); other
    languages get one sentence of their own."""
    locale = get_locale()
    if locale is None or locale.language == "en":
        return str(exc)
    return gettext("Enter a valid e-mail address, like name@example.com.")


class Email:
    """E-mail syntax through email-validator; no DNS at capture time (the worker does that)."""

    def __call__(self, form: Any, field: Field) -> None:
        if not field.data:
            return
        try:
            result = validate_email(field.data, check_deliverability=False)
        except EmailNotValidError as exc:
            raise ValidationError(_email_message(exc)) from exc
        field.normalized = result.normalized  # type: ignore[attr-defined]


_PHONE_ALLOWED = re.compile(r"^\+?[0-9 ().\-/]+(?:\s*(?:x|ext\.?)\s*[0-9]{1,6})?$", re.IGNORECASE)


class Phone:
    """A plausible phone number: digits with the usual punctuation, 6 to 17 digits."""

    def __call__(self, form: Any, field: Field) -> None:
        if not field.data:
            return
        digits = sum(ch.isdigit() for ch in field.data)
        if not _PHONE_ALLOWED.match(field.data) or not 6 <= digits <= 17:
            raise ValidationError(gettext("Enter a phone number using digits, spaces and + ( ) - only."))


class Country:
    """A country name or ISO code: letters, spaces and a little punctuation, no digits or markup."""

    def __call__(self, form: Any, field: Field) -> None:
        if not field.data:
            return
        if not all(ch.isalpha() or ch in " .,'()-&" for ch in field.data) or len(field.data) < 2:
            raise ValidationError(gettext("Enter a country name or its two-letter code."))
