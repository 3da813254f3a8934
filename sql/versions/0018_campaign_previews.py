"""Preview campaigns: the patient reserved for each agent (campaign_previews), one per agent and per target

Revision ID: 0018_campaign_previews
Revises: 0017_call_node
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_campaign_previews"
down_revision = "0017_call_node"
branch_labels = None
depends_on = None

# a frozen copy of the model type (a migration must not change when the models do)
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "campaign_previews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reserved_at", UTC_DATETIME, nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=True),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["contact_attempts.id"],
            name=op.f("fk_campaign_previews_attempt_id_contact_attempts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_previews_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["campaign_targets.id"],
            name=op.f("fk_campaign_previews_target_id_campaign_targets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_previews")),
        sa.UniqueConstraint("agent", name=op.f("uq_campaign_previews_agent")),
        sa.UniqueConstraint("target_id", name=op.f("uq_campaign_previews_target_id")),
    )
    op.create_index(op.f("ix_campaign_previews_campaign_id"), "campaign_previews", ["campaign_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_campaign_previews_campaign_id"), table_name="campaign_previews")
    op.drop_table("campaign_previews")
