"""recycled leads due for a revisit: a partial index on leads.revisit_on

The sweeper looks each turn for recycled leads whose revisit date has come (app/leads/revisit.py); only
leads sales gave a date are in the index, so the look-up stays short however many leads there are.
Nothing else changes: existing revisit dates are surfaced from the first turn after this.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHERE = sa.text("revisit_on IS NOT NULL")


def upgrade() -> None:
    op.create_index("ix_leads_revisit_on", "leads", ["revisit_on"], postgresql_where=WHERE, sqlite_where=WHERE)


def downgrade() -> None:
    op.drop_index("ix_leads_revisit_on", table_name="leads")
