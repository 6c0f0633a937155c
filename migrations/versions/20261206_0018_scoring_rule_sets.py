"""scoring rules in the admin: saved versions with their diff, and re-score runs with progress

- `scoring_rule_sets`: one row per save (every rule, what changed, who, when); the newest is in force;
- `rescore_runs`: re-scoring the existing leads under one rule set (status, n of total, the cursor).

No row is written: until someone saves rules in the admin, the settings stay in force as before.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scoring_rule_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scoring_rule_sets")),
    )
    op.create_table(
        "rescore_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_set_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("promoted", sa.Integer(), nullable=False),
        sa.Column("suggested", sa.Integer(), nullable=False),
        sa.Column("last_lead_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["rule_set_id"],
            ["scoring_rule_sets.id"],
            name=op.f("fk_rescore_runs_rule_set_id_scoring_rule_sets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rescore_runs")),
    )
    op.create_index(op.f("ix_rescore_runs_rule_set_id"), "rescore_runs", ["rule_set_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_rescore_runs_rule_set_id"), table_name="rescore_runs")
    op.drop_table("rescore_runs")
    op.drop_table("scoring_rule_sets")
