"""ACD: agents' contact, reservation and counters; waiting callers, queue events, alarms

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# frozen copy of the model type (a migration must not change when models.py does)
UTC_DATETIME = sa.DateTime(timezone=True)
AGENT_COUNTERS = ("calls_answered", "talk_seconds", "no_answer_count")


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("contact", sa.String(length=255), nullable=False, server_default=""))
        batch.add_column(sa.Column("reserved_until", UTC_DATETIME, nullable=True))
        batch.add_column(sa.Column("reserved_entry_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("last_offered_at", UTC_DATETIME, nullable=True))
        batch.add_column(sa.Column("last_call_ended_at", UTC_DATETIME, nullable=True))
        for name in AGENT_COUNTERS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "queue_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("call_uuid", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("entered_at", UTC_DATETIME, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("min_level", sa.Integer(), nullable=False),
        sa.Column("callback_number", sa.String(length=32), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_entries")),
        sa.UniqueConstraint("call_uuid", name=op.f("uq_queue_entries_call_uuid")),
    )
    op.create_index("ix_queue_entries_status_queue", "queue_entries", ["status", "queue"])
    op.create_table(
        "queue_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("call_uuid", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_events")),
    )
    op.create_index("ix_queue_events_at_queue", "queue_events", ["at", "queue"])
    op.create_index(op.f("ix_queue_events_call_uuid"), "queue_events", ["call_uuid"])
    op.create_table(
        "acd_alarms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("cleared_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acd_alarms")),
    )
    op.create_index(op.f("ix_acd_alarms_at"), "acd_alarms", ["at"])
    op.create_table(
        "acd_processes",
        sa.Column("instance_id", sa.String(length=64), nullable=False),
        sa.Column("seen_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("instance_id", name=op.f("pk_acd_processes")),
    )


def downgrade() -> None:
    op.drop_table("acd_processes")
    op.drop_table("acd_alarms")
    op.drop_table("queue_events")
    op.drop_table("queue_entries")
    with op.batch_alter_table("agents") as batch:
        for name in ("contact", "reserved_until", "reserved_entry_id", "last_offered_at", "last_call_ended_at"):
            batch.drop_column(name)
        for name in AGENT_COUNTERS:
            batch.drop_column(name)
