"""The channel an agent talks to on each offered call (web_agent_contacts.leg_uuid): a callback's
originated leg, which the workstation's call controls act on

Revision ID: 0022_contact_leg
Revises: 0021_agent_registration_node
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0022_contact_leg"
down_revision = "0021_agent_registration_node"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("web_agent_contacts") as batch:
        batch.add_column(sa.Column("leg_uuid", sa.String(length=64), nullable=False, server_default=""))
        batch.create_index("ix_web_agent_contacts_leg_uuid", ["leg_uuid"])


def downgrade() -> None:
    with op.batch_alter_table("web_agent_contacts") as batch:
        batch.drop_index("ix_web_agent_contacts_leg_uuid")
        batch.drop_column("leg_uuid")
