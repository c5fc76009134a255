"""photo uploads are bound to the device that started them

Revision ID: 0012
Revises: 0008
Create Date: 2026-12-07 18:00:00

Written by hand. ``photo.uploader_device`` is the device that started an upload (None when it
was started with a user's sign-in token rather than a device's): only that device (or that
user, without one) may write the upload until it is complete.
"""
from alembic import op
import sqlalchemy as sa


revision = "0012"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("photo", schema=None) as batch_op:
        batch_op.add_column(sa.Column("uploader_device", sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("photo", schema=None) as batch_op:
        batch_op.drop_column("uploader_device")
