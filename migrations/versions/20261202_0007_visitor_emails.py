"""visitor e-mails: the confirmation a form promised the visitor, one per accepted submission

Webinar and download pages promise an e-mail (the join link, the download link); nothing sent one.
Each accepted submission of a form that sends one gets a `visitor_emails` row, which the send job
claims with a lease and marks delivered, so the visitor gets it once, with retries.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "visitor_emails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_visitor_emails_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visitor_emails")),
        sa.UniqueConstraint("submission_id", name=op.f("uq_visitor_emails_submission_id")),
    )
    with op.batch_alter_table("visitor_emails", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visitor_emails_next_attempt_at"), ["next_attempt_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("visitor_emails", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visitor_emails_next_attempt_at"))
    op.drop_table("visitor_emails")
