"""two-dimensional lead score (fit, engagement, breakdown), stage reason and pin, duplicate submissions

A lead's score was one number computed and thrown away; it is now fit (who the person is) and
engagement (what they did, decaying) with the breakdown that explains both, the reason for the
current stage, and who pinned the stage when a person chose it. A submission posted again within
minutes (double click) points at the first through `duplicate_of_id`. Existing leads upgrade
with zero fit and engagement and an empty breakdown until their next fill scores them; their
stage reason is that of their latest stage change.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("leads") as batch:
        batch.add_column(sa.Column("fit", sa.Integer(), nullable=False, server_default=sa.text("0")))
        batch.add_column(sa.Column("engagement", sa.Integer(), nullable=False, server_default=sa.text("0")))
        batch.add_column(sa.Column("score_breakdown", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch.add_column(sa.Column("scored_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("stage_reason", sa.Text(), nullable=False, server_default=sa.text("''")))
        batch.add_column(sa.Column("stage_set_by", sa.String(length=320), nullable=True))
        batch.add_column(sa.Column("stage_set_at", sa.DateTime(), nullable=True))
    # Existing leads: the reason of their latest stage change is why they are where they are.
    op.execute(
        "UPDATE leads SET stage_reason = COALESCE((SELECT reason FROM stage_changes "
        "WHERE stage_changes.lead_id = leads.id ORDER BY stage_changes.id DESC LIMIT 1), '')"
    )
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("duplicate_of_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_submissions_duplicate_of_id_submissions",
            "submissions",
            ["duplicate_of_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_submissions_duplicate_of_id", ["duplicate_of_id"])


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_index("ix_submissions_duplicate_of_id")
        batch.drop_constraint("fk_submissions_duplicate_of_id_submissions", type_="foreignkey")
        batch.drop_column("duplicate_of_id")
    with op.batch_alter_table("leads") as batch:
        batch.drop_column("stage_set_at")
        batch.drop_column("stage_set_by")
        batch.drop_column("stage_reason")
        batch.drop_column("scored_at")
        batch.drop_column("score_breakdown")
        batch.drop_column("engagement")
        batch.drop_column("fit")
