"""clock rules: device clock offsets, the note on an assignment's time, a list version's
back-dating reason

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-07 14:30:00

Written by hand. ``device.clock_offset_s`` is the latest estimate of a device's clock offset
(taken at every sync); ``case_record.assigned_time_note`` says why server time was used for an
offline assignment; ``boundary_version.backdate_reason`` says why a version takes effect before
it was published.
"""
from alembic import op
import sqlalchemy as sa

import server.models.types


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.add_column(sa.Column("clock_offset_s", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "clock_checked_at", server.models.types.UTCDateTime(timezone=True), nullable=True
            )
        )
    with op.batch_alter_table("case_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assigned_time_note", sa.String(length=300), nullable=True))
    with op.batch_alter_table("boundary_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("backdate_reason", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("boundary_version", schema=None) as batch_op:
        batch_op.drop_column("backdate_reason")
    with op.batch_alter_table("case_record", schema=None) as batch_op:
        batch_op.drop_column("assigned_time_note")
    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.drop_column("clock_checked_at")
        batch_op.drop_column("clock_offset_s")
