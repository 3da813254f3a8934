"""PIN attempts, voice messages, patients' language and PIN failure window

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# frozen copy of the model type (a migration must not change when models.py does)
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("patients") as batch:
        batch.add_column(sa.Column("language", sa.String(length=16), nullable=False, server_default=""))
        batch.add_column(sa.Column("pin_failures_since", UTC_DATETIME, nullable=True))
    op.create_table(
        "pin_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("call_uuid", sa.String(length=64), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_pin_attempts_patient_id_patients"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pin_attempts")),
    )
    op.create_index("ix_pin_attempts_patient_id_at", "pin_attempts", ["patient_id", "at"])
    op.create_index(op.f("ix_pin_attempts_call_uuid"), "pin_attempts", ["call_uuid"])
    op.create_table(
        "voice_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_uuid", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_voice_messages_patient_id_patients"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_messages")),
    )
    for column in ("call_uuid", "patient_id", "created_at", "status"):
        op.create_index(op.f(f"ix_voice_messages_{column}"), "voice_messages", [column])


def downgrade() -> None:
    op.drop_table("voice_messages")
    op.drop_table("pin_attempts")
    with op.batch_alter_table("patients") as batch:
        batch.drop_column("pin_failures_since")
        batch.drop_column("language")
