"""Callbacks: the agent a click-to-call pins one to, when it may be dialled and when it is due

Revision ID: 0019_callback_pins
Revises: 0018_campaign_previews
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_callback_pins"
down_revision = "0018_campaign_previews"
branch_labels = None
depends_on = None

# a frozen copy of the model type (a migration must not change when the models do)
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("queue_entries") as batch:
        batch.add_column(sa.Column("pinned_agent_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("callback_after", UTC_DATETIME, nullable=True))
        batch.add_column(sa.Column("callback_due", UTC_DATETIME, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("queue_entries") as batch:
        batch.drop_column("callback_due")
        batch.drop_column("callback_after")
        batch.drop_column("pinned_agent_id")
