"""the leads list as a list of people: last activity, an engagement order key, and an index per order

- `leads.last_activity_at`: the person's latest submission or sales' latest feedback (existing leads:
  the latest of those, else when the lead was created);
- `leads.engagement_key`: orders leads by engagement decayed to any one moment (screening/ranking.py),
  computed for existing leads from their stored breakdown, so the list sorts them as it shows them;
- indexes for each order of the list, alone, within a stage, and (last activity) within an outcome or
  an owner.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 10:30:00
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

from screening.ranking import NO_ENGAGEMENT, engagement_key

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORDERS = (("last_activity", "last_activity_at"), ("engagement_key", "engagement_key"), ("fit", "fit"))
BATCH = 2000


def _keys() -> None:
    """engagement_key for every lead, BATCH at a time, from what is stored."""
    bind = op.get_bind()
    leads = sa.table(
        "leads",
        sa.column("id", sa.Integer),
        sa.column("score_breakdown", sa.JSON),
        sa.column("engagement", sa.Integer),
        sa.column("scored_at", sa.DateTime),
        sa.column("engagement_key", sa.Double),
    )
    last = 0
    while rows := bind.execute(
        sa.select(leads.c.id, leads.c.score_breakdown, leads.c.engagement, leads.c.scored_at)
        .where(leads.c.id > last)
        .order_by(leads.c.id)
        .limit(BATCH)
    ).all():
        bind.execute(
            leads.update().where(leads.c.id == sa.bindparam("lead_id")).values(engagement_key=sa.bindparam("key")),
            [
                {
                    "lead_id": row.id,
                    "key": engagement_key(
                        row.score_breakdown, fallback_points=row.engagement or 0, fallback_at=_time(row.scored_at)
                    ),
                }
                for row in rows
            ],
        )
        last = rows[-1].id


def _time(value: object) -> datetime | None:
    """A time as the driver gives it (a datetime, or ISO text)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def upgrade() -> None:
    # NOT NULL from the start with a placeholder default, then every row set below: on SQLite this stays an
    # ALTER TABLE ADD COLUMN (no copy of the table, whose DROP the submissions' foreign keys would refuse).
    op.add_column("leads", sa.Column("engagement_key", sa.Double(), nullable=False, server_default=str(NO_ENGAGEMENT)))
    op.add_column(
        "leads",
        sa.Column("last_activity_at", sa.DateTime(), nullable=False, server_default="1970-01-01 00:00:00"),
    )
    op.execute(
        "UPDATE leads SET last_activity_at = COALESCE("
        "(SELECT max(received_at) FROM submissions WHERE submissions.lead_id = leads.id), created_at)"
    )
    op.execute(
        "UPDATE leads SET last_activity_at = (SELECT max(at) FROM lead_feedback WHERE lead_feedback.lead_id = leads.id) "
        "WHERE (SELECT max(at) FROM lead_feedback WHERE lead_feedback.lead_id = leads.id) > last_activity_at"
    )
    _keys()
    if op.get_bind().dialect.name == "postgresql":  # the model has no server default (SQLite keeps it: harmless)
        op.alter_column("leads", "engagement_key", server_default=None)
        op.alter_column("leads", "last_activity_at", server_default=None)
    for name, column in ORDERS:
        op.create_index(f"ix_leads_{name}", "leads", [column, "id"])
        op.create_index(f"ix_leads_stage_{name}", "leads", ["stage", column, "id"])
    op.create_index("ix_leads_outcome_last_activity", "leads", ["outcome", "last_activity_at", "id"])
    op.create_index("ix_leads_owner_last_activity", "leads", ["owner_id", "last_activity_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_leads_owner_last_activity", table_name="leads")
    op.drop_index("ix_leads_outcome_last_activity", table_name="leads")
    for name, _column in ORDERS:
        op.drop_index(f"ix_leads_stage_{name}", table_name="leads")
        op.drop_index(f"ix_leads_{name}", table_name="leads")
    op.drop_column("leads", "last_activity_at")  # native DROP COLUMN on SQLite too (3.35+): no table copy
    op.drop_column("leads", "engagement_key")
