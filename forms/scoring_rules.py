"""The scoring and qualification rules as the admin edits them: thresholds and windows as numbers, each
point table as lines of `key = points`. Every rule is checked here, with a message on its own field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, FloatField, IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

# Points one rule may give or take; beyond this a single answer would decide every lead.
POINTS = 1000
_LINE = re.compile(r"^\s*(?P<key>[^=]+?)\s*=\s*(?P<points>\S+)\s*$")

# (field name, label, lowest points): engagement points cannot be negative (decay would raise them).
TABLES: tuple[tuple[str, str, int], ...] = (
    ("actions", "Engagement points per form fill, by form kind", 0),
    ("intent_actions", "Engagement points for a form kind not listed above, by its intent", 0),
    ("seniority", "Fit points by job-title seniority", -POINTS),
    ("company_size", "Fit points by company size answer", -POINTS),
    ("bant", "Fit points by qualifying answer (question:answer, e.g. budget:none)", -POINTS),
    ("countries", "Fit points by country (e.g. de = 10; empty: country does not count)", -POINTS),
    ("risks", "Fit points for what screening found (finding code or category; negative)", -POINTS),
)
NUMBERS = (
    "mql_engagement",
    "sql_min_fit",
    "sql_fit",
    "sql_engagement",
    "repeat_window_hours",
    "half_life_days",
    "duplicate_window_seconds",
    "company_domain",
)


def parse_table(text: str, *, lowest: int) -> dict[str, int]:
    """`key = points` lines (blank lines skipped) as a table; ValueError names the first bad line."""
    table: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = _LINE.match(line)
        if match is None:
            raise ValueError(f"line {number}: write it as key = points")
        key, points = match.group("key").strip(), match.group("points")
        if not re.fullmatch(r"[+-]?\d+", points):
            raise ValueError(f"line {number}: {points!r} is not a whole number")
        value = int(points)
        if not lowest <= value <= POINTS:
            raise ValueError(f"line {number}: points must be between {lowest} and {POINTS}")
        if key in table:
            raise ValueError(f"line {number}: {key!r} is listed twice")
        table[key] = value
    return table


def format_table(table: Mapping[str, int]) -> str:
    """A table as the lines `parse_table` reads."""
    return "\n".join(f"{key} = {points}" for key, points in table.items())


class PointsTable(TextAreaField):
    """A point table edited as text; `table` holds it parsed once validation passed."""

    def __init__(self, label: str, *, lowest: int, **kwargs: Any) -> None:
        super().__init__(label, validators=[Length(max=20000)], render_kw={"rows": 6}, **kwargs)
        self.lowest = lowest
        self.table: dict[str, int] = {}

    def pre_validate(self, form: Any) -> None:
        """Parse; the message says which line is wrong and why."""
        try:
            self.table = parse_table(self.data or "", lowest=self.lowest)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


def _number(label: str, low: float, high: float, why: str = "") -> dict[str, Any]:
    message = f"Enter a number from {low:g} to {high:g}" + (f" ({why})." if why else ".")
    return {"label": label, "validators": [InputRequired(message), NumberRange(low, high, message)]}


class ScoringRulesForm(FlaskForm):
    """Every scoring and qualification rule; `rules_values()` gives them as ScoringRules' fields."""

    mql_engagement = IntegerField(**_number("MQL: engagement of at least", 1, POINTS))
    sql_min_fit = IntegerField(**_number("SQL on a sales request: fit of at least", -POINTS, POINTS))
    sql_fit = IntegerField(**_number("SQL without a sales request: fit of at least", -POINTS, POINTS))
    sql_engagement = IntegerField(**_number("…and engagement of at least", 0, POINTS))
    repeat_window_hours = FloatField(
        **_number("Fills of one form this many hours apart count once", 0, 24 * 365, "0: every fill counts")
    )
    half_life_days = FloatField(
        **_number("Engagement halves every this many days", 0, 3650, "0: no decay; it cannot be negative")
    )
    duplicate_window_seconds = IntegerField(
        **_number("The same form again within this many seconds is a duplicate", 0, 86400, "0: off")
    )
    company_domain = IntegerField(**_number("Fit points for an address at a company's own domain", -POINTS, POINTS))
    actions = PointsTable(TABLES[0][1], lowest=TABLES[0][2])
    intent_actions = PointsTable(TABLES[1][1], lowest=TABLES[1][2])
    seniority = PointsTable(TABLES[2][1], lowest=TABLES[2][2])
    company_size = PointsTable(TABLES[3][1], lowest=TABLES[3][2])
    bant = PointsTable(TABLES[4][1], lowest=TABLES[4][2])
    countries = PointsTable(TABLES[5][1], lowest=TABLES[5][2])
    risks = PointsTable(TABLES[6][1], lowest=TABLES[6][2])
    sql_blockers = StringField(
        "Findings that keep a lead from SQL whatever its points (keys of the table above, comma-separated)",
        validators=[Optional(), Length(max=2000)],
    )
    note = TextAreaField("Why (kept in the history)", validators=[Optional(), Length(max=2000)])

    def validate_sql_blockers(self, field: Field) -> None:
        """Each blocker names a row of the risks table."""
        unknown = [b for b in self.blockers() if b not in self.risks.table]
        if unknown and not self.risks.errors:
            raise ValidationError(f"Not in the risks table: {', '.join(unknown)}")

    def blockers(self) -> list[str]:
        """The blockers as a list, in order, without repeats."""
        words = re.split(r"[\s,]+", (self.sql_blockers.data or "").strip())
        return list(dict.fromkeys(word for word in words if word))

    def fill(self, rules: Mapping[str, Any]) -> None:
        """Show `rules` (ScoringRules.as_dict())."""
        for name in NUMBERS:
            self[name].data = rules[name]
        for name, _, _ in TABLES:
            self[name].data = format_table(rules[name])
        self.sql_blockers.data = ", ".join(rules["sql_blockers"])

    def rules_values(self) -> dict[str, Any]:
        """The validated values, keyed as ScoringRules' fields (for rules_from_stored)."""
        values: dict[str, Any] = {name: self[name].data for name in NUMBERS}
        values.update({name: self[name].table for name, _, _ in TABLES})
        values["sql_blockers"] = self.blockers()
        return values
