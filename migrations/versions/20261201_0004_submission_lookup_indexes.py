"""indexes for the velocity counts, the screening queue, the spam folder and audit timelines

Without them each screening counted recent submissions by scanning the whole table, so a worker
slowed down as the table grew (docs/benchmarks.md).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 21:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_submissions_verdict_received_at", "submissions", ["verdict", "received_at"])
    op.create_index("ix_submissions_ip_received_at", "submissions", ["ip", "received_at"])
    op.create_index("ix_submissions_received_at", "submissions", ["received_at"])
    op.create_index("ix_audit_events_subject", "audit_events", ["subject_type", "subject_id"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_subject", table_name="audit_events")
    op.drop_index("ix_submissions_received_at", table_name="submissions")
    op.drop_index("ix_submissions_ip_received_at", table_name="submissions")
    op.drop_index("ix_submissions_verdict_received_at", table_name="submissions")
