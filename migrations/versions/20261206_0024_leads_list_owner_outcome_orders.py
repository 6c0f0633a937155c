"""the leads list ordered by engagement or fit within an outcome or an owner, from an index

EXPLAIN on PostgreSQL (300,000 leads): "won, best fit first" walked the fit index and filtered (1.3 s);
with (outcome, fit, id) and the like each of these reads its page from an index, as last activity already
did (migration 0019).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 11:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    f"ix_leads_{filtered}_{order}": [column, key, "id"]
    for filtered, column in (("outcome", "outcome"), ("owner", "owner_id"))
    for order, key in (("engagement_key", "engagement_key"), ("fit", "fit"))
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "leads", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="leads")
