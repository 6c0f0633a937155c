"""Batch screening of a CSV or JSON-lines file through the same `screen()` as the worker.

One output row per input row, in input order: the input's columns carried
through, then verdict, category, categories, score, findings, suggested stage
and error. A bad row (no e-mail, broken JSON, not an object) gets an output row
with `error` set and its line number, and the run goes on. Screening runs on a
bounded thread pool so DNS look-ups overlap; the resolver's cache is shared.
"""

from __future__ import annotations

import csv
import json
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import IO, Any

from screening.context import Context
from screening.errors import BatchInputError
from screening.model import REJECTED, Candidate
from screening.pipeline import screen
from screening.scoring import STAGES

OUTPUT_COLUMNS = ["verdict", "category", "categories", "score", "findings", "suggested_stage", "error"]
# Header spellings seen in trade-show and CRM exports, mapped to Candidate fields.
ALIASES = {
    "email": "email",
    "e-mail": "email",
    "email address": "email",
    "e-mail address": "email",
    "mail": "email",
    "first_name": "first_name",
    "first name": "first_name",
    "firstname": "first_name",
    "given name": "first_name",
    "last_name": "last_name",
    "last name": "last_name",
    "lastname": "last_name",
    "surname": "last_name",
    "family name": "last_name",
    "company": "company",
    "company name": "company",
    "organization": "company",
    "organisation": "company",
    "account": "company",
    "job_title": "job_title",
    "job title": "job_title",
    "title": "job_title",
    "position": "job_title",
    "phone": "phone",
    "phone number": "phone",
    "country": "country",
    "message": "message",
    "comments": "message",
    "notes": "message",
    "ip": "ip",
    "ip address": "ip",
    "form_kind": "form_kind",
    "form kind": "form_kind",
    "form": "form_kind",
    "intent": "form_intent",
    "form_intent": "form_intent",
}
# Form kinds and the stage their intent implies (as in forms/; repeated here to keep screening pure).
KIND_STAGE = {
    "newsletter": "prospect",
    "download": "MQL",
    "webinar": "MQL",
    "demo": "SQL",
    "contact_sales": "SQL",
}


@dataclass(frozen=True)
class Row:
    """One input row: where it was, its original values, and the candidate (or why there is none)."""

    line: int
    values: dict[str, Any]
    candidate: Candidate | None
    error: str = ""


@dataclass
class Summary:
    """Counts for the end-of-run report."""

    rows: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    verdicts: dict[str, int] = field(default_factory=dict)


def candidate_from(values: dict[str, Any]) -> Candidate:
    """A Candidate from a row's columns, by header alias; raises ValueError without an e-mail."""
    fields: dict[str, Any] = {}
    for key, value in values.items():
        target = ALIASES.get(str(key).strip().lower()) if key is not None else None
        if target and value not in (None, "") and target not in fields:
            fields[target] = str(value).strip()
    if not fields.get("email"):
        raise ValueError("no e-mail address in this row")
    kind = fields.get("form_kind", "")
    fields.setdefault("form_intent", KIND_STAGE.get(kind, ""))
    return Candidate(**fields)


def read_rows(stream: IO[str], fmt: str) -> Iterator[Row]:
    """Rows of a CSV (header first) or JSON-lines stream, with their line numbers."""
    if fmt == "jsonl":
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                values = json.loads(line)
            except ValueError as exc:
                yield Row(number, {}, None, f"line {number}: not JSON ({exc.args[0] if exc.args else exc})")
                continue
            if not isinstance(values, dict):
                yield Row(number, {}, None, f"line {number}: not a JSON object")
                continue
            yield _row(number, values)
        return
    if fmt != "csv":
        raise BatchInputError(f"unknown format {fmt!r}: use csv or jsonl")
    reader = csv.DictReader(stream, restkey="_extra")
    if not reader.fieldnames:
        raise BatchInputError("the CSV file is empty (no header row)")
    start = reader.line_num + 1
    for values in reader:
        extra = values.pop("_extra", None)
        row = _row(start, values)
        if extra is not None and not row.error:
            row = Row(
                start, values, None, f"line {start}: {len(extra)} more value(s) than the header has columns"
            )
        yield row
        start = reader.line_num + 1


def _row(line: int, values: dict[str, Any]) -> Row:
    try:
        return Row(line, values, candidate_from(values))
    except (TypeError, ValueError) as exc:
        return Row(line, values, None, f"line {line}: {exc}")


def suggested_stage(candidate: Candidate, verdict: str) -> str:
    """Where an accepted row would start: the form intent's stage, else prospect (an imported list)."""
    if verdict == REJECTED:
        return ""
    intent = candidate.form_intent
    return intent if intent in STAGES else "prospect"


def result_row(row: Row, context: Context) -> dict[str, Any]:
    """Screen one row; the output columns for it."""
    out: dict[str, Any] = {
        "verdict": "",
        "category": "",
        "categories": "",
        "score": "",
        "findings": "",
        "suggested_stage": "",
        "error": row.error,
    }
    if row.candidate is None:
        out["verdict"] = "error"
        return out
    result = screen(row.candidate, context)
    categories = sorted({f.category for f in result.findings if f.weight > 0})
    out.update(
        verdict=result.verdict,
        category=result.category or "",
        categories=" ".join(categories),
        score=result.score,
        findings="; ".join(f"{f.code}: {f.evidence}" for f in result.findings),
        suggested_stage=suggested_stage(row.candidate, result.verdict),
    )
    return out


def screen_rows(
    rows: Iterable[Row], context: Context, *, workers: int = 8
) -> Iterator[tuple[Row, dict[str, Any]]]:
    """Screen rows on `workers` threads, yielding results in input order with at most 4x workers in flight."""
    window: deque[tuple[Row, Future[dict[str, Any]]]] = deque()
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="screen") as pool:
        for row in rows:
            window.append((row, pool.submit(result_row, row, context)))
            if len(window) >= 4 * max(1, workers):
                done_row, future = window.popleft()
                yield done_row, future.result()
        while window:
            done_row, future = window.popleft()
            yield done_row, future.result()


def detect_format(path: str) -> str:
    """csv or jsonl, from the file name."""
    lower = path.lower()
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if lower.endswith((".csv", ".txt")):
        return "csv"
    raise BatchInputError(f"{path}: name the file .csv or .jsonl")


def run_batch(
    source: IO[str],
    sink: IO[str],
    *,
    in_format: str,
    out_format: str,
    context: Context,
    workers: int = 8,
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """Screen every row of `source` into `sink`; never stops at a bad row."""
    summary = Summary()
    writer: csv.DictWriter[str] | None = None
    for row, out in screen_rows(read_rows(source, in_format), context, workers=workers):
        summary.rows += 1
        if row.error:
            summary.errors.append((row.line, row.error))
        summary.verdicts[out["verdict"]] = summary.verdicts.get(out["verdict"], 0) + 1
        carried = {k: v for k, v in row.values.items() if k is not None and k not in OUTPUT_COLUMNS}
        if out_format == "jsonl":
            sink.write(
                json.dumps({**carried, **out, "line": row.line}, ensure_ascii=False, default=str) + "\n"
            )
        else:
            if writer is None:
                columns = [*carried.keys(), *OUTPUT_COLUMNS, "line"]
                writer = csv.DictWriter(sink, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
                writer.writeheader()
            writer.writerow({**{k: _cell(v) for k, v in carried.items()}, **out, "line": row.line})
        if progress is not None:
            progress(1)
    return summary


def _cell(value: Any) -> Any:
    """Nested JSON values flattened for a CSV cell."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value
