"""case_withdrawal: a department that stopped being involved in a case

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 03:00:00

Written by hand. A pull tells a department's devices which cases they no longer see.
"""
from alembic import op
import sqlalchemy as sa


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_withdrawal",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("department", sa.String(length=40), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case_record.id"]),
    )
    op.create_index(
        "ix_case_withdrawal_change_seq", "case_withdrawal", ["change_seq"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_case_withdrawal_change_seq", table_name="case_withdrawal")
    op.drop_table("case_withdrawal")
