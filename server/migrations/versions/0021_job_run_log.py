"""job_run_log: one row per finished run of a periodic job

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 22:30:00

Written by hand. Which process ran each period's escalation job, when, and how it ended: with
several server processes sharing one database it shows the job ran once per period (and an IT
office can see where). Rows older than 30 days are pruned as new ones are written.
"""
from alembic import op
import sqlalchemy as sa

import server.models.types


revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_run_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("period", sa.BigInteger(), nullable=True),
        sa.Column("runner", sa.String(length=200), nullable=False),
        sa.Column("started_at", server.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", server.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_job_run_log_name_period", "job_run_log", ["name", "period"])
    op.create_index(op.f("ix_job_run_log_finished_at"), "job_run_log", ["finished_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_job_run_log_finished_at"), table_name="job_run_log")
    op.drop_index("ix_job_run_log_name_period", table_name="job_run_log")
    op.drop_table("job_run_log")
