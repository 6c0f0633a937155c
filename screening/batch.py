"""Batch screening of a CSV or JSON-lines file through the same `screen()` as the worker.

One output row per input row, in input order: every input column carried
through (an input column named like an output column is renamed `input_<name>`),
then verdict, category, categories, risk_score (the screening weights added up, not
a lead score), explanation, findings, suggested_email (a typo's fix), suggested
stage, error and line. A bad row (no e-mail, broken JSON or CSV, a screening failure)
gets an output row with `error` set and its line number, and the run goes on. Files
are read as UTF-8 (BOM or not), else as Windows-1252, the usual trade-show export.
Screening runs on a bounded thread pool; rows finish out of order and are written
in input order from a buffer, so DNS time-outs overlap instead of stalling the run;
the resolver's cache is shared. The `Summary` counts verdicts per category, with
the rows held only because DNS did not answer apart.
"""

from __future__ import annotations

import codecs
import csv
import json
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import IO, Any

from screening.address import parse_address
from screening.check_email import suggest_domain
from screening.context import Context
from screening.errors import BatchInputError
from screening.model import Candidate, Screening, Stage, Verdict
from screening.pipeline import screen
from screening.spreadsheet import safe_cell

OUTPUT_COLUMNS = [
    "verdict",
    "category",
    "categories",
    "risk_score",
    "explanation",
    "findings",
    "suggested_email",
    "suggested_stage",
    "error",
]
TRAILING_COLUMNS = [*OUTPUT_COLUMNS, "line"]
_RESERVED = frozenset(c.lower() for c in TRAILING_COLUMNS)
INPUT_PREFIX = "input_"
# Threads screening rows at once, chosen by measurement (bench/batch_dns.py, docs/benchmarks.md, 2 vCPU):
# the checks are CPU-bound under the GIL, so threads only help while rows wait on DNS. With answers
# 80 ms late or 4 % of domains never answering, 64 threads were 1.2-1.4x faster than 32 (and 4x
# faster than 8); with instant loopback answers they cost ~8 % against 32. `leadsieve screen --help`
# repeats the number.
DEFAULT_WORKERS = 64
# Rows queued or finished ahead of the oldest unwritten row, per thread and at least: a row stuck on a
# DNS time-out (seconds) never stalls the others while the buffer has room.
BUFFER_PER_WORKER = 32
MIN_BUFFER = 1024
# Rows of CSV output wait in memory up to this size (then in a temporary file) until the header is known.
SPOOL_BYTES = 8 * 1024 * 1024
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
    "newsletter": Stage.PROSPECT,
    "download": Stage.MQL,
    "webinar": Stage.MQL,
    "demo": Stage.SQL,
    "contact_sales": Stage.SQL,
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
    """Counts for the end-of-run report: per verdict, per (verdict, category), and the rows held
    only because DNS did not answer (screen those again later rather than review them)."""

    rows: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    verdicts: dict[str, int] = field(default_factory=dict)
    categories: dict[tuple[str, str], int] = field(default_factory=dict)
    dns_only: int = 0

    def add(self, line: int, out: dict[str, Any]) -> None:
        """Count one output row."""
        self.rows += 1
        if out["error"]:
            self.errors.append((line, out["error"]))
        verdict = out["verdict"]
        self.verdicts[verdict] = self.verdicts.get(verdict, 0) + 1
        if verdict in (Verdict.ACCEPTED, Verdict.HELD, Verdict.REJECTED):
            key = (verdict, out["category"] or "")
            self.categories[key] = self.categories.get(key, 0) + 1
        if out.get(DNS_ONLY):
            self.dns_only += 1

    def report(self) -> list[str]:
        """The lines printed at the end of a run: totals, then each verdict by category."""
        counts = ", ".join(f"{n} {verdict}" for verdict, n in sorted(self.verdicts.items()))
        lines = [f"screened {self.rows} rows: {counts or 'none'}"]
        for verdict in (Verdict.ACCEPTED, Verdict.HELD, Verdict.REJECTED):
            parts = sorted(
                ((n, c) for (v, c), n in self.categories.items() if v == verdict), key=lambda p: (-p[0], p[1])
            )
            if parts:
                shown = ", ".join(
                    f"{n} {c or ('clean' if verdict == Verdict.ACCEPTED else 'no category')}" for n, c in parts
                )
                lines.append(f"  {verdict}: {shown}")
        if self.dns_only:
            lines.append(
                f"  held only because DNS did not answer: {self.dns_only} "
                "(not a judgement on the person: screen them again when DNS answers)"
            )
        if self.errors:
            lines.append(f"  errors: {len(self.errors)} (see above)")
        return lines


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
    """Rows of a CSV (header first) or JSON-lines stream, with their line numbers; never raises per row."""
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
    yield from _csv_rows(stream)


