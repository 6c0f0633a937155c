"""alerts: conditions that need a person, the notices sent for them, and which destinations take them

`alerts` holds one row per time a condition opened (dead deliveries, an old screening queue, DNS
down, workers gone, a form posted from a site not on its list, a spike in rejections); a partial
unique index allows one open alert per key. `alert_notices` is one alert event for one destination,
retried like a delivery. Destinations get `alerts` and `alert_digest` (both off for existing rows).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("destinations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alerts", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("alert_digest", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("notified_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_opened_at"), ["opened_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_resolved_at"), ["resolved_at"], unique=False)
        batch_op.create_index(
            "uq_alerts_open_key",
            ["key"],
            unique=True,
            sqlite_where=sa.text("resolved_at IS NULL"),
            postgresql_where=sa.text("resolved_at IS NULL"),
        )
    op.create_table(
        "alert_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("destination_id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_alert_notices_alert_id_alerts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["destination_id"],
            ["destinations.id"],
            name=op.f("fk_alert_notices_destination_id_destinations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_notices")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_alert_notices_idempotency_key")),
    )
    with op.batch_alter_table("alert_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_notices_alert_id"), ["alert_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_notices_destination_id"), ["destination_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_notices_next_attempt_at"), ["next_attempt_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alert_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_notices_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_alert_notices_destination_id"))
        batch_op.drop_index(batch_op.f("ix_alert_notices_alert_id"))
    op.drop_table("alert_notices")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("uq_alerts_open_key")
        batch_op.drop_index(batch_op.f("ix_alerts_resolved_at"))
        batch_op.drop_index(batch_op.f("ix_alerts_opened_at"))
    op.drop_table("alerts")
    with op.batch_alter_table("destinations", schema=None) as batch_op:
        batch_op.drop_column("alert_digest")
        batch_op.drop_column("alerts")
