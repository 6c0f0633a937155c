"""the feedback loop closed: first touch, revisit dates, API tokens; destinations choose events

- `leads.first_touch_at` (speed to lead: sales reported contact) and `leads.revisit_on` (a recycled
  lead's date to look again);
- `lead_feedback.stage` (where the outcome moved the lead) and `lead_feedback.revisit_on`;
- `api_tokens`: bearer tokens for integrations, scoped (feedback), stored as SHA-256 only;
- `destinations.events`: the event types a destination receives (empty: its kind's default).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("leads") as batch:
        batch.add_column(sa.Column("first_touch_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("revisit_on", sa.Date(), nullable=True))
    with op.batch_alter_table("lead_feedback") as batch:
        batch.add_column(sa.Column("stage", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("revisit_on", sa.Date(), nullable=True))
    with op.batch_alter_table("destinations") as batch:
        batch.add_column(sa.Column("events", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("destination_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["destination_id"],
            ["destinations.id"],
            name=op.f("fk_api_tokens_destination_id_destinations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("api_tokens")
    with op.batch_alter_table("destinations") as batch:
        batch.drop_column("events")
    with op.batch_alter_table("lead_feedback") as batch:
        batch.drop_column("revisit_on")
        batch.drop_column("stage")
    with op.batch_alter_table("leads") as batch:
        batch.drop_column("revisit_on")
        batch.drop_column("first_touch_at")
