"""indexes for the repeat-report check and bounding-box lists

Revision ID: 0023
Revises: 0019
Create Date: 2026-12-07 22:30:00

Written by hand. ``ix_case_repeat_place`` (category, lat, lon, closed_at) and ``ix_case_repeat_site``
(category, site_code, closed_at) let recording a case find the few recently closed cases of its
category near it or at its site without reading the table;
``ix_case_position`` (lat, lon) serves ``GET /cases?bbox=``; ``ix_case_change`` (change_seq, id)
replaces the index on change_seq alone, so a pull page seeks its keyset cursor. See docs/speed.md.
"""
from alembic import op


revision = "0023"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_case_repeat_place", "case_record", ["category", "lat", "lon", "closed_at"], unique=False
    )
    op.create_index(
        "ix_case_repeat_site", "case_record", ["category", "site_code", "closed_at"], unique=False
    )
    op.create_index("ix_case_position", "case_record", ["lat", "lon"], unique=False)
    op.create_index("ix_case_change", "case_record", ["change_seq", "id"], unique=False)
    op.drop_index("ix_case_record_change_seq", table_name="case_record")


def downgrade() -> None:
    op.create_index("ix_case_record_change_seq", "case_record", ["change_seq"], unique=False)
    op.drop_index("ix_case_change", table_name="case_record")
    op.drop_index("ix_case_position", table_name="case_record")
    op.drop_index("ix_case_repeat_site", table_name="case_record")
    op.drop_index("ix_case_repeat_place", table_name="case_record")