def _csv_rows(stream: IO[str]) -> Iterator[Row]:
    """CSV rows; a row csv cannot parse (e.g. a cell over csv.field_size_limit) is reported, not raised.

    Surplus values land under the key None (DictReader's default restkey), which no header can be.
    """
    reader = csv.DictReader(stream)
    try:
        if not reader.fieldnames:
            raise BatchInputError("the CSV file is empty (no header row)")
    except csv.Error as exc:
        raise BatchInputError(f"line 1: the header row is not readable CSV ({exc})") from exc
    start = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # DictReader.line_num is only updated on success; the inner reader counts every line.
            yield Row(start, {}, None, f"line {start}: not readable as CSV ({exc})")
            start = reader.reader.line_num + 1
            continue
        extra = values.pop(None, None)
        row = _row(start, values)
        if extra is not None and not row.error:
            row = Row(start, values, None, f"line {start}: {len(extra)} more value(s) than the header has columns")
        yield row
        start = reader.line_num + 1


def _row(line: int, values: dict[str, Any]) -> Row:
    try:
        return Row(line, values, candidate_from(values))
    except (TypeError, ValueError) as exc:
        return Row(line, values, None, f"line {line}: {exc}")


def suggested_stage(candidate: Candidate, verdict: str) -> str:
    """Where an accepted row would start: the form intent's stage, else prospect (an imported list)."""
    if verdict == Verdict.REJECTED:
        return ""
    intent = candidate.form_intent
    return intent if intent in frozenset(Stage) else Stage.PROSPECT


# A key of the dict `_screened` returns that is counted, not written: the row was held only because DNS failed.
DNS_ONLY = "_dns_only"


def result_row(row: Row, context: Context) -> dict[str, Any]:
    """Screen one row; the output columns for it, with `error` set if screening it failed."""
    try:
        return _screened(row, context)
    except Exception as exc:  # not hidden: reported in the row's error column and in the summary
        out = dict.fromkeys(OUTPUT_COLUMNS, "")
        out.update(verdict="error", error=f"line {row.line}: screening failed ({type(exc).__name__}: {exc})")
        return out


def _screened(row: Row, context: Context) -> dict[str, Any]:
    """The output columns of one row: screened, or `error` for a row without a candidate."""
    out: dict[str, Any] = {**dict.fromkeys(OUTPUT_COLUMNS, ""), "error": row.error}
    if row.candidate is None:
        out["verdict"] = "error"
        return out
    result = screen(row.candidate, context)
    categories = sorted({f.category for f in result.findings if f.weight > 0})
    out.update(
        verdict=result.verdict,
        category=result.category or "",
        categories=" ".join(categories),
        risk_score=result.score,
        explanation=str(result.explanation) if result.explanation else "",
        findings="; ".join(f"{f.code}: {f.evidence}" for f in result.findings),
        suggested_email=suggested_email(row.candidate, result),
        suggested_stage=suggested_stage(row.candidate, result.verdict),
    )
    out[DNS_ONLY] = bool(result.explanation and result.explanation.dns_only)
    return out


def suggested_email(candidate: Candidate, result: Screening) -> str:
    """The address they probably meant when the typo check fired (li@gmial.com -> li@gmail.com), else ''."""
    if not any(f.code == "email.typo" for f in result.findings):
        return ""
    address = parse_address(candidate.email)
    suggestion = suggest_domain(address.domain) if address.valid else None
    return f"{address.local}@{suggestion}" if suggestion else ""


# Screened once before the threads start, with every field filled so that every check loads its data.
WARM_UP = Candidate(
    "warm.up@example.com",
    first_name="Warm",
    last_name="Up",
    company="Example",
    job_title="Engineer",
    phone="+1 555 0100",
    country="US",
    message="Warm-up: loads the lists before the threads start.",
    form_kind="demo",
)


def warm_up(context: Context) -> None:
    """Screen one made-up candidate, without DNS or activity counts, before starting the threads.

    The bundled lists are merged and compiled on first use, once per process (`functools.cache`,
    which does not stop concurrent first callers): 64 threads starting together would each build
    them, seconds of CPU apiece, before their first row (measured: a cold 1,530-row run took 78 s
    instead of 5). The worker preloads them at start (`app.screening_context.builder.preload`).
    """
    try:
        screen(WARM_UP, replace(context, resolver=None, recent_activity=None, mx_ledger=None))
    except Exception:  # noqa: S110 - not hidden: each row's own screening fails the same way and reports it
        return


def screen_rows(
    rows: Iterable[Row], context: Context, *, workers: int = DEFAULT_WORKERS, buffer: int | None = None
) -> Iterator[tuple[Row, dict[str, Any]]]:
    """Screen rows on `workers` threads, yielding results in input order.

    Rows finish out of order: a row waiting on a DNS time-out holds one thread, not the run, because
    up to `buffer` rows (default `BUFFER_PER_WORKER` per thread, at least `MIN_BUFFER`) may be queued
    or finished ahead of the oldest unwritten one; finished ones wait in their futures until it is
    written. So time-outs overlap, and memory stays bounded whatever the file's size.
    """
    workers = max(1, workers)
    limit = max(workers, buffer if buffer is not None else max(MIN_BUFFER, BUFFER_PER_WORKER * workers))
    window: deque[tuple[Row, Future[dict[str, Any]]]] = deque()
    source = iter(rows)
    warm_up(context)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="screen") as pool:
        for row in source:
            window.append((row, pool.submit(result_row, row, context)))
            if len(window) >= limit:
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


