"""Cells that spreadsheet programs cannot be tricked into executing (CSV formula injection).

Pure, so both the admin's CSV exports and the batch command's CSV output use it.
"""

from __future__ import annotations

import re
from typing import Any

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# Text a spreadsheet reads as a number or a phone number: no letters, so no function, reference or DDE
# call can hide in it. Quoting these would corrupt CRM imports ("+1 555 0100" becoming "'+1 555 0100").
PLAIN_NUMBER = re.compile(r"[+-]?\d+([.,]\d+)?(e[+-]?\d+)?", re.IGNORECASE)
PHONE_NUMBER = re.compile(r"\+?[\d(][\d ().\-/]{5,}")


def is_plain_value(text: str) -> bool:
    """A number or a phone number, which a spreadsheet shows as typed or as a number, never runs."""
    stripped = text.strip(" ")
    return bool(PLAIN_NUMBER.fullmatch(stripped) or PHONE_NUMBER.fullmatch(stripped))


def safe_cell(value: Any) -> str:
    """Text as typed, but never a formula: a leading trigger character gets a quote prefix, unless the
    whole value is a plain number or phone number (those cannot carry a formula; see `is_plain_value`).

    Numbers we computed (a score of -10) stay numbers; only text can carry a formula.
    """
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    if text.lstrip(" ").startswith(FORMULA_PREFIXES) and not is_plain_value(text):
        return "'" + text
    return text
