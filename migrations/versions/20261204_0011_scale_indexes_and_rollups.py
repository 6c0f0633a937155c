"""indexes for every admin filter and search, daily rollups, the DNS-hold marker

The admin lists, the dashboard, /metrics and the sweeper's DNS retries read a bounded number of rows
whatever the size of `submissions` (docs/benchmarks.md, "Growth"):

- one index per list filter ending in `received_at` (spam folder by reason, form, utm source and
  campaign); the form's index replaces the one on `form_id` alone;
- trigram indexes (pg_trgm, GIN) on e-mail, names and company on PostgreSQL for the search. When the
  extension cannot be created (no permission), plain indexes of the same names stand in and the search
  still works, by scanning. SQLite has no trigram index: empty partial indexes keep one schema;
- `submissions.dns_held_at`, set by screening when it held a submission because DNS did not answer,
  with a partial index; filled here for the holds that exist;
- `leads.updated_at` indexed, and the `submission_rollups` and `rollup_state` tables (the worker fills
  them on its next sweep turn; until then readers count live, as before).

On PostgreSQL the submission indexes are built CONCURRENTLY (outside the migration's transaction), so
captures keep being stored while a large table is indexed.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCHED = ("email", "first_name", "last_name", "company")
FILTERS = {
    "ix_submissions_verdict_category_received_at": ["verdict", "reason_category", "received_at"],
    "ix_submissions_form_received_at": ["form_id", "received_at"],
    "ix_submissions_utm_source_received_at": ["utm_source", "received_at"],
    "ix_submissions_utm_campaign_received_at": ["utm_campaign", "received_at"],
}


def _trigram_available(bind: sa.Connection) -> bool:
    """Create pg_trgm if it is missing and we may; False when it cannot be had (plain indexes then)."""
    if bind.scalar(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")):
        return True
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError:
        return False
    return True


def upgrade() -> None:
    op.add_column("submissions", sa.Column("dns_held_at", sa.DateTime(), nullable=True))
    op.execute(
        "UPDATE submissions SET dns_held_at = screened_at WHERE status = 'screened' AND verdict = 'held' "
        "AND EXISTS (SELECT 1 FROM findings WHERE findings.submission_id = submissions.id "
        "AND findings.code = 'dns.unknown')"
    )
    op.create_table(
        "submission_rollups",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("utm_source", sa.String(length=200), nullable=False),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in (
                "submissions",
                "received",
                "accepted",
                "held",
                "rejected",
                "spam",
                "competitor",
                "student",
                "invalid",
                "leads",
                "mql",
                "sql",
                "won",
            )
        ),
        sa.PrimaryKeyConstraint("day", "form_id", "utm_source", name=op.f("pk_submission_rollups")),
    )
    op.create_table(
        "rollup_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("covered_until", sa.DateTime(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollup_state")),
    )
    op.create_index("ix_leads_updated_at", "leads", ["updated_at"])

    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        op.drop_index("ix_submissions_form_id", table_name="submissions")
        for name, columns in FILTERS.items():
            op.create_index(name, "submissions", columns)
        for column in SEARCHED:
            op.create_index(f"ix_submissions_{column}_trgm", "submissions", [column], sqlite_where=sa.text("0"))
        op.create_index(
            "ix_submissions_dns_held_at",
            "submissions",
            ["dns_held_at"],
            sqlite_where=sa.text("dns_held_at IS NOT NULL"),
        )
        return

    trigram = _trigram_available(bind)
    with op.get_context().autocommit_block():
        for name, columns in FILTERS.items():
            op.create_index(name, "submissions", columns, postgresql_concurrently=True, if_not_exists=True)
        for column in SEARCHED:
            options = {"postgresql_using": "gin", "postgresql_ops": {column: "gin_trgm_ops"}} if trigram else {}
            op.create_index(
                f"ix_submissions_{column}_trgm",
                "submissions",
                [column],
                postgresql_concurrently=True,
                if_not_exists=True,
                **options,
            )
        op.create_index(
            "ix_submissions_dns_held_at",
            "submissions",
            ["dns_held_at"],
            postgresql_where=sa.text("dns_held_at IS NOT NULL"),
            postgresql_concurrently=True,
            if_not_exists=True,
        )
        op.drop_index("ix_submissions_form_id", table_name="submissions", postgresql_concurrently=True)


def downgrade() -> None:
    op.create_index("ix_submissions_form_id", "submissions", ["form_id"])
    op.drop_index("ix_submissions_dns_held_at", table_name="submissions")
    for column in SEARCHED:
        op.drop_index(f"ix_submissions_{column}_trgm", table_name="submissions")
    for name in FILTERS:
        op.drop_index(name, table_name="submissions")
    op.drop_index("ix_leads_updated_at", table_name="leads")
    op.drop_table("rollup_state")
    op.drop_table("submission_rollups")
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("dns_held_at")
