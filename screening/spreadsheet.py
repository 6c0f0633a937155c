"""Cells that spreadsheet programs cannot be tricked into executing (CSV formula injection).

Pure, so both the admin's CSV exports and the batch command's CSV output use it.
"""

from __future__ import annotations

from typing import Any

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def safe_cell(value: Any) -> str:
    """Text as typed, but never a formula: a leading trigger character gets a quote prefix.

    Numbers we computed (a score of -10) stay numbers; only text can carry a formula.
    """
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    if text.lstrip(" ").startswith(FORMULA_PREFIXES):
        return "'" + text
    return text
