"""Unverified web-form messages: the patient they name is a suggestion until staff file them

Revision ID: 0009_contact_form
Revises: 0008_web_sessions
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_contact_form"
down_revision = "0008_web_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbox_items") as batch:
        batch.add_column(sa.Column("suggested_patient_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_inbox_items_suggested_patient_id_patients"),
            "patients",
            ["suggested_patient_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index(op.f("ix_inbox_items_suggested_patient_id"), ["suggested_patient_id"])


def downgrade() -> None:
    with op.batch_alter_table("inbox_items") as batch:
        batch.drop_index(op.f("ix_inbox_items_suggested_patient_id"))
        batch.drop_constraint(op.f("fk_inbox_items_suggested_patient_id_patients"), type_="foreignkey")
        batch.drop_column("suggested_patient_id")
