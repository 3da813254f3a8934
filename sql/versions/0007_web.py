"""Web console users, roles and login throttling; agents' patient contacts; call wrap-ups

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# frozen copy of the model type (a migration must not change when models.py does)
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "web_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False, server_default=""),
        sa.Column("language", sa.String(length=8), nullable=False, server_default="en"),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_users")),
        sa.UniqueConstraint("name", name=op.f("uq_web_users_name")),
    )
    op.create_table(
        "web_login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_login_attempts")),
    )
    op.create_index("ix_web_login_attempts_name_at", "web_login_attempts", ["name", "at"])
    op.create_index("ix_web_login_attempts_address_at", "web_login_attempts", ["address", "at"])
    op.create_table(
        "web_agent_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("call_uuid", sa.String(length=64), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_agent_contacts")),
    )
    op.create_index("ix_web_agent_contacts_agent_at", "web_agent_contacts", ["agent", "at"])
    op.create_index(op.f("ix_web_agent_contacts_patient_id"), "web_agent_contacts", ["patient_id"])
    op.create_index(op.f("ix_web_agent_contacts_call_uuid"), "web_agent_contacts", ["call_uuid"])
    op.create_table(
        "call_wrapups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_uuid", sa.String(length=64), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_wrapups")),
    )
    op.create_index(op.f("ix_call_wrapups_call_uuid"), "call_wrapups", ["call_uuid"])


def downgrade() -> None:
    op.drop_table("call_wrapups")
    op.drop_table("web_agent_contacts")
    op.drop_table("web_login_attempts")
    op.drop_table("web_users")
