"""CSV export that spreadsheet programs cannot be tricked into executing."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import IO, Any

from screening.spreadsheet import FORMULA_PREFIXES, safe_cell

# A text cell can only be a formula if, after any spaces, it starts with one of these: every other cell is
# written as it is without calling safe_cell, which is what makes a million rows fast.
FORMULA_STARTS = frozenset(prefix[0] for prefix in FORMULA_PREFIXES)
_RISKY_START = FORMULA_STARTS | {" "}


def iso_utc(moment: datetime | None) -> str:
    """ISO 8601 with its zone ("2026-12-02T06:34:15+00:00"): the database keeps naive UTC, and a
    spreadsheet or CRM reading a time without a zone would take it for local time."""
    if moment is None:
        return ""
    if moment.tzinfo is None:  # what the database gives; the same text as .replace(tzinfo=UTC), faster
        return moment.isoformat() + "+00:00"
    return moment.astimezone(UTC).isoformat()


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


def safe_cells(values: Iterable[Any]) -> list[Any]:
    """safe_cell for every value, without its cost for the cells that cannot be a formula (text not starting
    with a trigger character or a space, numbers, None: the csv module writes those as safe_cell would)."""
    return [
        safe_cell(value)
        if (value.__class__ is str and value and value[0] in _RISKY_START)
        or not (value is None or value.__class__ in (str, int))
        else value
        for value in values
    ]


def write_csv(
    out: IO[str],
    header: Sequence[str],
    batches: Iterable[Sequence[Sequence[Any]]],
    *,
    first: Callable[[Any], str] = iso_utc,
) -> int:
    """Write `header` and every row of `batches` to `out`, one writerows() per batch; the first cell of each
    row goes through `first` (a time, by default), the others are made safe. Returns the rows written."""
    writer = csv.writer(out)
    writer.writerow([safe_cell(h) for h in header])
    written = 0
    for batch in batches:
        writer.writerows([first(row[0]), *safe_cells(row[1:])] for row in batch)
        written += len(batch)
    return written


def write_flagged_csv(out: IO[str], header: Sequence[str], batches: Iterable[Sequence[Sequence[Any]]]) -> int:
    """Like write_csv, for rows whose last value says whether any of their cells may be a formula (computed by
    the query: MAYBE_FORMULA in app/admin/submissions.py): only those rows go through safe_cell; the others
    are written as they are, their first cell (a time) in ISO 8601 with its zone. Returns the rows written."""
    writer = csv.writer(out)
    writer.writerow([safe_cell(h) for h in header])
    written = 0
    for batch in batches:
        writer.writerows(
            [iso_utc(row[0]), *safe_cells(row[1:-1])] if row[-1] else (iso_utc(row[0]), *row[1:-1]) for row in batch
        )
        written += len(batch)
    return written
