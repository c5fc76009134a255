"""files in the database for several hosts; minutes carry their sha256

Revision ID: 0020
Revises: 0011
Create Date: 2026-12-07 22:30:00

Written by hand (docs/storage.md). ``stored_file`` indexes finished files per area (photos,
minutes) by name and content sha256; ``file_chunk`` holds the content in pieces of at most
256 KiB, named by the content's sha256 (shared by every name holding it) or by the unfinished
upload. Used only with ``YIXIAN_STORAGE=postgres``; the tables exist on SQLite too (unused),
so the schema is one. ``minute.sha256``/``size`` let a minute be checked when it is read.
"""
from alembic import op
import sqlalchemy as sa

import server.models.types


revision = "0020"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stored_file",
        sa.Column("area", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", server.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("area", "name"),
    )
    op.create_index("ix_stored_file_sha256", "stored_file", ["sha256"], unique=False)
    op.create_table(
        "file_chunk",
        sa.Column("content", sa.String(length=240), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("content", "seq"),
    )
    if op.get_bind().dialect.name == "postgresql":
        # photos and .docx are compressed already: store them out of line, uncompressed
        op.execute("ALTER TABLE file_chunk ALTER COLUMN data SET STORAGE EXTERNAL")
    with op.batch_alter_table("minute", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("size", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("minute", schema=None) as batch_op:
        batch_op.drop_column("size")
        batch_op.drop_column("sha256")
    op.drop_table("file_chunk")
    op.drop_index("ix_stored_file_sha256", table_name="stored_file")
    op.drop_table("stored_file")
