"""SMS and fax transmissions with per-attempt status

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# frozen copy of the model type (a migration must not change when models.py does)
UTC_DATETIME = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "sms_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_batches")),
        sa.UniqueConstraint("key", name=op.f("uq_sms_batches_key")),
    )
    op.create_table(
        "sms_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("recipient", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("dlr_status", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("sent_at", UTC_DATETIME, nullable=True),
        sa.Column("delivered_at", UTC_DATETIME, nullable=True),
        _fk("sms_messages", "batch_id", "sms_batches", "CASCADE"),
        _fk("sms_messages", "patient_id", "patients", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_messages")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_sms_messages_idempotency_key")),
        sa.UniqueConstraint("message_id", name=op.f("uq_sms_messages_message_id")),
    )
    for column in ("batch_id", "patient_id", "status"):
        op.create_index(op.f(f"ix_sms_messages_{column}"), "sms_messages", [column])
    op.create_table(
        "sms_opt_outs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("keyword", sa.String(length=32), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_opt_outs")),
        sa.UniqueConstraint("number", name=op.f("uq_sms_opt_outs_number")),
    )
    op.create_table(
        "fax_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("source_name", sa.Text(), nullable=False),
        sa.Column("tiff_path", sa.Text(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        _fk("fax_jobs", "patient_id", "patients", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fax_jobs")),
    )
    for column in ("patient_id", "status", "created_at"):
        op.create_index(op.f(f"ix_fax_jobs_{column}"), "fax_jobs", [column])
    op.create_table(
        "fax_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("call_uuid", sa.String(length=64), nullable=False),
        sa.Column("started_at", UTC_DATETIME, nullable=False),
        sa.Column("ended_at", UTC_DATETIME, nullable=True),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("result_code", sa.Integer(), nullable=True),
        sa.Column("result_text", sa.Text(), nullable=False),
        sa.Column("pages_sent", sa.Integer(), nullable=False),
        sa.Column("total_pages", sa.Integer(), nullable=False),
        sa.Column("hangup_cause", sa.String(length=64), nullable=False),
        _fk("fax_attempts", "job_id", "fax_jobs", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fax_attempts")),
    )
    op.create_index(op.f("ix_fax_attempts_job_id"), "fax_attempts", ["job_id"])


def downgrade() -> None:
    op.drop_table("fax_attempts")
    op.drop_table("fax_jobs")
    op.drop_table("sms_opt_outs")
    op.drop_table("sms_messages")
    op.drop_table("sms_batches")
