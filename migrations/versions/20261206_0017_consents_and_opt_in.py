"""separate consents per submission, double opt-in, unsubscribe, and one delivery per event

- `submissions.consents`: each consent box shown (contact, marketing) with its exact text, version, time
  and language. Existing rows are converted: a ticked single consent becomes the contact consent with the
  text and version stored then (language unknown: ""); the old three columns stay as they are.
- `opt_ins`: the double opt-in of a submission's marketing consent (pending, confirmed, expired).
- `leads.unsubscribed_at`: when the person withdrew marketing consent.
- `deliveries.event_key`: a later event about an already-routed submission (sales feedback, a withdrawn
  consent's lead.updated) gets a delivery of its own; existing rows get "" (their routing), so the unique
  key (submission, destination, event_key) keeps one routing delivery per destination. SQLite rebuilds
  the table for it, so its partial index is dropped first and built again after.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status <> 'delivered'")
KEY = "uq_deliveries_submission_destination"

CONVERT = {
    "postgresql": (
        "UPDATE submissions SET consents = json_build_object('contact', json_build_object("
        "'given', true, 'text', consent_text, 'version', consent_text_version, "
        "'at', to_char(received_at, 'YYYY-MM-DD\"T\"HH24:MI:SS') || 'Z', 'language', '')) WHERE consent_given"
    ),
    "sqlite": (
        "UPDATE submissions SET consents = json_object('contact', json_object("
        "'given', json('true'), 'text', consent_text, 'version', consent_text_version, "
        "'at', strftime('%Y-%m-%dT%H:%M:%SZ', received_at), 'language', '')) WHERE consent_given"
    ),
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("consents", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
    op.execute(CONVERT["postgresql" if dialect == "postgresql" else "sqlite"])
    with op.batch_alter_table("leads") as batch:
        batch.add_column(sa.Column("unsubscribed_at", sa.DateTime(), nullable=True))
    _delivery_key(["submission_id", "destination_id", "event_key"], add=True, dialect=dialect)
    op.create_table(
        "opt_ins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_opt_ins_lead_id_leads"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submissions.id"], name=op.f("fk_opt_ins_submission_id_submissions"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opt_ins")),
        sa.UniqueConstraint("submission_id", name=op.f("uq_opt_ins_submission_id")),
    )
    op.create_index(op.f("ix_opt_ins_lead_id"), "opt_ins", ["lead_id"])
    op.create_index(op.f("ix_opt_ins_expires_at"), "opt_ins", ["expires_at"])


def _delivery_key(columns: list[str], *, add: bool, dialect: str) -> None:
    """Swap the deliveries' unique key (and add or drop `event_key`)."""
    if dialect != "postgresql":
        op.drop_index("ix_deliveries_open", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        if add:
            batch.add_column(sa.Column("event_key", sa.String(length=64), nullable=False, server_default=""))
        batch.drop_constraint(KEY, type_="unique")
        batch.create_unique_constraint(KEY, columns)
        if not add:
            batch.drop_column("event_key")
    if dialect != "postgresql":
        op.create_index("ix_deliveries_open", "deliveries", ["status"], sqlite_where=OPEN)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.drop_index(op.f("ix_opt_ins_expires_at"), table_name="opt_ins")
    op.drop_index(op.f("ix_opt_ins_lead_id"), table_name="opt_ins")
    op.drop_table("opt_ins")
    op.execute("DELETE FROM deliveries WHERE event_key <> ''")
    _delivery_key(["submission_id", "destination_id"], add=False, dialect=dialect)
    with op.batch_alter_table("leads") as batch:
        batch.drop_column("unsubscribed_at")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("consents")
