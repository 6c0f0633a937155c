"""learned examples: the human decisions the learned spam model trains on

Reviewers' spam rejections, approvals and releases, and sales' outcomes each become one example per
submission (the latest decision wins), holding only hashed token features, never the text
(screening/learned.py, app/screening_context/learned_model.py). No foreign key to the submission, so
a purge of old rejected submissions keeps what the model learned from them. A new table: existing
installations start with the bundled seed only.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "learned_examples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("features_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learned_examples")),
    )
    with op.batch_alter_table("learned_examples", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_learned_examples_submission_id"), ["submission_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("learned_examples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_learned_examples_submission_id"))
    op.drop_table("learned_examples")
