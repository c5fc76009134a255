"""The fast path for runs of new cases: the same rules as the one-by-one path, fewer round trips.

Used by sync push (a run of CreateCase commands, ``create_many``) and by the 12345 hotline
import (``insert_valid``). Every new case is validated by ``cases.validate_new_case`` (the rules
the one-by-one path uses); ``insert_valid`` then checks the ids for uniqueness with one query and
the repeat-report rule against the recently closed cases fetched once per category, and stores
the rest with two bulk INSERTs (cases stamped with the caller's change number, and their
CaseCreated events). A new case the fast path cannot decide alone — a repeat of a recently
closed case, a second command for the same id — is left to the one-by-one path.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from server.data import cases as cases_data
from server.data import workflow as wf_data
from server.services import cases as case_service
from server.services.boundary_cache import ReferenceSnapshot
from server.services.payloads import new_case_from
from sync.commands import case_id_of, unexpected_fault
from sync.errors import DomainError, InvalidInput
from sync.lifecycle import Actor
from sync.protocol import Command, CommandResult, ResultStatus
from sync.workflow import REPEAT_WINDOW, ClosedCase, RepeatSearch, find_repeat, repeat_search

K = TypeVar("K")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decided:
    """What the fast path decided: stored results for some commands, the rest left over."""

    results: dict[int, CommandResult]
    rows_inserted: int
    left_over: list[Command]


@dataclass(frozen=True)
class Placed(Generic[K]):
    """What ``insert_valid`` did with each new case, by the caller's key, in the given order."""

    inserted: list[K]
    taken: list[K]  # a case with this id is already stored: not inserted
    repeats: list[K]  # repeats a recently closed case: left to the one-by-one path


def repeat_candidates_by_category(
    session: Session, items: Iterable[case_service.ValidNewCase], now: datetime
) -> dict[str, list[ClosedCase]]:
    """The closed cases the new ones may repeat (``sync.workflow.repeat_search``: their sites
    and the boxes around their points, within the repeat window), one query per category."""
    searches: dict[str, list[RepeatSearch]] = {}
    for v in items:
        search = repeat_search(site_code=v.case["site_code"], point=v.point)
        if search is not None:
            searches.setdefault(v.case["category"], []).append(search)
    return {
        category: wf_data.repeat_candidates(session, category, now - REPEAT_WINDOW, wanted)
        for category, wanted in sorted(searches.items())
    }


def insert_valid(
    session: Session,
    items: Sequence[tuple[K, case_service.ValidNewCase]],
    *,
    now: datetime,
    change_seq: int,
) -> Placed[K]:
    """Store validated new cases (ids unique among ``items``) with their CaseCreated events,
    every case stamped with ``change_seq`` (the caller's ``reserve_change_seq``)."""
    with session.no_autoflush:
        taken_ids = cases_data.existing_ids(session, [v.case["id"] for _, v in items])
        closed_by_category = repeat_candidates_by_category(session, [v for _, v in items], now)
    inserted: list[tuple[K, case_service.ValidNewCase]] = []
    taken: list[K] = []
    repeats: list[K] = []
    for key, v in items:
        if v.case["id"] in taken_ids:
            taken.append(key)
            continue
        closed = closed_by_category.get(v.case["category"], [])
        if closed and find_repeat(
            closed,
            category=v.case["category"],
            site_code=v.case["site_code"],
            point=v.point,
            now=now,
        ):
            repeats.append(key)  # reopens a closed case: the one-by-one path does that
            continue
        inserted.append((key, v))
    if inserted:
        cases_data.insert_new_cases(
            session,
            [{**v.case, "change_seq": change_seq} for _, v in inserted],
            [v.event for _, v in inserted],
        )
    return Placed(inserted=[k for k, _ in inserted], taken=taken, repeats=repeats)


def create_many(
    session: Session,
    commands: Sequence[Command],
    *,
    actor: Actor,
    ref: ReferenceSnapshot,
    now: datetime,
    change_seq: int,
    clock_offset_s: float | None = None,
) -> Decided:
    results: dict[int, CommandResult] = {}
    valid: list[tuple[Command, case_service.ValidNewCase]] = []
    left: list[Command] = []
    seen: set[str] = set()
    for cmd in commands:
        try:
            v = case_service.validate_new_case(
                actor=actor, new=new_case_from(cmd, now, clock_offset_s), ref=ref, now=now
            )
        except DomainError as error:
            results[cmd.id] = _rejected(cmd, error)
            continue
        except Exception:  # a fault the rules did not foresee: this command alone is refused
            log.exception("sync command %s (CreateCase) failed validation", cmd.id)
            results[cmd.id] = _rejected(cmd, unexpected_fault())
            continue
        if v.case["id"] in seen:
            left.append(cmd)  # the one-by-one path will refuse it as a duplicate id
            continue
        seen.add(v.case["id"])
        valid.append((cmd, v))
    savepoint = session.begin_nested()
    try:
        placed = insert_valid(session, valid, now=now, change_seq=change_seq)
        session.flush()
        savepoint.commit()
    except OperationalError:
        raise  # the database is busy: the whole push is answered "try again"
    except Exception:
        # one of the rows could not be stored: none of them is, and each goes the one-by-one
        # path, in its own savepoint, so that only the faulty one is refused
        savepoint.rollback()
        log.exception("bulk insert of %d new cases failed: applying them one by one", len(valid))
        return Decided(results=results, rows_inserted=0, left_over=left + [c for c, _ in valid])
    for cmd in placed.taken:
        results[cmd.id] = _rejected(
            cmd,
            InvalidInput(
                "id", "案件编号已存在 / a case with this id already exists", code="duplicate_id"
            ),
        )
    left.extend(placed.repeats)
    case_ids = {cmd.id: v.case["id"] for cmd, v in valid}
    for cmd in placed.inserted:
        results[cmd.id] = CommandResult(
            id=cmd.id, status=ResultStatus.APPLIED, case_id=case_ids[cmd.id]
        )
    return Decided(results=results, rows_inserted=len(placed.inserted), left_over=left)


def _rejected(cmd: Command, error: DomainError) -> CommandResult:
    return CommandResult(
        id=cmd.id,
        status=ResultStatus.REJECTED,
        code=error.code,
        reason=error.reason,
        case_id=case_id_of(cmd.payload),
        detail=error.as_dict(),
    )
