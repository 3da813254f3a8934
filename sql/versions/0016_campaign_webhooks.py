"""Campaign webhooks: one row per finished target told to the campaign's webhook URL, retried until delivered

Revision ID: 0016_campaign_webhooks
Revises: 0015_kb_drafts
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_campaign_webhooks"
down_revision = "0015_kb_drafts"
branch_labels = None
depends_on = None

# a frozen copy of the model type (a migration must not change when the models do)
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "campaign_webhook_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("next_try_at", UTC_DATETIME, nullable=False),
        sa.Column("delivered_at", UTC_DATETIME, nullable=True),
        sa.Column("last_status", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_webhook_posts_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["campaign_targets.id"],
            name=op.f("fk_campaign_webhook_posts_target_id_campaign_targets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_webhook_posts")),
        sa.UniqueConstraint("target_id", name=op.f("uq_campaign_webhook_posts_target_id")),
    )
    op.create_index(
        op.f("ix_campaign_webhook_posts_campaign_id"), "campaign_webhook_posts", ["campaign_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_campaign_webhook_posts_campaign_id"), table_name="campaign_webhook_posts")
    op.drop_table("campaign_webhook_posts")