UTF8 = "utf-8-sig"  # reads a byte-order mark (Excel writes one) as nothing, and plain UTF-8 too
CP1252 = "cp1252"  # Excel on Windows "CSV": trade-show exports are often this


def detect_encoding(path: str) -> str:
    """UTF-8, UTF-16 (with a BOM) or Windows-1252, whichever decodes the whole file, in that order.

    Raises BatchInputError naming the first bad line when none does (a spreadsheet
    or other binary file renamed .csv), so the command reports it instead of a traceback.
    """
    with open(path, "rb") as fh:
        if fh.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            fh.seek(0)
            _check_utf16(path, fh)
            return "utf-16"
        fh.seek(0)
        utf8_error = _first_undecodable(fh, "utf-8")
        if utf8_error is None:
            return UTF8
        fh.seek(0)
        cp1252_error = _first_undecodable(fh, CP1252)
    if cp1252_error is None:
        return CP1252
    raise BatchInputError(
        f"{path} is neither UTF-8 (line {utf8_error}) nor Windows-1252 (line {cp1252_error}): save it as CSV UTF-8"
    )


def _check_utf16(path: str, fh: IO[bytes]) -> None:
    """Decode the whole file once, so a broken UTF-16 file fails here and not halfway through the run."""
    try:
        for _ in codecs.iterdecode(iter(lambda: fh.read(1 << 16), b""), "utf-16"):
            pass
    except UnicodeDecodeError as exc:
        raise BatchInputError(f"{path} starts as UTF-16 but does not decode ({exc.reason})") from exc


def _first_undecodable(fh: IO[bytes], encoding: str) -> int | None:
    """The number of the first line that does not decode, or None (safe per line: b'\\n' is ASCII)."""
    for number, raw in enumerate(fh, 1):
        try:
            raw.decode(encoding)
        except UnicodeDecodeError:
            return number
    return None


def count_lines(path: str, encoding: str) -> int:
    """Non-blank lines, for the progress bar's length (a quoted multi-line cell counts its lines)."""
    with open(path, encoding=encoding, newline="") as fh:
        return sum(1 for line in fh if line.strip())


def run_batch(
    source: IO[str],
    sink: IO[str],
    *,
    in_format: str,
    out_format: str,
    context: Context,
    workers: int = DEFAULT_WORKERS,
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """Screen every row of `source` into `sink`; never stops at a bad row."""
    summary = Summary()
    rows = screen_rows(read_rows(source, in_format), context, workers=workers)
    records = _records(rows, summary, progress)
    if out_format == "jsonl":
        write_jsonl(records, sink)
    else:
        write_csv(records, sink)
    return summary


def _records(
    rows: Iterable[tuple[Row, dict[str, Any]]], summary: Summary, progress: Callable[[int], None] | None
) -> Iterator[dict[str, Any]]:
    """Output records (carried columns, output columns, line), counted into `summary` as they pass."""
    for row, out in rows:
        summary.add(row.line, out)
        out.pop(DNS_ONLY, None)
        carried = {carried_name(k): v for k, v in row.values.items() if k is not None}
        yield {**carried, **out, "line": row.line}
        if progress is not None:
            progress(1)


def carried_name(column: str) -> str:
    """An input column's output name: `input_<name>` if it is (or wraps) an output column's name.

    `risk_score` -> `input_risk_score`, and so `input_risk_score` -> `input_input_risk_score`: no two input
    columns end up with one name, and no output column overwrites an input value.
    """
    base = column.strip()
    while base.lower().startswith(INPUT_PREFIX):
        base = base[len(INPUT_PREFIX) :]
    return INPUT_PREFIX + column if base.lower() in _RESERVED else column


def write_jsonl(records: Iterable[dict[str, Any]], sink: IO[str]) -> None:
    """One JSON object a line, nested input values kept as they were."""
    for record in records:
        sink.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")


def write_csv(records: Iterable[dict[str, Any]], sink: IO[str]) -> None:
    """CSV whose header is the union of every row's columns, first seen first, output columns last;
    no cell can start a spreadsheet formula (`screening/spreadsheet.py`).

    A key that only later JSON rows have must still get a column, so rows are spooled
    (memory, then a temporary file) until the header is known.
    """
    columns: dict[str, None] = {}
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, mode="w+", encoding="utf-8") as spool:
        for record in records:
            columns.update(dict.fromkeys(record))
            spool.write(json.dumps({k: _cell(v) for k, v in record.items()}, ensure_ascii=False, default=str))
            spool.write("\n")
        header = [c for c in columns if c not in TRAILING_COLUMNS] + TRAILING_COLUMNS
        writer = csv.DictWriter(sink, fieldnames=header, restval="", lineterminator="\n")
        writer.writeheader()
        spool.seek(0)
        for line in spool:  # every cell formula-safe: these files are opened in spreadsheets
            writer.writerow({k: safe_cell(v) for k, v in json.loads(line).items()})


def _cell(value: Any) -> Any:
    """Nested JSON values flattened for a CSV cell."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value
