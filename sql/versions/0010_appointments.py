"""Appointments: departments, doctors, slots and bookings; the HIS links (HL7 messages, API clients);
the hospital's patient identifier

Revision ID: 0010_appointments
Revises: 0009_contact_form
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010_appointments"
down_revision = "0009_contact_form"
branch_labels = None
depends_on = None

# frozen copies of the model types (a migration must not change when the models do)
UTC_DATETIME = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "api_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=128), nullable=False),
        sa.Column("scopes", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("last_used_at", UTC_DATETIME, nullable=True),
        sa.Column("revoked_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_clients")),
        sa.UniqueConstraint("name", name=op.f("uq_api_clients_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_clients_token_hash")),
    )
    op.create_table(
        "departments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("names", JSON_DOCUMENT, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departments")),
        sa.UniqueConstraint("code", name=op.f("uq_departments_code")),
    )
    op.create_table(
        "hl7_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("control_id", sa.String(length=64), nullable=False),
        sa.Column("message_type", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.String(length=512), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("peer", sa.String(length=128), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC_DATETIME, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("done_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hl7_messages")),
    )
    with op.batch_alter_table("hl7_messages") as batch_op:
        batch_op.create_index(batch_op.f("ix_hl7_messages_control_id"), ["control_id"], unique=False)
        batch_op.create_index("ix_hl7_messages_direction_status", ["direction", "status"], unique=False)

    op.create_table(
        "doctors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("is_expert", sa.Boolean(), nullable=False),
        sa.Column("expert_hours", sa.String(length=256), nullable=False),
        sa.Column("dial_string", sa.String(length=128), nullable=False),
        sa.Column("languages", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_doctors_department_id_departments"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_doctors")),
        sa.UniqueConstraint("code", name=op.f("uq_doctors_code")),
    )
    with op.batch_alter_table("doctors") as batch_op:
        batch_op.create_index(batch_op.f("ix_doctors_department_id"), ["department_id"], unique=False)

    op.create_table(
        "slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("doctor_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", UTC_DATETIME, nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_slots_department_id_departments"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["doctor_id"], ["doctors.id"], name=op.f("fk_slots_doctor_id_doctors"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slots")),
        sa.UniqueConstraint("doctor_id", "starts_at", name=op.f("uq_slots_doctor_id_starts_at")),
        sa.UniqueConstraint("external_id", name=op.f("uq_slots_external_id")),
    )
    with op.batch_alter_table("slots") as batch_op:
        batch_op.create_index("ix_slots_department_id_starts_at", ["department_id", "starts_at"], unique=False)

    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("held_slot_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("moved_from_id", sa.Integer(), nullable=True),
        sa.Column("external_id", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("booked_by", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=256), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.Column("cancelled_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["held_slot_id"], ["slots.id"], name=op.f("fk_appointments_held_slot_id_slots"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["moved_from_id"],
            ["appointments.id"],
            name=op.f("fk_appointments_moved_from_id_appointments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_appointments_patient_id_patients"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["slots.id"], name=op.f("fk_appointments_slot_id_slots"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
        sa.UniqueConstraint("external_id", name=op.f("uq_appointments_external_id")),
        sa.UniqueConstraint("held_slot_id", name=op.f("uq_appointments_held_slot_id")),
    )
    with op.batch_alter_table("appointments") as batch_op:
        batch_op.create_index("ix_appointments_patient_id_status", ["patient_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_appointments_slot_id"), ["slot_id"], unique=False)

    with op.batch_alter_table("patients") as batch_op:
        batch_op.add_column(sa.Column("hospital_id", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_patients_hospital_id"), ["hospital_id"])


def downgrade() -> None:

    with op.batch_alter_table("patients") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_patients_hospital_id"), type_="unique")
        batch_op.drop_column("hospital_id")

    with op.batch_alter_table("appointments") as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointments_slot_id"))
        batch_op.drop_index("ix_appointments_patient_id_status")

    op.drop_table("appointments")
    with op.batch_alter_table("slots") as batch_op:
        batch_op.drop_index("ix_slots_department_id_starts_at")

    op.drop_table("slots")
    with op.batch_alter_table("doctors") as batch_op:
        batch_op.drop_index(batch_op.f("ix_doctors_department_id"))

    op.drop_table("doctors")
    with op.batch_alter_table("hl7_messages") as batch_op:
        batch_op.drop_index("ix_hl7_messages_direction_status")
        batch_op.drop_index(batch_op.f("ix_hl7_messages_control_id"))

    op.drop_table("hl7_messages")
    op.drop_table("departments")
    op.drop_table("api_clients")
