"""who may see a photo: links vouched for by their linker, holders who proved the bytes

Revision ID: 0019
Revises: 0021
Create Date: 2026-12-07 22:00:00

Written by hand. ``photo_link.vouched``: the linker could see the photo when linking (every
existing link: true); a link by one who could not shows the photo on its case only once the
linker uploads it or holds it. ``photo_holder``: users who uploaded every byte of a photo the
server already held without being allowed to see it — they hold it, so they may see it.
"""
from alembic import op
import sqlalchemy as sa

import server.models.types


revision = "0019"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("photo_link", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("vouched", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    op.create_table(
        "photo_holder",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("held_since", server.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("sha256", "user_id"),
    )


def downgrade() -> None:
    op.drop_table("photo_holder")
    with op.batch_alter_table("photo_link", schema=None) as batch_op:
        batch_op.drop_column("vouched")
