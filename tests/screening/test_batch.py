"""Batch screening: encodings, unreadable and failing rows, and every input column carried through."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from screening import Context
from screening import batch as batch_module
from screening.batch import count_lines, detect_encoding, run_batch
from screening.errors import BatchInputError


def run(text: str, *, in_format: str = "csv", out_format: str = "csv") -> tuple[str, batch_module.Summary]:
    """Screen `text` without DNS; the output text and the summary."""
    sink = io.StringIO()
    source = io.StringIO(text)
    summary = run_batch(source, sink, in_format=in_format, out_format=out_format, context=Context())
    return sink.getvalue(), summary


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_windows_1252_export_is_read_not_a_traceback(tmp_path: Path):
    path = tmp_path / "show.csv"
    path.write_bytes("Email,First Name,Company\r\nli@acme.com,José,Müller GmbH – Köln\r\n".encode("cp1252"))
    encoding = detect_encoding(str(path))
    assert encoding == "cp1252"
    with open(path, encoding=encoding, newline="") as source:
        sink = io.StringIO()
        run_batch(source, sink, in_format="csv", out_format="csv", context=Context())
    [row] = csv_rows(sink.getvalue())
    assert (row["First Name"], row["Company"], row["verdict"]) == ("José", "Müller GmbH – Köln", "accepted")


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("Email,Name\nli@acme.com,Zoë\n".encode(), "utf-8-sig"),
        ("\ufeffEmail,Name\nli@acme.com,Zoë\n".encode(), "utf-8-sig"),  # Excel's "CSV UTF-8"
        ("Email,Name\nli@acme.com,Zoë\n".encode("utf-16"), "utf-16"),  # Excel's "Unicode text"
        (b"Email,Name\nli@acme.com,plain\n", "utf-8-sig"),
    ],
)
def test_utf8_with_or_without_bom_and_utf16(tmp_path: Path, data: bytes, encoding: str):
    path = tmp_path / "leads.csv"
    path.write_bytes(data)
    assert detect_encoding(str(path)) == encoding
    with open(path, encoding=encoding, newline="") as fh:
        assert fh.readline().strip() == "Email,Name"  # no BOM left on the first header
    assert count_lines(str(path), encoding) == 2


def test_neither_utf8_nor_cp1252_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "leads.csv"
    path.write_bytes(b"Email,Name\nli@acme.com,\x81\xff\n")  # 0x81 is undefined in cp1252
    with pytest.raises(BatchInputError, match=r"neither UTF-8 \(line 2\) nor Windows-1252 \(line 2\)"):
        detect_encoding(str(path))


def test_cell_over_the_csv_field_limit_is_one_bad_row(tmp_path: Path):
    huge = "x" * (csv.field_size_limit() + 1)
    out, summary = run(f"Email,Notes\nli@acme.com,ok\nbig@acme.com,{huge}\nsam@acme.com,ok\n")
    rows = csv_rows(out)
    assert [(r["line"], r["verdict"]) for r in rows] == [("2", "accepted"), ("3", "error"), ("4", "accepted")]
    assert "line 3: not readable as CSV (field larger than field limit" in rows[1]["error"]
    assert [line for line, _ in summary.errors] == [3]


def test_a_row_whose_screening_fails_is_reported_and_the_run_goes_on(monkeypatch):
    real_screen = batch_module.screen

    def flaky(candidate, context):
        if candidate.email.startswith("boom@"):
            raise RuntimeError("checker bug")
        return real_screen(candidate, context)

    monkeypatch.setattr(batch_module, "screen", flaky)
    out, summary = run("Email,Booth\nli@acme.com,A1\nboom@acme.com,A2\nsam@acme.com,A3\n")
    rows = csv_rows(out)
    assert [(r["Booth"], r["verdict"]) for r in rows] == [
        ("A1", "accepted"),
        ("A2", "error"),
        ("A3", "accepted"),
    ]
    assert rows[1]["error"] == "line 3: screening failed (RuntimeError: checker bug)"
    assert summary.errors == [(3, "line 3: screening failed (RuntimeError: checker bug)")]
    assert summary.rows == 3 and summary.verdicts == {"accepted": 2, "error": 1}


def test_jsonl_to_csv_header_is_the_union_of_every_rows_keys():
    text = (
        '{not json\n{"email": "li@acme.com", "crm_id": 7}\n{"email": "sam@acme.com", "booth": "B7", "tags": ["vip"]}\n'
    )
    out, _ = run(text, in_format="jsonl")
    header = out.splitlines()[0].split(",")
    assert header == ["email", "crm_id", "booth", "tags", *batch_module.TRAILING_COLUMNS]
    rows = csv_rows(out)
    assert [(r["line"], r["verdict"], r["crm_id"], r["booth"]) for r in rows] == [
        ("1", "error", "", ""),
        ("2", "accepted", "7", ""),
        ("3", "accepted", "", "B7"),
    ]
    assert rows[2]["tags"] == '["vip"]'


def test_input_columns_named_like_output_columns_are_kept_as_input_columns():
    out, _ = run("Email,risk_score,Verdict,line,input_risk_score,score,_extra\nli@acme.com,97,hot,L9,x,55,kept\n")
    [row] = csv_rows(out)
    kept = ("input_risk_score", "input_Verdict", "input_line", "input_input_risk_score", "score", "_extra")
    assert {k: row[k] for k in kept} == {
        "input_risk_score": "97",
        "input_Verdict": "hot",
        "input_line": "L9",
        "input_input_risk_score": "x",
        "score": "55",  # a CRM's lead score keeps its name: screening's column is risk_score
        "_extra": "kept",
    }
    assert row["verdict"] == "accepted" and row["line"] == "2" and row["risk_score"] == "0"


def test_jsonl_output_keeps_colliding_input_keys_too():
    text = '{"email": "li@acme.com", "error": "was bounced", "category": "vip"}\n'
    out, _ = run(text, in_format="jsonl", out_format="jsonl")
    record = json.loads(out)
    assert (record["input_error"], record["input_category"]) == ("was bounced", "vip")
    assert record["error"] == "" and record["verdict"] == "accepted"


@pytest.mark.parametrize(
    ("column", "name"),
    [
        ("Booth", "Booth"),
        ("score", "score"),
        ("risk_score", "input_risk_score"),
        ("Explanation", "input_Explanation"),
        (" Line ", "input_ Line "),
        ("input_x", "input_x"),
        ("INPUT_risk_score", "input_INPUT_risk_score"),
    ],
)
def test_carried_name(column: str, name: str):
    assert batch_module.carried_name(column) == name


def test_csv_output_spooled_to_disk_keeps_every_row(monkeypatch):
    monkeypatch.setattr(batch_module, "SPOOL_BYTES", 64)  # roll over to a temporary file at once
    lines = "".join(f'{{"email": "li{i}@acme.com", "n": {i}}}\n' for i in range(50))
    out, summary = run(lines + '{"email": "last@acme.com", "late": "ü"}\n', in_format="jsonl")
    rows = csv_rows(out)
    assert summary.rows == len(rows) == 51
    assert [r["n"] for r in rows[:3]] == ["0", "1", "2"] and rows[-1]["late"] == "ü"


def test_csv_output_cannot_start_a_formula(tmp_path):
    """The batch output is opened in spreadsheets: text cells never start a formula, numbers stay numbers."""
    import csv as csv_module

    from screening.batch import write_csv

    sink = tmp_path / "out.csv"
    with sink.open("w", encoding="utf-8", newline="") as out:
        write_csv(
            [{"company": '=HYPERLINK("http://x","y")', "note": "@SUM(A1)", "score": -10, "verdict": "accepted"}], out
        )
    with sink.open(encoding="utf-8") as written:
        [row] = list(csv_module.DictReader(written))
    assert row["company"] == '\'=HYPERLINK("http://x","y")' and row["note"] == "'@SUM(A1)"
    assert row["score"] == "-10"
