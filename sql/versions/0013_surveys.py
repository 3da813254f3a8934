"""Survey responses and their answers, per patient, call, agent, queue and campaign

Revision ID: 0013_surveys
Revises: 0012_acd_channels
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_surveys"
down_revision = "0012_acd_channels"
branch_labels = None
depends_on = None

# a frozen copy of the model type (a migration must not change when the models do)
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey", sa.String(length=64), nullable=False),
        sa.Column("call_uuid", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("campaign", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("answered_at", UTC_DATETIME, nullable=False),
        sa.Column("completed", sa.Boolean(), nullable=False),
        sa.Column("escalated", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_survey_responses_patient_id_patients"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
    )
    with op.batch_alter_table("survey_responses") as batch_op:
        batch_op.create_index("ix_survey_responses_survey_at", ["survey", "answered_at"], unique=False)
        batch_op.create_index("ix_survey_responses_patient_id", ["patient_id"], unique=False)
    op.create_table(
        "survey_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["survey_responses.id"],
            name=op.f("fk_survey_answers_response_id_survey_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_answers")),
    )
    with op.batch_alter_table("survey_answers") as batch_op:
        batch_op.create_index(batch_op.f("ix_survey_answers_response_id"), ["response_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("survey_answers") as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_answers_response_id"))
    op.drop_table("survey_answers")
    with op.batch_alter_table("survey_responses") as batch_op:
        batch_op.drop_index("ix_survey_responses_patient_id")
        batch_op.drop_index("ix_survey_responses_survey_at")
    op.drop_table("survey_responses")
