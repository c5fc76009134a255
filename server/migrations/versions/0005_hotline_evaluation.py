"""hotline tickets and imports; evaluation runs

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 10:00:00

Written by hand. ``hotline_ticket.ticket_no`` is the primary key: re-importing a file cannot
store a ticket twice.
"""
from alembic import op
import sqlalchemy as sa

import server.models.types


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hotline_import",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("encoding", sa.String(length=20), nullable=False),
        sa.Column("imported_by", sa.String(length=36), nullable=False),
        sa.Column(
            "imported_at", server.models.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("created_cases", sa.Integer(), nullable=False),
        sa.Column("linked", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("problems", sa.JSON().with_variant(sa.JSON(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(["imported_by"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_hotline_import_file_sha256", "hotline_import", ["file_sha256"])
    op.create_table(
        "hotline_ticket",
        sa.Column("ticket_no", sa.String(length=60), nullable=False),
        sa.Column("import_id", sa.String(length=36), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column(
            "received_at", server.models.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("area", sa.String(length=100), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("town_code", sa.String(length=40), nullable=True),
        sa.Column("category", sa.String(length=60), nullable=False),
        sa.Column("matter", sa.String(length=100), nullable=True),
        sa.Column("content", sa.String(length=4000), nullable=False),
        sa.Column("department", sa.String(length=40), nullable=True),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["hotline_import.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["case_record.id"]),
        sa.PrimaryKeyConstraint("ticket_no"),
    )
    op.create_index("ix_hotline_ticket_import_id", "hotline_ticket", ["import_id"])
    op.create_index("ix_hotline_ticket_case", "hotline_ticket", ["case_id"])
    op.create_index(
        "ix_hotline_ticket_category_received", "hotline_ticket", ["category", "received_at"]
    )
    op.create_table(
        "evaluation_run",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("period_kind", sa.String(length=10), nullable=False),
        sa.Column("period_label", sa.String(length=20), nullable=False),
        sa.Column(
            "period_start", server.models.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "period_end", server.models.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("as_of", server.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("high_water_mark", sa.BigInteger(), nullable=False),
        sa.Column("rules_version", sa.String(length=40), nullable=False),
        sa.Column("rules_digest", sa.String(length=64), nullable=False),
        sa.Column("rules_text", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.Column(
            "created_at", server.models.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("results", sa.JSON().with_variant(sa.JSON(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_evaluation_run_period_label", "evaluation_run", ["period_label"])


def downgrade() -> None:
    op.drop_index("ix_evaluation_run_period_label", table_name="evaluation_run")
    op.drop_table("evaluation_run")
    op.drop_index("ix_hotline_ticket_category_received", table_name="hotline_ticket")
    op.drop_index("ix_hotline_ticket_case", table_name="hotline_ticket")
    op.drop_index("ix_hotline_ticket_import_id", table_name="hotline_ticket")
    op.drop_table("hotline_ticket")
    op.drop_index("ix_hotline_import_file_sha256", table_name="hotline_import")
    op.drop_table("hotline_import")
