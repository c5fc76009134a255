"""case_record: the acceptance deadline (签收时限) and a returned case's re-routing deadline

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 14:30:00

Written by hand. Both are computed by rules in sync/ (sync/workflow.py) when a case is assigned
or returned, stored so the case, the lists and the phones show them before anything escalates.
Existing assigned cases get their acceptance deadline on the next assignment; the escalation
job computes it from ``assigned_at`` while the column is empty.
"""
from alembic import op
import sqlalchemy as sa

from server.models.types import UTCDateTime


revision = "0007"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_record") as batch:
        batch.add_column(sa.Column("acceptance_due_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("reroute_due_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case_record") as batch:
        batch.drop_column("reroute_due_at")
        batch.drop_column("acceptance_due_at")
