"""an index for looking up one e-mail, whole or by its start, in any case

The trigram index on `submissions.email` answers "@acme.com" anywhere, but for a whole address its
common trigrams (".co", "com", "@..") made PostgreSQL read long posting lists: about 29 ms at a million
submissions, growing with the table (docs/benchmarks.md, "Growth"). A b-tree on lower(email) finds one
address, or the addresses starting with some text, in a few index pages:

- PostgreSQL: lower(email) with text_pattern_ops (equality and LIKE 'start%' whatever the collation),
  built CONCURRENTLY so captures keep being stored;
- SQLite: `email COLLATE NOCASE`, which answers `= ... COLLATE NOCASE` and the case-insensitive
  LIKE 'start%' there, and which schema comparison sees as the same index (app/models.py).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute("CREATE INDEX ix_submissions_email_lower ON submissions (email COLLATE NOCASE)")
        return
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_submissions_email_lower",
            "submissions",
            [sa.text("lower(email) text_pattern_ops")],
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def downgrade() -> None:
    op.drop_index("ix_submissions_email_lower", table_name="submissions")
