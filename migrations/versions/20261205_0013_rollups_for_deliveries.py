"""delivery rollups, the open-deliveries index, and the indexes the rollups' change detection reads

/metrics counted deliveries by status and attempts by outcome over both whole tables on every scrape,
and the sweeper's due-deliveries query walked every delivery when none was due (docs/benchmarks.md,
"Growth"). Now:

- `ix_deliveries_open`: a partial index of the deliveries not delivered (pending, sending, retrying,
  failed, dead), which the sweeper and /metrics read;
- `delivery_rollups` (deliveries created per day) and `delivery_attempt_rollups` (attempts per day and
  outcome), filled by the worker's sweep turn like `submission_rollups`, with `deliveries.created_at`
  and `delivery_attempts.at` indexed for it;
- the rollups find leads whose stage changed through `stage_changes.at` (indexed) instead of
  `leads.updated_at`, which every returning visitor's score touches: that index goes.

The rollup state is reset, so the next sweep turn counts every day once, deliveries included.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status <> 'delivered'")


def upgrade() -> None:
    op.create_table(
        "delivery_rollups",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_delivery_rollups")),
    )
    op.create_table(
        "delivery_attempt_rollups",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "ok", "status_code", name=op.f("pk_delivery_attempt_rollups")),
    )
    op.execute("DELETE FROM rollup_state")
    op.drop_index("ix_leads_updated_at", table_name="leads")
    op.create_index("ix_stage_changes_at", "stage_changes", ["at"])
    if op.get_bind().dialect.name != "postgresql":
        op.create_index("ix_deliveries_open", "deliveries", ["status"], sqlite_where=OPEN)
        op.create_index("ix_deliveries_created_at", "deliveries", ["created_at"])
        op.create_index("ix_delivery_attempts_at", "delivery_attempts", ["at"])
        return
    with op.get_context().autocommit_block():  # large tables: built without blocking writes
        op.create_index(
            "ix_deliveries_open",
            "deliveries",
            ["status"],
            postgresql_where=OPEN,
            postgresql_concurrently=True,
            if_not_exists=True,
        )
        op.create_index(
            "ix_deliveries_created_at", "deliveries", ["created_at"], postgresql_concurrently=True, if_not_exists=True
        )
        op.create_index(
            "ix_delivery_attempts_at", "delivery_attempts", ["at"], postgresql_concurrently=True, if_not_exists=True
        )


def downgrade() -> None:
    op.drop_index("ix_delivery_attempts_at", table_name="delivery_attempts")
    op.drop_index("ix_deliveries_created_at", table_name="deliveries")
    op.drop_index("ix_deliveries_open", table_name="deliveries")
    op.drop_index("ix_stage_changes_at", table_name="stage_changes")
    op.create_index("ix_leads_updated_at", "leads", ["updated_at"])
    op.drop_table("delivery_attempt_rollups")
    op.drop_table("delivery_rollups")
