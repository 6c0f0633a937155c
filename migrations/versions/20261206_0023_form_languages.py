"""languages: a form's own texts per language, and the language each submission's page was in

- `forms.translations` (JSON, `{}` for every existing form: no override, the texts as they are);
- `submissions.language` (`en` for every existing submission: their pages were English, so their
  e-mails stay English).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # ALTER TABLE ADD COLUMN with a default, on SQLite too: no copy of the table, whose DROP the foreign keys
    # of existing rows (submissions -> forms) would refuse.
    op.add_column("forms", sa.Column("translations", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
    op.add_column("submissions", sa.Column("language", sa.String(length=16), nullable=False, server_default="en"))


def downgrade() -> None:
    op.drop_column("submissions", "language")  # native DROP COLUMN on SQLite too (3.35+): no table copy
    op.drop_column("forms", "translations")
