"""photos: the bytes held by sha256, and which cases each photo is evidence for

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 20:00:00

Written by hand. ``photo_link.sha256`` is not a foreign key: the sync command that links a
photo to a case may arrive before the photo's bytes.
"""
from alembic import op
import sqlalchemy as sa

import server.models.types


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "photo",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("received", sa.BigInteger(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", server.models.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("uploader", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["uploader"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("sha256"),
    )
    op.create_table(
        "photo_link",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("linked_by", sa.String(length=36), nullable=False),
        sa.Column(
            "linked_at", server.models.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(["case_id"], ["case_record.id"]),
        sa.PrimaryKeyConstraint("sha256", "case_id"),
    )
    op.create_index("ix_photo_link_case", "photo_link", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_photo_link_case", table_name="photo_link")
    op.drop_table("photo_link")
    op.drop_table("photo")
