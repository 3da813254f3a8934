"""The node each agent's phone registered through, and when that registration lapses (agents)

Revision ID: 0021_agent_registration_node
Revises: 0020_kamailio
Create Date: 2026-12-09
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_agent_registration_node"
down_revision = "0020_kamailio"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("registered_node", sa.String(length=64), nullable=False, server_default=""))
        batch.add_column(sa.Column("registered_at", UTC_DATETIME, nullable=True))
        batch.add_column(sa.Column("registration_expires_at", UTC_DATETIME, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        for name in ("registration_expires_at", "registered_at", "registered_node"):
            batch.drop_column(name)
