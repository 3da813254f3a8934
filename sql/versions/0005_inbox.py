"""Inbox items of every channel, attachments, patients' e-mail addresses, tickets and their history

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# frozen copy of the model type (a migration must not change when models.py does)
UTC_DATETIME = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def _id(table: str) -> tuple[sa.Column, sa.PrimaryKeyConstraint]:
    return sa.Column("id", sa.Integer(), nullable=False), sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}"))


def _indexes(table: str, *columns: str) -> None:
    for column in columns:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column])


def upgrade() -> None:
    op.create_table(
        "patient_emails",
        *_id("patient_emails"),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        _fk("patient_emails", "patient_id", "patients", "CASCADE"),
        sa.UniqueConstraint("patient_id", "address", name=op.f("uq_patient_emails_patient_id_address")),
    )
    _indexes("patient_emails", "address")
    op.create_table(
        "inbox_items",
        *_id("inbox_items"),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("sender", sa.Text(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", UTC_DATETIME, nullable=False),
        sa.Column("thread_key", sa.String(length=255), nullable=False),
        sa.Column("needs_reply", sa.Boolean(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("assigned_to", sa.String(length=128), nullable=True),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        _fk("inbox_items", "patient_id", "patients", "SET NULL"),
        sa.UniqueConstraint("channel", "external_id", name=op.f("uq_inbox_items_channel_external_id")),
    )
    _indexes("inbox_items", "channel", "patient_id", "received_at", "thread_key", "assigned_to")
    op.create_table(
        "inbox_attachments",
        *_id("inbox_attachments"),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        _fk("inbox_attachments", "item_id", "inbox_items", "CASCADE"),
    )
    _indexes("inbox_attachments", "item_id")
    _create_tickets()


def _create_tickets() -> None:
    op.create_table(
        "tickets",
        *_id("tickets"),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("due_at", UTC_DATETIME, nullable=False),
        sa.Column("escalated_at", UTC_DATETIME, nullable=True),
        sa.Column("resolved_at", UTC_DATETIME, nullable=True),
        sa.Column("closed_at", UTC_DATETIME, nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("inbox_item_id", sa.Integer(), nullable=True),
        sa.Column("voice_message_id", sa.Integer(), nullable=True),
        _fk("tickets", "patient_id", "patients", "SET NULL"),
        _fk("tickets", "inbox_item_id", "inbox_items", "SET NULL"),
        _fk("tickets", "voice_message_id", "voice_messages", "SET NULL"),
        sa.UniqueConstraint("voice_message_id", name=op.f("uq_tickets_voice_message_id")),
    )
    _indexes("tickets", "patient_id", "category", "department", "state", "created_at")
    op.create_table(
        "ticket_events",
        *_id("ticket_events"),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=24), nullable=False),
        sa.Column("to_state", sa.String(length=24), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        _fk("ticket_events", "ticket_id", "tickets", "CASCADE"),
    )
    _indexes("ticket_events", "ticket_id")


def downgrade() -> None:
    for table in ("ticket_events", "tickets", "inbox_attachments", "inbox_items", "patient_emails"):
        op.drop_table(table)
