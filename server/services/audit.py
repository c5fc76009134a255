"""Verifying the hash chains of the case histories (``python -m server audit verify``).

A case's chain is intact when its events are numbered 1, 2, 3, ... without a gap, the first
chains to ``GENESIS``, each ``prev_hash`` is the stored hash of the event before it, and each
stored hash is the hash of the event's fields as stored now. The first event where one of
these fails is named, with what differs; events after it are not trusted either.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from server.data import event_chain
from server.data.event_chain import GENESIS, StoredEvent, event_hash


@dataclass(frozen=True)
class ChainBreak:
    case_id: str
    case_number: str
    event_id: int | None  # None: the case has no event at all
    seq: int | None
    problem: str

    def describe(self) -> str:
        where = f"event {self.event_id} (seq {self.seq})" if self.event_id is not None else "—"
        return f"case {self.case_number} ({self.case_id}), {where}: {self.problem}"


@dataclass
class AuditReport:
    cases: int = 0
    events: int = 0
    breaks: list[ChainBreak] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.breaks


def _problem(event: StoredEvent, expected_seq: int, expected_prev: str) -> str | None:
    seq = int(event.fields["seq"])
    if seq != expected_seq:
        missing = (
            f"seq {expected_seq}" if seq == expected_seq + 1 else f"seq {expected_seq}..{seq - 1}"
        )
        return f"event {missing} is missing (deleted?): the chain jumps to seq {seq}"
    if event.prev_hash != expected_prev:
        before = "the case's start" if expected_seq == 1 else f"event seq {expected_seq - 1}"
        return (
            f"prev_hash {event.prev_hash[:16] or '(empty)'}… is not the hash of {before} "
            f"({expected_prev[:16]}…): an event before it was changed, removed or re-hashed"
        )
    recomputed = event_hash(event.fields, event.prev_hash)
    if event.hash != recomputed:
        return (
            f"its stored fields no longer match its hash (stored {event.hash[:16] or '(empty)'}…, "
            f"fields hash to {recomputed[:16]}…): the event was changed after it was written"
        )
    return None


def verify_chains(session: Session) -> AuditReport:
    """Every case's chain checked; at most one break (the first) per case."""
    report = AuditReport()
    current: str | None = None
    broken = False
    expected_seq = 1
    expected_prev = GENESIS
    for event in event_chain.stored_chains(session):
        report.events += 1
        if event.case_id != current:
            current, broken, expected_seq, expected_prev = event.case_id, False, 1, GENESIS
            report.cases += 1
        if broken:
            continue
        problem = _problem(event, expected_seq, expected_prev)
        if problem is not None:
            broken = True
            report.breaks.append(
                ChainBreak(
                    case_id=event.case_id,
                    case_number=event.case_number,
                    event_id=event.id,
                    seq=int(event.fields["seq"]),
                    problem=problem,
                )
            )
            continue
        expected_seq += 1
        expected_prev = event.hash
    for case_id, number in event_chain.cases_without_events(session):
        report.cases += 1
        report.breaks.append(
            ChainBreak(case_id, number, None, None, "the case has no events (all deleted?)")
        )
    return report
