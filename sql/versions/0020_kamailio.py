"""The SIP front in the database: agents' SIP digests, the view Kamailio authenticates from, its location table

Revision ID: 0020_kamailio
Revises: 0019_callback_pins
Create Date: 2026-12-05

Kamailio's auth_db reads kamailio_subscriber (username, domain, ha1, ha1b): the digests of agents not
disabled; usrloc keeps registrations in kamailio_location (Kamailio 5.6's columns, version 9), so two
Kamailio instances share them; both check their tables' versions in kamailio_version.
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_kamailio"
down_revision = "0019_callback_pins"
branch_labels = None
depends_on = None

# frozen copies (a migration must not change when the models do)
UTC_DATETIME = sa.DateTime(timezone=True)
TABLE_VERSIONS = {"kamailio_version": 1, "kamailio_subscriber": 7, "kamailio_location": 9}
# ha1b is the digest for a user name written user@domain: our phones never send one, so it never matches
SUBSCRIBER_VIEW = """
CREATE VIEW kamailio_subscriber AS
SELECT agents.extension AS username, agent_sip_digests.domain AS domain,
       agent_sip_digests.a1_hash AS ha1, '' AS ha1b
FROM agent_sip_digests JOIN agents ON agents.id = agent_sip_digests.agent_id
WHERE agents.status <> 'disabled'
"""


def upgrade() -> None:
    op.create_table(
        "agent_sip_digests",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=128), nullable=False),
        sa.Column("a1_hash", sa.String(length=32), nullable=False),
        sa.Column("changed_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_agent_sip_digests_agent_id_agents"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_agent_sip_digests")),
    )
    op.execute(SUBSCRIBER_VIEW)
    versions = op.create_table(
        "kamailio_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=32), nullable=False),
        sa.Column("table_version", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kamailio_version")),
        sa.UniqueConstraint("table_name", name=op.f("uq_kamailio_version_table_name")),
    )
    op.bulk_insert(versions, [{"table_name": name, "table_version": v} for name, v in TABLE_VERSIONS.items()])
    op.create_table(
        "kamailio_location",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ruid", sa.String(length=64), server_default="", nullable=False),
        sa.Column("username", sa.String(length=64), server_default="", nullable=False),
        sa.Column("domain", sa.String(length=64), nullable=True),
        sa.Column("contact", sa.String(length=512), server_default="", nullable=False),
        sa.Column("received", sa.String(length=128), nullable=True),
        sa.Column("path", sa.String(length=512), nullable=True),
        sa.Column("expires", sa.DateTime(), server_default="2030-05-28 21:32:15", nullable=False),
        sa.Column("q", sa.REAL(), server_default="1.0", nullable=False),
        sa.Column("callid", sa.String(length=255), server_default="Default-Call-ID", nullable=False),
        sa.Column("cseq", sa.Integer(), server_default="1", nullable=False),
        sa.Column("last_modified", sa.DateTime(), server_default="2000-01-01 00:00:01", nullable=False),
        sa.Column("flags", sa.Integer(), server_default="0", nullable=False),
        sa.Column("cflags", sa.Integer(), server_default="0", nullable=False),
        sa.Column("user_agent", sa.String(length=255), server_default="", nullable=False),
        sa.Column("socket", sa.String(length=64), nullable=True),
        sa.Column("methods", sa.Integer(), nullable=True),
        sa.Column("instance", sa.String(length=255), nullable=True),
        sa.Column("reg_id", sa.Integer(), server_default="0", nullable=False),
        sa.Column("server_id", sa.Integer(), server_default="0", nullable=False),
        sa.Column("connection_id", sa.Integer(), server_default="0", nullable=False),
        sa.Column("keepalive", sa.Integer(), server_default="0", nullable=False),
        sa.Column("partition", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kamailio_location")),
        sa.UniqueConstraint("ruid", name=op.f("uq_kamailio_location_ruid")),
    )
    op.create_index("ix_kamailio_location_account_contact", "kamailio_location", ["username", "domain", "contact"])
    op.create_index("ix_kamailio_location_expires", "kamailio_location", ["expires"])
    op.create_index("ix_kamailio_location_connection", "kamailio_location", ["server_id", "connection_id"])


def downgrade() -> None:
    op.drop_table("kamailio_location")
    op.drop_table("kamailio_version")
    op.execute("DROP VIEW kamailio_subscriber")
    op.drop_table("agent_sip_digests")
