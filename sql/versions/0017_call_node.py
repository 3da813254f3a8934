"""The FreeSWITCH node each call was on (calls.node, its switchname)

Revision ID: 0017_call_node
Revises: 0016_campaign_webhooks
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_call_node"
down_revision = "0016_campaign_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("node", sa.String(length=64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("node")
