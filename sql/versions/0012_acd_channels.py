"""One ACD for calls, chats and tasks: queue entries and events carry a channel and a contact reference;
agents have a capacity per channel and count their open chats and tasks

Revision ID: 0012_acd_channels
Revises: 0011_campaigns
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_acd_channels"
down_revision = "0011_campaigns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("queue_entries") as batch:
        batch.add_column(sa.Column("channel", sa.String(16), nullable=False, server_default="voice"))
        batch.add_column(sa.Column("contact_ref", sa.String(64), nullable=False, server_default=""))
    with op.batch_alter_table("queue_events") as batch:
        batch.add_column(sa.Column("channel", sa.String(16), nullable=False, server_default="voice"))
    with op.batch_alter_table("agents") as batch:
        for column in ("voice_capacity", "chat_capacity", "task_capacity"):
            batch.add_column(sa.Column(column, sa.Integer(), nullable=True))
        batch.add_column(sa.Column("chats_open", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("tasks_open", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        for column in ("tasks_open", "chats_open", "task_capacity", "chat_capacity", "voice_capacity"):
            batch.drop_column(column)
    with op.batch_alter_table("queue_events") as batch:
        batch.drop_column("channel")
    with op.batch_alter_table("queue_entries") as batch:
        batch.drop_column("contact_ref")
        batch.drop_column("channel")
