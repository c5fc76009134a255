"""indexes for the repeat-report check and bounding-box lists

Revision ID: 0023
Revises: 0011
Create Date: 2026-12-07 22:30:00

Written by hand. ``ix_case_category_closed`` (category, closed_at, lat, lon) lets recording a
case find the few recently closed cases of its category near it without reading the table;
``ix_case_position`` (lat, lon) serves ``GET /cases?bbox=``. See docs/speed.md.
"""
from alembic import op


revision = "0023"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_case_category_closed",
        "case_record",
        ["category", "closed_at", "lat", "lon"],
        unique=False,
    )
    op.create_index("ix_case_position", "case_record", ["lat", "lon"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_case_position", table_name="case_record")
    op.drop_index("ix_case_category_closed", table_name="case_record")
