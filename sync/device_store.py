"""The device's local SQLite (via SQLModel): its copy of cases, the outbox, photos, sync state.

Every local change is written in the same transaction as its outbox command, so a phone that
dies at any instant has either both or neither. Tables live in their own registry: a process
that also runs the server (tests) keeps the two schemas apart. The schema has a version and
migrations, applied when the store is opened (``sync/device_migrations.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Engine, Text, bindparam, delete, event, func, or_, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import registry
from sqlmodel import Field, Session, SQLModel, col, create_engine, select

from sync import device_migrations
from sync.commands import decode_payload
from sync.geo import BoundingBox
from sync.protocol import Command, CommandResult, CommandType, PullResponse, command_hash


class DeviceModel(SQLModel, registry=registry()):
    pass


class OutboxCommand(DeviceModel, table=True):
    __tablename__ = "outbox"
    id: int = Field(primary_key=True)  # 1, 2, 3… per device
    type: str
    payload: str = Field(sa_column=Column(Text, nullable=False))  # JSON
    created_at: str
    case_id: str | None = Field(default=None, index=True)
    status: str = Field(default="pending", index=True)  # pending|applied|rejected|conflict
    code: str | None = None
    reason: str | None = None
    seen: bool = False  # the user has seen a rejection/conflict


class LocalCase(DeviceModel, table=True):
    __tablename__ = "local_case"
    id: str = Field(primary_key=True)
    status: str = Field(index=True)
    category: str
    lat: float | None = None
    lon: float | None = None
    due_at: str | None = Field(default=None, index=True)
    updated_at: str = Field(index=True)
    data: str = Field(sa_column=Column(Text, nullable=False))  # the snapshot, JSON
    from_server: bool = False


class LocalPhoto(DeviceModel, table=True):
    __tablename__ = "local_photo"
    sha256: str = Field(primary_key=True)
    path: str
    size: int
    case_id: str = Field(index=True)
    uploaded: bool = Field(default=False, index=True)
    refused: str | None = None  # the server refused the bytes: shown under 同步问题


class Meta(DeviceModel, table=True):
    __tablename__ = "meta"
    key: str = Field(primary_key=True)
    value: str


_OUTBOX = OutboxCommand.__table__  # type: ignore[attr-defined]
_CASES = LocalCase.__table__  # type: ignore[attr-defined]
# a command's server result, by id (run once per batch with every result's parameters)
_SET_RESULT = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("r_id"))
    .values(status=bindparam("r_status"), code=bindparam("r_code"), reason=bindparam("r_reason"))
)
# a case's local copy, replaced whole (what ``Session.merge`` of a LocalCase did, row by row)
_UPSERT_CASE = sqlite_insert(_CASES)
_UPSERT_CASE = _UPSERT_CASE.on_conflict_do_update(
    index_elements=[_CASES.c.id],
    set_={c.name: _UPSERT_CASE.excluded[c.name] for c in _CASES.columns if c.name != "id"},
)


def _result_params(r: CommandResult) -> dict[str, Any]:
    return {"r_id": r.id, "r_status": r.status.value, "r_code": r.code, "r_reason": r.reason}


def _case_row(snapshot: dict[str, Any], *, from_server: bool) -> dict[str, Any]:
    """A case snapshot's row in ``local_case``: its searchable columns and the whole JSON."""
    return {
        "id": snapshot["id"],
        "status": snapshot["status"],
        "category": snapshot["category"],
        "lat": snapshot.get("lat"),
        "lon": snapshot.get("lon"),
        "due_at": snapshot.get("due_at"),
        "updated_at": snapshot.get("updated_at") or "",
        "data": json.dumps(snapshot, ensure_ascii=False),
        "from_server": from_server,
    }


def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _engine(path: Path, *, begin: str) -> Engine:
    """An engine on the phone's database: WAL, fully synchronous (a phone may lose power:
    durability first), a 30 s busy wait, and ``begin`` as each transaction's first statement."""
    engine = create_engine(
        f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": 30}
    )

    @event.listens_for(engine, "connect")
    def _pragmas(conn: Any, _rec: Any) -> None:
        cur = conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()
        conn.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    return engine


