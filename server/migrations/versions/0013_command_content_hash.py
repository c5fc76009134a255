"""a command's content hash beside its stored result

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 18:00:00

Written by hand. ``device_command_result.content_hash`` is ``sync.protocol.command_hash`` of
the command applied under that id: a different command sent under a used id (a phone restored
from an old backup) is answered ``renumber`` instead of the other command's result. Rows stored
before have none (not checked).
"""
from alembic import op
import sqlalchemy as sa


revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("device_command_result", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("device_command_result", schema=None) as batch_op:
        batch_op.drop_column("content_hash")
