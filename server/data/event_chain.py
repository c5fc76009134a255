"""The hash chain of each case's events: every ``case_event`` row carries the hash of the
event before it (``prev_hash``) and its own ``hash``, a SHA-256 over a canonical
serialisation of its fields and ``prev_hash``. Changing, removing or reordering a stored
event breaks the chain at that event (``python -m server audit verify``).

The hash is computed here and only here, for every way an event is written: one ORM row
(``seal_event``) or many rows of a bulk INSERT (``seal_rows``). The previous event is the one
with ``seq - 1``: ``(case_id, seq)`` is unique, so two writers racing on one case cannot both
append after the same event (the second INSERT is refused) and the chain cannot fork.

The serialisation never changes: a change would break every stored chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, or_, tuple_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from server.models import Case, CaseEvent

GENESIS = "0" * 64  # the prev_hash of a case's first event
HASHED_FIELDS = (
    "case_id",
    "seq",
    "kind",
    "actor_user_id",
    "actor_department",
    "at",
    "lat",
    "lon",
    "list_version",
    "status_after",
    "data",
)
_CHUNK = 400


def _utc_text(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime in a case event")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def canonical(fields: Mapping[str, Any], prev_hash: str) -> bytes:
    """The bytes an event's hash covers: its fields as the database gives them back (UTC time
    to the microsecond, coordinates as floats, data as sorted compact JSON) and ``prev_hash``."""
    body = {
        "case_id": str(fields["case_id"]),
        "seq": int(fields["seq"]),
        "kind": str(fields["kind"]),
        "actor_user_id": str(fields["actor_user_id"]),
        "actor_department": str(fields["actor_department"]),
        "at": _utc_text(fields["at"]),
        "lat": _float_or_none(fields.get("lat")),
        "lon": _float_or_none(fields.get("lon")),
        "list_version": _int_or_none(fields.get("list_version")),
        "status_after": str(fields["status_after"]),
        "data": fields.get("data") or {},
        "prev_hash": prev_hash,
    }
    return json.dumps(
        body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def event_hash(fields: Mapping[str, Any], prev_hash: str) -> str:
    return hashlib.sha256(canonical(fields, prev_hash)).hexdigest()


def _stored_hashes(session: Session, keys: Sequence[tuple[str, int]]) -> dict[tuple[str, int], str]:
    out: dict[tuple[str, int], str] = {}
    for i in range(0, len(keys), _CHUNK):
        stmt = sa_select(col(CaseEvent.case_id), col(CaseEvent.seq), col(CaseEvent.hash)).where(
            tuple_(col(CaseEvent.case_id), col(CaseEvent.seq)).in_(keys[i : i + _CHUNK])
        )
        for case_id, seq, stored in session.execute(stmt):
            out[(case_id, int(seq))] = stored
    return out


_TAILS = "yixian_event_tails"


def _tails(session: Session) -> dict[str, tuple[int, str]]:
    """The last event this transaction sealed for each case: case id → (seq, hash).

    Every event is written through ``seal_rows``, so within one transaction this is the case's
    last event; it is kept with the innermost transaction (a savepoint) that wrote it and
    forgotten as soon as another is current (a savepoint rolled back or ended): then the
    database is asked again. Saves a query per event numbered and sealed (docs/speed.md)."""
    current = session.get_nested_transaction() or session.get_transaction()
    held = session.info.get(_TAILS)
    if held is None or held[0] is not current:
        held = (current, {})
        if current is not None:
            session.info[_TAILS] = held
    tails: dict[str, tuple[int, str]] = held[1]
    return tails


def known_last_seq(session: Session, case_id: str) -> int | None:
    """The seq of the case's last event if this transaction wrote it, else None (ask SQL)."""
    tail = _tails(session).get(case_id)
    return tail[0] if tail is not None else None


def seal_rows(session: Session, rows: Sequence[MutableMapping[str, Any]]) -> None:
    """Set ``prev_hash`` and ``hash`` on event rows about to be inserted (dicts with the
    event's fields; several per case allowed, consecutive ``seq`` within a case)."""
    ordered = sorted(rows, key=lambda r: (str(r["case_id"]), int(r["seq"])))
    in_batch = {(str(r["case_id"]), int(r["seq"])) for r in ordered}
    tails = _tails(session)
    known: dict[tuple[str, int], str] = {}
    for case_id, seq in in_batch:
        tail = tails.get(case_id)
        if tail is not None and tail[0] == seq - 1:
            known[(case_id, seq - 1)] = tail[1]
    wanted = sorted(
        {
            (case_id, seq - 1)
            for case_id, seq in in_batch
            if seq > 1 and (case_id, seq - 1) not in in_batch and (case_id, seq - 1) not in known
        }
    )
    if wanted:
        known.update(_stored_hashes(session, wanted))
    for row in ordered:
        key = (str(row["case_id"]), int(row["seq"]))
        # an event whose predecessor is missing chains to nothing: verify names it
        prev = GENESIS if key[1] == 1 else known.get((key[0], key[1] - 1), "")
        row["prev_hash"] = prev
        row["hash"] = event_hash(row, prev)
        known[key] = row["hash"]
        tail = tails.get(key[0])
        if tail is None or tail[0] < key[1]:
            tails[key[0]] = (key[1], row["hash"])


def seal_event(session: Session, event: CaseEvent) -> None:
    """Set ``prev_hash`` and ``hash`` on one event about to be added (its fields final)."""
    row: dict[str, Any] = {name: getattr(event, name) for name in HASHED_FIELDS}
    seal_rows(session, [row])
    event.prev_hash = row["prev_hash"]
    event.hash = row["hash"]


@dataclass(frozen=True)
class StoredEvent:
    id: int
    case_id: str
    case_number: str
    fields: dict[str, Any]
    prev_hash: str
    hash: str


def stored_chains(session: Session, *, batch: int = 2000) -> Iterator[StoredEvent]:
    """Every stored event, case by case and in ``seq`` order within a case (keyset pages)."""
    after: tuple[str, int] | None = None
    columns = [getattr(CaseEvent, name) for name in HASHED_FIELDS]
    while True:
        stmt = (
            sa_select(
                col(CaseEvent.id),
                col(Case.number),
                col(CaseEvent.prev_hash),
                col(CaseEvent.hash),
                *columns,
            )
            .join(Case, col(Case.id) == col(CaseEvent.case_id))
            .order_by(col(CaseEvent.case_id), col(CaseEvent.seq))
            .limit(batch)
        )
        if after is not None:
            stmt = stmt.where(
                or_(
                    col(CaseEvent.case_id) > after[0],
                    and_(col(CaseEvent.case_id) == after[0], col(CaseEvent.seq) > after[1]),
                )
            )
        rows = session.execute(stmt).all()
        if not rows:
            return
        for row in rows:
            event_id, number, prev_hash, stored_hash, *values = row
            fields = dict(zip(HASHED_FIELDS, values, strict=True))
            yield StoredEvent(
                id=int(event_id),
                case_id=fields["case_id"],
                case_number=number,
                fields=fields,
                prev_hash=prev_hash or "",
                hash=stored_hash or "",
            )
        last = rows[-1]
        after = (last[4], int(last[5]))


def cases_without_events(session: Session) -> list[tuple[str, str]]:
    """(id, number) of every case with no event at all (each case begins with CaseCreated)."""
    has_events = sa_select(col(CaseEvent.id)).where(col(CaseEvent.case_id) == col(Case.id))
    stmt = (
        sa_select(col(Case.id), col(Case.number))
        .where(~has_events.exists())
        .order_by(col(Case.number))
    )
    return [(cid, number) for cid, number in session.execute(stmt)]