class DeviceStore:
    """One per device (one per browser session in web mode)."""

    def __init__(self, path: Path | str) -> None:
        """Open (or create) the store, migrating an older one; ``NewerStore`` for a database
        of a newer app, which is left untouched."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        device_migrations.refuse_newer(device_migrations.file_version(self.path), self.path)
        self.engine: Engine = _engine(self.path, begin="BEGIN IMMEDIATE")  # writes
        # Reads take a snapshot (WAL) without the write lock: a screen reading the cases never
        # waits for a sync writing a page of them (web mode: one event loop for every phone).
        self.reader: Engine = _engine(self.path, begin="BEGIN")
        try:
            with self.engine.begin() as conn:
                self.opened_at_version = device_migrations.bring_up_to_date(
                    conn, self.path.parent, self.path, DeviceModel.metadata.create_all
                )
        except BaseException:
            self.close()
            raise

    def schema_version(self) -> int:
        with self.reader.connect() as conn:
            return int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())

    def close(self) -> None:
        self.engine.dispose()
        self.reader.dispose()

    def reading(self) -> Session:
        """A read-only session on a snapshot (no write lock)."""
        return Session(self.reader)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session
            session.commit()

    # --- meta ------------------------------------------------------------------------------

    def get(self, key: str, default: str | None = None) -> str | None:
        with self.reading() as s:
            row = s.get(Meta, key)
            return row.value if row else default

    def set(self, key: str, value: str, session: Session | None = None) -> None:
        if session is None:
            with self.transaction() as s:
                s.merge(Meta(key=key, value=value))
        else:
            session.merge(Meta(key=key, value=value))

    # --- outbox ----------------------------------------------------------------------------

    def enqueue(
        self,
        type_: CommandType,
        payload: dict[str, Any],
        *,
        now: datetime,
        local_change: Callable[[Session], None] | None = None,
    ) -> int:
        """Write the local change and its numbered command in one transaction. A payload the
        server would refuse for its shape (a text over its limit, too many photos, a malformed
        id …) is refused here with ``InvalidInput`` naming the field: nothing is written."""
        decode_payload(type_, payload)
        with self.transaction() as s:
            last = s.exec(select(OutboxCommand.id).order_by(col(OutboxCommand.id).desc())).first()
            applied = int((s.get(Meta, "last_applied") or Meta(key="", value="0")).value)
            next_id = max(last or 0, applied) + 1
            s.add(
                OutboxCommand(
                    id=next_id,
                    type=type_.value,
                    payload=json.dumps(payload, ensure_ascii=False),
                    created_at=_utc_iso(now),
                    case_id=payload.get("case_id"),
                )
            )
            if local_change is not None:
                local_change(s)
            return next_id

    def pending(self, limit: int) -> list[Command]:
        """The next ``limit`` pending commands, in order (their columns only: no ORM row)."""
        with self.reading() as s:
            rows = (
                s.connection()
                .execute(
                    select(_OUTBOX.c.id, _OUTBOX.c.type, _OUTBOX.c.payload, _OUTBOX.c.created_at)
                    .where(_OUTBOX.c.status == "pending")
                    .order_by(_OUTBOX.c.id)
                    .limit(limit)
                )
                .all()
            )
            commands = []
            for id_, type_, text, created_at in rows:
                payload = json.loads(text)
                commands.append(
                    Command(
                        id=id_,
                        type=CommandType(type_),
                        payload=payload,
                        created_at=datetime.fromisoformat(created_at),
                        hash=command_hash(type_, payload),
                    )
                )
            return commands

    def pending_count(self) -> int:
        with self.reading() as s:
            return int(
                s.exec(
                    select(func.count()).select_from(_OUTBOX).where(_OUTBOX.c.status == "pending")
                ).one()
            )

    def pending_case_count(self) -> int:
        """How many cases have changes waiting to be sent (what the user counts, not
        commands: one inspection is several commands)."""
        with self.reading() as s:
            rows = s.exec(
                select(OutboxCommand.case_id).where(OutboxCommand.status == "pending").distinct()
            ).all()
            return len(rows)

    def record_results(self, results: list[CommandResult], last_applied: int) -> None:
        """Store the server's result of each command (one UPDATE run over the batch, in one
        transaction: no row is loaded); ids this store does not hold are skipped."""
        with self.transaction() as s:
            conn = s.connection()
            if results:
                conn.execute(_SET_RESULT, [_result_params(r) for r in results])
            current = int((s.get(Meta, "last_applied") or Meta(key="", value="0")).value)
            if last_applied > current:
                s.merge(Meta(key="last_applied", value=str(last_applied)))
                # everything up to last_applied has a server result, even if the reply was lost
                # ("applied?": applied on the server; its result comes by pull)
                conn.execute(
                    update(_OUTBOX)
                    .where(_OUTBOX.c.status == "pending", _OUTBOX.c.id <= last_applied)
                    .values(status="applied?")
                )

    def honour_last_applied(self, last_applied: int) -> None:
        """The server's last applied id for this device (at registration): new commands are
        numbered after it, never at or below it."""
        with self.transaction() as s:
            current = int((s.get(Meta, "last_applied") or Meta(key="", value="0")).value)
            if last_applied > current:
                s.merge(Meta(key="last_applied", value=str(last_applied)))

    def renumber_pending_after(self, last_applied: int) -> None:
        """The server applied other commands under some of our unsent ids (this phone was
        restored from an old backup): number every pending command after ``last_applied``
        (and after every id kept here), in their order, to be sent again."""
        with self.transaction() as s:
            moved = select(OutboxCommand.id).where(OutboxCommand.status == "pending")
            self._renumber(s, moved, last_applied)

    def resync_after_restore(self, last_applied: int, epoch: str) -> None:
        """The server's database was restored (another epoch): it lacks whatever this device
        sent after ``last_applied``. Every command after that id is queued again (renumbered
        from it, in order), the pull starts over (the cursor is dropped), results are asked
        again from that id and photos are offered again (the server says which it holds)."""
        with self.transaction() as s:
            moved = select(OutboxCommand.id).where(col(OutboxCommand.id) > last_applied)
            self._renumber(s, moved, last_applied)
            cursor = s.get(Meta, "cursor")
            if cursor is not None:
                s.delete(cursor)
            shown = int((s.get(Meta, "results_after") or Meta(key="", value="0")).value)
            s.merge(Meta(key="results_after", value=str(min(shown, last_applied))))
            s.merge(Meta(key="last_applied", value=str(last_applied)))
            s.merge(Meta(key="epoch", value=epoch))
            s.execute(
                update(LocalPhoto).where(col(LocalPhoto.refused).is_(None)).values(uploaded=False)
            )

    @staticmethod
    def _renumber(s: Session, moved: Any, last_applied: int) -> None:
        ids = sorted(int(i) for i in s.exec(moved).all())
        if not ids:
            return
        kept = s.exec(
            select(OutboxCommand.id)
            .where(col(OutboxCommand.id).not_in(ids))
            .order_by(col(OutboxCommand.id).desc())
        ).first()
        start = max(last_applied, kept or 0) + 1
        # two steps (negative first): a new id may be one of the old ones
        s.execute(
            update(OutboxCommand)
            .where(col(OutboxCommand.id).in_(ids))
            .values(id=-col(OutboxCommand.id))
        )
        for n, old in enumerate(ids):
            s.execute(
                update(OutboxCommand)
                .where(col(OutboxCommand.id) == -old)
                .values(id=start + n, status="pending", code=None, reason=None, seen=False)
            )
        s.merge(Meta(key="last_applied", value=str(last_applied)))

    def problems(self) -> list[OutboxCommand]:
        """Rejected or conflicting commands: what the user must see (同步问题)."""
        with self.reading() as s:
            return list(
                s.exec(
                    select(OutboxCommand)
                    .where(col(OutboxCommand.status).in_(["rejected", "conflict"]))
                    .order_by(col(OutboxCommand.id))
                ).all()
            )

    def commands(self) -> list[OutboxCommand]:
        with self.reading() as s:
            return list(s.exec(select(OutboxCommand).order_by(col(OutboxCommand.id))).all())

    # --- cases -----------------------------------------------------------------------------

    def put_local_case(
        self, session: Session, snapshot: dict[str, Any], *, from_server: bool
    ) -> None:
        session.merge(LocalCase(**_case_row(snapshot, from_server=from_server)))

    def case(self, case_id: str) -> dict[str, Any] | None:
        with self.reading() as s:
            row = s.get(LocalCase, case_id)
            return json.loads(row.data) if row else None

    def cases(
        self, *, limit: int = 50, offset: int = 0, status: str | None = None
    ) -> list[dict[str, Any]]:
        with self.reading() as s:
            stmt = select(LocalCase)
            if status:
                stmt = stmt.where(LocalCase.status == status)
            stmt = stmt.order_by(col(LocalCase.updated_at).desc()).offset(offset).limit(limit)
            return [json.loads(r.data) for r in s.exec(stmt).all()]

    def cases_in_box(
        self,
        box: BoundingBox,
        *,
        statuses: Iterable[str] | None = None,
        limit: int = 500,
    ) -> list[dict[str, Any]]:
        """Cases whose point lies in ``box`` (``sync.geo.bounding_box``), optionally only those
        in ``statuses``. One scan of the table's point columns: the status is checked here, as
        an index on it (or an ORDER BY on ``updated_at``) would visit the rows one by one,
        several times slower."""
        wanted = None if statuses is None else set(statuses)
        lon = col(LocalCase.lon)
        across = (
            (lon >= box.west) | (lon <= box.east) if box.wraps else lon.between(box.west, box.east)
        )
        with self.reading() as s:
            stmt = select(LocalCase.status, LocalCase.data).where(
                col(LocalCase.lat).between(box.south, box.north), across
            )
            rows = s.exec(stmt).all()
        found = [json.loads(data) for status, data in rows if wanted is None or status in wanted]
        return found[:limit]

    def case_ids(self) -> list[str]:
        with self.reading() as s:
            return list(s.exec(select(LocalCase.id)).all())

    def apply_pull(self, response: PullResponse) -> None:
        """Replace local copies with the server's, except cases with commands still pending.
        One transaction per page; the cases are written by one upsert run (no ORM object per
        case) and the results by one UPDATE run."""
        with self.transaction() as s:
            conn = s.connection()
            pending = select(_OUTBOX.c.case_id).where(
                _OUTBOX.c.status == "pending", _OUTBOX.c.case_id.is_not(None)
            )
            if response.reset:
                conn.execute(
                    delete(_CASES).where(
                        _CASES.c.from_server.is_(True), _CASES.c.id.not_in(pending)
                    )
                )
            pending_ids = set(conn.execute(pending).scalars().all())
            gone = [case_id for case_id in response.gone if case_id not in pending_ids]
            if gone:  # no longer ours: drop it, unless work is queued
                conn.execute(delete(_CASES).where(_CASES.c.id.in_(gone)))
            rows = [
                _case_row(snap, from_server=True)
                for snap in response.cases
                if snap["id"] not in pending_ids
            ]
            if rows:
                conn.execute(_UPSERT_CASE, rows)
            if response.results:
                conn.execute(
                    _SET_RESULT.where(  # an IN list cannot run as executemany
                        or_(_OUTBOX.c.status == "pending", _OUTBOX.c.status == "applied?")
                    ),
                    [_result_params(r) for r in response.results],
                )
            if response.reference is not None:
                s.merge(
                    Meta(key="reference", value=json.dumps(response.reference, ensure_ascii=False))
                )
            s.merge(Meta(key="cursor", value=response.cursor))
            s.merge(
                Meta(
                    key="last_applied",
                    value=str(
                        max(
                            response.last_applied,
                            int((s.get(Meta, "last_applied") or Meta(key="", value="0")).value),
                        )
                    ),
                )
            )
            if response.results:
                s.merge(Meta(key="results_after", value=str(response.results[-1].id)))

    # --- photos ----------------------------------------------------------------------------

    def add_photo(
        self, session: Session, *, sha256: str, path: str, size: int, case_id: str
    ) -> None:
        """Keep a photo's row; its path is stored relative to the database's folder when the
        file lies under it (so it survives the data directory moving: schema version 2)."""
        kept = device_migrations.portable_photo_path(path, self.path.parent)
        session.merge(LocalPhoto(sha256=sha256, path=kept, size=size, case_id=case_id))

    def photo_file(self, photo: LocalPhoto) -> Path:
        """Where the photo's bytes are on this device."""
        stored = Path(photo.path)
        return stored if stored.is_absolute() else self.path.parent / stored

    def photos_to_upload(self) -> list[LocalPhoto]:
        with self.reading() as s:
            return list(
                s.exec(
                    select(LocalPhoto).where(
                        LocalPhoto.uploaded == False,  # noqa: E712
                        col(LocalPhoto.refused).is_(None),
                    )
                ).all()
            )

    def mark_refused(self, sha256: str, reason: str) -> None:
        with self.transaction() as s:
            row = s.get(LocalPhoto, sha256)
            if row is not None:
                row.refused = reason
                s.add(row)

    def refused_photos(self) -> list[LocalPhoto]:
        with self.reading() as s:
            return list(s.exec(select(LocalPhoto).where(col(LocalPhoto.refused).is_not(None))))

    def mark_uploaded(self, sha256: str) -> None:
        with self.transaction() as s:
            row = s.get(LocalPhoto, sha256)
            if row is not None:
                row.uploaded = True
                s.add(row)
