"""CSV export that spreadsheet programs cannot be tricked into executing."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from screening.spreadsheet import FORMULA_PREFIXES, safe_cell

__all__ = ["FORMULA_PREFIXES", "csv_text", "safe_cell"]


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """The whole CSV, every cell made safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return buffer.getvalue()
