"""login_throttle: failed sign-ins per account and per client address, and their lockouts

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-07 18:00:00

Written by hand. One row per account (the username given) and per client address; the server
counts refused sign-ins in a window and locks the key out for a growing time
(server/services/login_throttle.py). In the database so that every server process shares them
and a restart forgets none.
"""
from alembic import op
import sqlalchemy as sa

import server.models.types


revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column(
            "window_started_at", server.models.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "last_attempt_at", server.models.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("lockouts", sa.Integer(), nullable=False),
        sa.Column("locked_until", server.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cleared_by", sa.String(length=36), nullable=True),
        sa.Column("cleared_at", server.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("scope", "key"),
    )
    op.create_index(
        "ix_login_throttle_locked_until", "login_throttle", ["locked_until"], unique=False
    )
    op.create_index(
        "ix_login_throttle_last_attempt_at", "login_throttle", ["last_attempt_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_login_throttle_last_attempt_at", table_name="login_throttle")
    op.drop_index("ix_login_throttle_locked_until", table_name="login_throttle")
    op.drop_table("login_throttle")
