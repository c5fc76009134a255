"""The fast path for a run of CreateCase commands in one push: the same rules, fewer round trips.

Every command is validated by ``cases.validate_new_case`` (the rules the one-by-one path uses);
the ids are checked for uniqueness with one query; the repeat-report rule is checked against the
recently closed cases fetched once per category. Commands that pass go in with three bulk
INSERTs (cases, events, stored results). A command the fast path cannot decide alone — a repeat
of a recently closed case, a second command for the same id — is left to the one-by-one path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert
from sqlmodel import Session

from server.data import cases as cases_data
from server.data import workflow as wf_data
from server.models import Case, CaseEvent
from server.services import cases as case_service
from server.services.boundary_cache import ReferenceSnapshot
from server.services.payloads import new_case_from
from sync.boundary_types import Point
from sync.errors import DomainError, InvalidInput
from sync.lifecycle import Actor
from sync.protocol import Command, CommandResult, ResultStatus
from sync.workflow import REPEAT_WINDOW, ClosedCase, find_repeat


@dataclass(frozen=True)
class Decided:
    """What the fast path decided: stored results for some commands, the rest left over."""

    results: dict[int, CommandResult]
    rows_inserted: int
    left_over: list[Command]


def create_many(
    session: Session,
    commands: Sequence[Command],
    *,
    actor: Actor,
    ref: ReferenceSnapshot,
    now: datetime,
    change_seq: int,
) -> Decided:
    results: dict[int, CommandResult] = {}
    valid: list[tuple[Command, case_service.ValidNewCase]] = []
    left: list[Command] = []
    seen: set[str] = set()
    for cmd in commands:
        try:
            v = case_service.validate_new_case(
                actor=actor, new=new_case_from(cmd, now), ref=ref, now=now
            )
        except DomainError as error:
            results[cmd.id] = _rejected(cmd, error)
            continue
        except (KeyError, TypeError, ValueError) as error:
            results[cmd.id] = _rejected(
                cmd, InvalidInput("payload", f"格式错误 / malformed: {error}")
            )
            continue
        if v.case["id"] in seen:
            left.append(cmd)  # the one-by-one path will refuse it as a duplicate id
            continue
        seen.add(v.case["id"])
        valid.append((cmd, v))
    with session.no_autoflush:
        taken = cases_data.existing_ids(session, [v.case["id"] for _, v in valid])
        closed_by_category: dict[str, list[ClosedCase]] = {}
        for category in {v.case["category"] for _, v in valid}:
            closed_by_category[category] = [
                ClosedCase(c.id, c.category, c.closed_at, c.site_code, _point(c))
                for c in wf_data.recently_closed(session, category, now - REPEAT_WINDOW)
                if c.closed_at is not None
            ]
    rows: list[tuple[Command, case_service.ValidNewCase]] = []
    for cmd, v in valid:
        if v.case["id"] in taken:
            results[cmd.id] = _rejected(
                cmd,
                InvalidInput(
                    "id", "案件编号已存在 / a case with this id already exists", code="duplicate_id"
                ),
            )
            continue
        closed = closed_by_category.get(v.case["category"], [])
        if closed and find_repeat(
            closed,
            category=v.case["category"],
            site_code=v.case["site_code"],
            point=v.point,
            now=now,
        ):
            left.append(cmd)  # reopens a closed case: the one-by-one path does that
            continue
        rows.append((cmd, v))
    if rows:
        session.execute(
            insert(Case.__table__),  # type: ignore[attr-defined,arg-type]
            [{**v.case, "change_seq": change_seq} for _, v in rows],
        )
        session.execute(insert(CaseEvent.__table__), [v.event for _, v in rows])  # type: ignore[attr-defined,arg-type]
        for cmd, v in rows:
            results[cmd.id] = CommandResult(
                id=cmd.id, status=ResultStatus.APPLIED, case_id=v.case["id"]
            )
    return Decided(results=results, rows_inserted=len(rows), left_over=left)


def _point(case: Case) -> Point | None:
    return Point(case.lat, case.lon) if case.lat is not None and case.lon is not None else None


def _rejected(cmd: Command, error: DomainError) -> CommandResult:
    return CommandResult(
        id=cmd.id,
        status=ResultStatus.REJECTED,
        code=error.code,
        reason=error.reason,
        case_id=cmd.payload.get("case_id"),
        detail=error.as_dict(),
    )
