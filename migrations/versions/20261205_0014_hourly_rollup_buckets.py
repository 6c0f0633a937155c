"""submission rollups per hour for yesterday and today, per day before

Recomputing today's whole day on every sweep turn cost in proportion to a day's traffic (docs/
benchmarks.md, "Growth"); an hour costs a 24th of it. `submission_rollups` is keyed by the start of
its bucket (`starts_at`, with `hours` 1 or 24) instead of a day. The rollups are derived data: the
table is recreated empty and the state reset, and the next sweep turn counts everything once.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MEASURES = (
    "submissions",
    "received",
    "accepted",
    "held",
    "rejected",
    "spam",
    "competitor",
    "student",
    "invalid",
    "leads",
    "mql",
    "sql",
    "won",
)


def _table(first: sa.Column, *extra: sa.Column) -> None:
    op.create_table(
        "submission_rollups",
        first,
        *extra,
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("utm_source", sa.String(length=200), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in MEASURES),
        sa.PrimaryKeyConstraint(first.name, "form_id", "utm_source", name=op.f("pk_submission_rollups")),
    )


def upgrade() -> None:
    op.execute("DELETE FROM rollup_state")
    op.drop_table("submission_rollups")
    _table(sa.Column("starts_at", sa.DateTime(), nullable=False), sa.Column("hours", sa.Integer(), nullable=False))


def downgrade() -> None:
    op.execute("DELETE FROM rollup_state")
    op.drop_table("submission_rollups")
    _table(sa.Column("day", sa.Date(), nullable=False))
