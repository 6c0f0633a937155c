"""CSV export that spreadsheet programs cannot be tricked into executing."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from screening.spreadsheet import safe_cell


def iso_utc(moment: datetime | None) -> str:
    """ISO 8601 with its zone ("2026-12-02T06:34:15+00:00"): the database keeps naive UTC, and a
    spreadsheet or CRM reading a time without a zone would take it for local time."""
    return moment.replace(tzinfo=UTC).isoformat() if moment is not None else ""


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The CSV a line at a time, every cell made safe: big exports stream instead of filling memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in itertools.chain([header], rows):
        writer.writerow([safe_cell(cell) for cell in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """The whole CSV, every cell made safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return buffer.getvalue()
