"""owners and speed to lead: who owns an SQL, when first touch is due, when it was overdue

- `owners`: salespeople (a user with a login, or a name and an e-mail), in round-robin rotation or not;
- `assignment_rules`: country, company size or form -> owner, first by position wins;
- `leads.owner_id`, `assigned_at`, `sla_due_at`, `sla_breached_at`, with a partial index on the open
  SLA clocks the periodic check reads;
- `first_touches`: one row per assigned lead's first touch, read by the dashboard by `touched_at`.

Existing leads get no owner and no clock (all NULL): nothing changes for them, and no alert fires for
leads assigned before this.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "sla_due_at IS NOT NULL AND first_touch_at IS NULL AND sla_breached_at IS NULL"


def upgrade() -> None:
    op.create_table(
        "owners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("in_rotation", sa.Boolean(), nullable=False),
        sa.Column("last_assigned_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_owners_user_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_owners")),
        sa.UniqueConstraint("email", name=op.f("uq_owners_email")),
    )
    op.create_table(
        "assignment_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["owners.id"], name=op.f("fk_assignment_rules_owner_id_owners"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_rules")),
    )
    op.create_index(op.f("ix_assignment_rules_owner_id"), "assignment_rules", ["owner_id"])
    with op.batch_alter_table("leads") as batch:
        batch.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("assigned_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("sla_due_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("sla_breached_at", sa.DateTime(), nullable=True))
        batch.create_foreign_key(op.f("fk_leads_owner_id_owners"), "owners", ["owner_id"], ["id"], ondelete="SET NULL")
    op.create_index(op.f("ix_leads_owner_id"), "leads", ["owner_id"])
    op.create_index(op.f("ix_leads_sla_breached_at"), "leads", ["sla_breached_at"])
    op.create_index(
        "ix_leads_sla_open",
        "leads",
        ["sla_due_at"],
        postgresql_where=sa.text(OPEN),
        sqlite_where=sa.text(OPEN),
    )
    op.create_table(
        "first_touches",
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("assigned_at", sa.DateTime(), nullable=False),
        sa.Column("touched_at", sa.DateTime(), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.Column("within_sla", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_first_touches_lead_id_leads"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["owners.id"], name=op.f("fk_first_touches_owner_id_owners"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("lead_id", name=op.f("pk_first_touches")),
    )
    op.create_index(op.f("ix_first_touches_touched_at"), "first_touches", ["touched_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_first_touches_touched_at"), table_name="first_touches")
    op.drop_table("first_touches")
    op.drop_index("ix_leads_sla_open", table_name="leads")
    op.drop_index(op.f("ix_leads_sla_breached_at"), table_name="leads")
    op.drop_index(op.f("ix_leads_owner_id"), table_name="leads")
    with op.batch_alter_table("leads") as batch:
        batch.drop_constraint(op.f("fk_leads_owner_id_owners"), type_="foreignkey")
        batch.drop_column("sla_breached_at")
        batch.drop_column("sla_due_at")
        batch.drop_column("assigned_at")
        batch.drop_column("owner_id")
    op.drop_index(op.f("ix_assignment_rules_owner_id"), table_name="assignment_rules")
    op.drop_table("assignment_rules")
    op.drop_table("owners")
