"""Web chat: chat sessions (anonymous or a signed-in patient, state, agent) and their messages

Revision ID: 0014_chat
Revises: 0013_surveys
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_chat"
down_revision = "0013_surveys"
branch_labels = None
depends_on = None

# a frozen copy of the model type (a migration must not change when the models do)
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "chat_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("verified_by", sa.String(length=8), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=True),
        sa.Column("started_at", UTC_DATETIME, nullable=False),
        sa.Column("waiting_since", UTC_DATETIME, nullable=True),
        sa.Column("ended_at", UTC_DATETIME, nullable=True),
        sa.Column("inbox_item_id", sa.Integer(), nullable=True),
        sa.Column("code_hash", sa.Text(), nullable=False),
        sa.Column("code_patient_id", sa.Integer(), nullable=True),
        sa.Column("code_until", UTC_DATETIME, nullable=True),
        sa.Column("code_failures", sa.Integer(), nullable=False),
        sa.Column("wrapup_code", sa.String(length=64), nullable=False),
        sa.Column("wrapup_notes", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_chat_sessions_patient_id_patients"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["code_patient_id"],
            ["patients.id"],
            name=op.f("fk_chat_sessions_code_patient_id_patients"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["inbox_item_id"],
            ["inbox_items.id"],
            name=op.f("fk_chat_sessions_inbox_item_id_inbox_items"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_sessions")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_chat_sessions_token_sha256")),
    )
    op.create_index(op.f("ix_chat_sessions_state"), "chat_sessions", ["state"])
    op.create_index(op.f("ix_chat_sessions_patient_id"), "chat_sessions", ["patient_id"])
    op.create_index(op.f("ix_chat_sessions_agent"), "chat_sessions", ["agent"])
    op.create_index(op.f("ix_chat_sessions_started_at"), "chat_sessions", ["started_at"])
    op.create_table(
        "chat_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("who", sa.String(length=16), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("article_slug", sa.String(length=128), nullable=False),
        sa.Column("attachment_path", sa.Text(), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["chat_sessions.id"],
            name=op.f("fk_chat_messages_session_id_chat_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_messages")),
    )
    op.create_index(op.f("ix_chat_messages_session_id"), "chat_messages", ["session_id"])


def downgrade() -> None:
    op.drop_table("chat_messages")
    op.drop_table("chat_sessions")
