"""The CSV formula guard quotes what a spreadsheet would evaluate, and nothing a CRM import needs as typed."""

from __future__ import annotations

import pytest

from screening.spreadsheet import safe_cell


@pytest.mark.parametrize(
    "value",
    [
        "+1 555 0100",
        "+44 (20) 7946-0958",
        "+49 30 123456",
        "(555) 010-0100",
        "+33.1.23.45.67.89",
        "-42",
        "+3.5",
        "-1e3",
    ],
)
def test_phone_numbers_and_plain_numbers_are_kept_as_typed(value):
    assert safe_cell(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "=1+1",
        "+1+cmd|' /C calc'!A0",
        "-2-3+SUM(A1:A9)",
        "@SUM(1)",
        '=HYPERLINK("http://evil.example")',
        "+A1",
        "-2-3",
        "+1-2",
        "\t=1",
        " =1",
        "\uff1d1+1",
    ],
)
def test_anything_else_starting_a_formula_is_quoted(value):
    assert safe_cell(value) == "'" + value


def test_text_that_starts_normally_is_untouched():
    assert safe_cell("Acme +1") == "Acme +1" and safe_cell(None) == "" and safe_cell(-10) == "-10"
