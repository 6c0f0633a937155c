"""CSV export that spreadsheet programs cannot be tricked into executing."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def safe_cell(value: Any) -> str:
    """Text as typed, but never a formula: a leading trigger character gets a quote prefix."""
    text = "" if value is None else str(value)
    stripped = text.lstrip(" ")
    if stripped.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """The whole CSV, every cell made safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return buffer.getvalue()
