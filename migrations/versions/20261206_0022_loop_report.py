"""the loop reported: rollup columns for how far sales took each new lead, hand-offs by time

- `submission_rollups`: of the new leads counted in a row, those that ever reached MQL, ever reached SQL
  (or a later stage), that sales ever accepted, rejected or won, and the rejections per reason;
- `ix_stage_changes_to_stage_at`: the hand-offs to sales (changes to SQL) in a period, for the time to
  first touch.

Existing rollup rows are not converted in place: `rollup_state` is cleared, so the worker's next sweep
turn counts every bucket again with the new columns (app/reporting/rollups.py `refresh`, as on a first
start); until then readers count live, as before a first turn. The dashboard's figures stay the same.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    "reached_mql",
    "reached_sql",
    "sales_accepted",
    "sales_rejected",
    "sales_won",
    "rejected_not_a_fit",
    "rejected_bad_timing",
    "rejected_no_budget",
    "rejected_duplicate",
    "rejected_already_customer",
    "rejected_spam",
)


def upgrade() -> None:
    with op.batch_alter_table("submission_rollups") as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    op.create_index("ix_stage_changes_to_stage_at", "stage_changes", ["to_stage", "at"])
    op.execute("DELETE FROM rollup_state")


def downgrade() -> None:
    op.drop_index("ix_stage_changes_to_stage_at", table_name="stage_changes")
    with op.batch_alter_table("submission_rollups") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
