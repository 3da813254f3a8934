"""Knowledge-base drafts: articles written and reviewed in the console before they are published as files

Revision ID: 0015_kb_drafts
Revises: 0014_chat
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_kb_drafts"
down_revision = "0014_chat"
branch_labels = None
depends_on = None

# a frozen copy of the model type (a migration must not change when the models do)
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "kb_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("submitted_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_drafts")),
        sa.UniqueConstraint("language", "slug", name="uq_kb_drafts_language_slug"),
    )


def downgrade() -> None:
    op.drop_table("kb_drafts")
