"""Who is responsible for a case at time T (sync/responsibility.py): pure, from its events."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sync.clock import CHINA_TZ
from sync.responsibility import responsible_at


@dataclass(frozen=True)
class Ev:
    id: int
    kind: str
    at: datetime
    actor_department: str = "x"
    data: Mapping[str, Any] = field(default_factory=dict)


def nov(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=CHINA_TZ)


def duty(code: str) -> dict[str, str]:
    return {"department_code": code, "duty": "d"}


EVENTS = [
    Ev(1, "CaseCreated", nov(2, 9), "rx", {"first_contact_department": "rx"}),
    Ev(
        2,
        "CaseAssigned",
        nov(2),
        "rx",
        {"lead_department": "sw", "assisting": [duty("zj")], "due_at": nov(10).isoformat()},
    ),
    Ev(3, "DisputeRaised", nov(3), "sw"),
    Ev(4, "DisputeRuled", nov(5), "wbb", {"responsible_department": "zj", "lost_by": ["zj"]}),
    Ev(5, "CaseReturned", nov(6), "zj", {"returned_by": "zj"}),
    Ev(
        6,
        "CaseAssigned",
        nov(9),
        "rx",
        {
            "lead_department": "jt",
            "due_at": nov(20).isoformat(),
            "lead_due_at": nov(12).isoformat(),
        },
    ),
]


def test_the_first_contact_department_has_the_case_until_it_routes_it() -> None:
    at = responsible_at(EVENTS, nov(2, 9))
    assert (at.responsible, at.lead, at.since_event_id) == ("rx", None, 1)


def test_the_lead_has_the_case_from_its_assignment_with_its_deadline() -> None:
    at = responsible_at(EVENTS, nov(2, 12))
    assert (at.responsible, at.assisting, at.due_at, at.since_event_id) == (
        "sw",
        ("zj",),
        nov(10),
        2,
    )


def test_while_a_dispute_is_open_the_lead_and_the_assisting_departments_share_it() -> None:
    at = responsible_at(EVENTS, nov(4))
    assert at.disputed and at.sharing == ("sw", "zj")


def test_the_department_ruled_responsible_owns_the_case_from_the_ruling_on() -> None:
    at = responsible_at(EVENTS, nov(5))  # events at exactly T count
    assert (at.responsible, at.since_event_id, at.disputed) == ("zj", 4, False)
    assert at.assisting == ()  # the previous assisting list, but not the new lead itself
    assert at.due_at == nov(10)  # the deadline stands: the clock never stopped
    assert responsible_at(EVENTS, nov(4, 23)).responsible == "sw"


def test_a_returned_case_is_the_first_contacts_again_with_no_deadline() -> None:
    at = responsible_at(EVENTS, nov(7))
    assert (at.responsible, at.lead, at.due_at, at.since_event_id) == ("rx", None, None, 5)


def test_a_joint_session_time_node_is_the_deadline_of_the_new_lead() -> None:
    at = responsible_at(EVENTS, nov(30))
    assert (at.responsible, at.due_at, at.since_event_id) == ("jt", nov(12), 6)
