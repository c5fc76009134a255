"""tamper-evident history: each case's events form a hash chain; case_event refuses every
rewrite an application can issue

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 18:00:00

Written by hand. ``case_event.prev_hash``/``hash`` (server/data/event_chain.py) are added and
filled for the events already stored, case by case in ``seq`` order (the append-only trigger
is set aside for that one UPDATE, by the tables' owner, inside this migration's transaction).

Append-only, beyond 0001's UPDATE/DELETE triggers: on SQLite ``INSERT OR REPLACE``/``REPLACE``
and upserts would delete or rewrite a stored event without firing the DELETE trigger, so a
BEFORE INSERT trigger refuses any INSERT whose id or (case_id, seq) is already stored; on
PostgreSQL a statement trigger refuses ``TRUNCATE`` (the row triggers already refuse the
UPDATE of ``INSERT ... ON CONFLICT DO UPDATE``). Which role may write what is granted by
``server.db.grant_app_role`` after every migration.
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

import server.models.types
from server.data.event_chain import GENESIS, HASHED_FIELDS, event_hash

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_BATCH = 5000
_SQLITE_NO_REPLACE = (
    "CREATE TRIGGER case_event_no_replace BEFORE INSERT ON case_event "
    "WHEN EXISTS (SELECT 1 FROM case_event WHERE id = NEW.id "
    "OR (case_id = NEW.case_id AND seq = NEW.seq)) "
    "BEGIN SELECT RAISE(ABORT, 'case_event is append-only'); END"
)
_SQLITE_NO_UPDATE = (
    "CREATE TRIGGER case_event_no_update BEFORE UPDATE ON case_event "
    "BEGIN SELECT RAISE(ABORT, 'case_event is append-only'); END"
)
_SQLITE_NO_DELETE = (
    "CREATE TRIGGER case_event_no_delete BEFORE DELETE ON case_event "
    "BEGIN SELECT RAISE(ABORT, 'case_event is append-only'); END"
)

_events = sa.table(
    "case_event",
    sa.column("id", sa.BigInteger()),
    sa.column("case_id", sa.String()),
    sa.column("seq", sa.Integer()),
    sa.column("kind", sa.String()),
    sa.column("actor_user_id", sa.String()),
    sa.column("actor_department", sa.String()),
    sa.column("at", server.models.types.UTCDateTime()),
    sa.column("lat", sa.Float()),
    sa.column("lon", sa.Float()),
    sa.column("list_version", sa.Integer()),
    sa.column("status_after", sa.String()),
    sa.column("data", sa.JSON()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)


def _backfill() -> None:
    bind = op.get_bind()
    cols = [_events.c[name] for name in HASHED_FIELDS]
    update = (
        _events.update()
        .where(_events.c.id == sa.bindparam("b_id"))
        .values(prev_hash=sa.bindparam("b_prev"), hash=sa.bindparam("b_hash"))
    )
    after: tuple[str, int] | None = None
    prev_case: str | None = None
    prev_hash = GENESIS
    prev_seq = 0
    while True:
        stmt = sa.select(_events.c.id, *cols).order_by(_events.c.case_id, _events.c.seq)
        if after is not None:
            stmt = stmt.where(
                sa.or_(
                    _events.c.case_id > after[0],
                    sa.and_(_events.c.case_id == after[0], _events.c.seq > after[1]),
                )
            )
        rows = bind.execute(stmt.limit(_BATCH)).all()
        if not rows:
            return
        params: list[dict[str, Any]] = []
        for event_id, *values in rows:
            fields = dict(zip(HASHED_FIELDS, values, strict=True))
            if fields["case_id"] != prev_case:
                prev_case, prev_hash, prev_seq = fields["case_id"], GENESIS, 0
            # a gap in a case's seq (never written by Yixian) is left for verify to name
            prev = prev_hash if fields["seq"] == prev_seq + 1 else ""
            digest = event_hash(fields, prev)
            params.append({"b_id": event_id, "b_prev": prev, "b_hash": digest})
            prev_hash, prev_seq = digest, fields["seq"]
        bind.execute(update, params)
        after = (rows[-1][1], int(rows[-1][2]))


def upgrade() -> None:
    op.add_column(
        "case_event",
        sa.Column("prev_hash", sa.String(length=64), nullable=False, server_default=""),
    )
    op.add_column(
        "case_event", sa.Column("hash", sa.String(length=64), nullable=False, server_default="")
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS case_event_no_update")
        _backfill()
        op.execute(_SQLITE_NO_UPDATE)
        op.execute(_SQLITE_NO_REPLACE)
    else:
        op.execute("ALTER TABLE case_event DISABLE TRIGGER case_event_append_only")
        _backfill()
        op.execute("ALTER TABLE case_event ENABLE TRIGGER case_event_append_only")
        op.execute(
            "CREATE TRIGGER case_event_no_truncate BEFORE TRUNCATE ON case_event "
            "FOR EACH STATEMENT EXECUTE FUNCTION case_event_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS case_event_no_replace")
        # ALTER TABLE DROP COLUMN (SQLite >= 3.35) keeps the table and its other triggers
        op.execute("ALTER TABLE case_event DROP COLUMN hash")
        op.execute("ALTER TABLE case_event DROP COLUMN prev_hash")
    else:
        op.execute("DROP TRIGGER IF EXISTS case_event_no_truncate ON case_event")
        op.drop_column("case_event", "hash")
        op.drop_column("case_event", "prev_hash")
