"""The scheduled supervision job (督办): one run escalates every case whose clock has reached a
level (``server/services/escalation.py``) and moves every dispute whose stage is overdue
(``server/services/disputes.py``). Kept apart from both so neither imports the other's job."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from server.data import workflow as wf_data
from server.services import cases as case_service
from server.services.disputes import escalate_overdue_stage
from server.services.escalation import escalate_case

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    escalated: list[tuple[str, str]]  # (case id, level)
    disputes_moved: int


def run_escalation(engine: Engine, now: datetime) -> RunResult:
    """One run of the scheduled job (``python -m server escalate``)."""
    with Session(engine) as session:
        case_ids = wf_data.escalation_candidates(session)
        dispute_ids = wf_data.overdue_open_disputes(session, now)
    escalated: list[tuple[str, str]] = []
    for case_id in case_ids:
        with Session(engine, expire_on_commit=False) as session:
            # the lock order of every writer: the change counter, then the case
            case_service.reserve_change_seq(session)
            case = wf_data.lock_case_or_skip(session, case_id)
            if case is None:
                continue  # another process holds it right now and is escalating it
            levels = escalate_case(session, case, now)
            session.commit()
            escalated.extend((case_id, lvl) for lvl in levels)
    moved = 0
    for dispute_id in dispute_ids:
        with Session(engine, expire_on_commit=False) as session:
            if escalate_overdue_stage(session, dispute_id, now):
                moved += 1
            session.commit()
    if escalated or moved:
        log.info("escalation: %d levels, %d dispute stages", len(escalated), moved)
    return RunResult(escalated=escalated, disputes_moved=moved)
