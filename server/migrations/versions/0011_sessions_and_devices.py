"""sessions and devices: sign-in sessions (token families), access/refresh tokens

Revision ID: 0011
Revises: 0017
Create Date: 2026-12-07 18:00:00

Written by hand. ``auth_session`` is one password sign-in (a token family), bound to a device
once the device registers; ``auth_token`` gains its kind (access | refresh), its session and
when a refresh token was used (a second use ends the session). Token hashes are now keyed with
YIXIAN_SECRET, so tokens issued before this revision no longer match: users sign in again and
phones register again (a phone's unsynced outbox is kept).
"""
from alembic import op
import sqlalchemy as sa

import server.models.types


revision = "0011"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "auth_session",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("device_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", server.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", server.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", server.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_reason", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("auth_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_session_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_auth_session_device_id"), ["device_id"], unique=False
        )
    with op.batch_alter_table("auth_token", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=10), nullable=False, server_default="access")
        )
        batch_op.add_column(sa.Column("session_id", sa.String(length=36), nullable=True))
        batch_op.add_column(
            sa.Column("used_at", server.models.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_auth_token_session_id"), ["session_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_auth_token_session_id", "auth_session", ["session_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("auth_token", schema=None) as batch_op:
        batch_op.drop_constraint("fk_auth_token_session_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_auth_token_session_id"))
        batch_op.drop_column("used_at")
        batch_op.drop_column("session_id")
        batch_op.drop_column("kind")
    with op.batch_alter_table("auth_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_session_device_id"))
        batch_op.drop_index(batch_op.f("ix_auth_session_user_id"))
    op.drop_table("auth_session")
