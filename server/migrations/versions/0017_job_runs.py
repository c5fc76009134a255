"""scheduled work's bookkeeping: the job_run table

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 18:00:00

Written by hand. One row per periodic job (the escalation job): the period of its last
successful run, when it last started, succeeded and failed, the last error and how many runs in
a row failed. ``/ready`` and ``/metrics`` read it in every server process.
"""
from alembic import op
import sqlalchemy as sa

import server.models.types


revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_run",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("last_period", sa.Integer(), nullable=True),
        sa.Column("last_started_at", server.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", server.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_failure_at", server.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=2000), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("runner", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("job_run")
