"""intake channels as reference data; hotline header aliases; 12345 call-backs

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-07 14:30:00

Written by hand. The intake channels are seeded from ``sync.intake.INTAKE_CHANNELS`` (the codes
cases already carry keep working).
"""
from alembic import op
import sqlalchemy as sa

import server.models.types
from sync.intake import INTAKE_CHANNELS


revision = "0009"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    channel = op.create_table(
        "intake_channel",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.bulk_insert(
        channel,
        [
            {"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en, "position": c.position}
            for c in INTAKE_CHANNELS
        ],
    )
    op.create_table(
        "hotline_column_alias",
        sa.Column("header", sa.String(length=100), nullable=False),
        sa.Column("column", sa.String(length=40), nullable=False),
        sa.Column("set_by", sa.String(length=36), nullable=False),
        sa.Column("set_at", server.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["set_by"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("header"),
    )
    op.create_table(
        "hotline_call_back",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("ticket_no", sa.String(length=60), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("result", sa.String(length=30), nullable=False),
        sa.Column("comment", sa.String(length=1000), nullable=True),
        sa.Column(
            "called_back_at", server.models.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("recorded_by", sa.String(length=36), nullable=False),
        sa.Column(
            "recorded_at", server.models.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("reopened", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_no"], ["hotline_ticket.ticket_no"]),
        sa.ForeignKeyConstraint(["case_id"], ["case_record.id"]),
        sa.ForeignKeyConstraint(["recorded_by"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_no", "called_back_at", name="uq_hotline_call_back_ticket_at"),
    )
    op.create_index("ix_hotline_call_back_case", "hotline_call_back", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_hotline_call_back_case", table_name="hotline_call_back")
    op.drop_table("hotline_call_back")
    op.drop_table("hotline_column_alias")
    op.drop_table("intake_channel")
