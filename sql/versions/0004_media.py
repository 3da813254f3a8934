"""Recordings of bridged calls and their archive state

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# frozen copy of the model type (a migration must not change when models.py does)
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "recordings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_uuid", sa.String(length=64), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("started_at", UTC_DATETIME, nullable=False),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("agent_name", sa.String(length=128), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("size_bytes", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("archive_state", sa.String(length=16), nullable=False),
        sa.Column("s3_key", sa.Text(), nullable=True),
        sa.Column("archived_at", UTC_DATETIME, nullable=True),
        sa.Column("archive_attempts", sa.Integer(), nullable=False),
        sa.Column("archive_error", sa.Text(), nullable=False),
        sa.Column("archive_error_at", UTC_DATETIME, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_recordings_patient_id_patients"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recordings")),
        sa.UniqueConstraint("call_uuid", name=op.f("uq_recordings_call_uuid")),
    )
    for column in ("started_at", "agent_name", "queue", "patient_id", "archive_state"):
        op.create_index(op.f(f"ix_recordings_{column}"), "recordings", [column])


def downgrade() -> None:
    op.drop_table("recordings")
