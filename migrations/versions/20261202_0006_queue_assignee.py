"""who is working a held submission, so two reviewers do not decide the same one

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 06:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("assigned_to_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_submissions_assigned_to_id_users", "users", ["assigned_to_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index("ix_submissions_assigned_to_id", ["assigned_to_id"])


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_index("ix_submissions_assigned_to_id")
        batch.drop_constraint("fk_submissions_assigned_to_id_users", type_="foreignkey")
        batch.drop_column("assigned_to_id")
