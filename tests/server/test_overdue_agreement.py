"""Overdue and due soon mean the same everywhere (sync/overdue.py): the case API's flags, the
list's SQL filter, the overdue board and the phone's task buckets (fed by the pull payload)
agree on cases in every state — suspended, closed, reported back, returned, due soon by working
time across a weekend — on SQLite and PostgreSQL. And the acceptance deadline (签收时限) is
computed, stored, listed and synced before anything escalates."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session

from fieldapp.viewmodels.tasks import Bucket, bucket_of, row_of
from server.db import make_engine
from server.demo_data import SITES
from server.evaluation.rules import RULES_PATH, load_rules, parse_rules
from server.models import Case
from server.services.cases import stamp_change
from sync.clock import CHINA_TZ
from sync.errors import InvalidInput
from sync.protocol import PROTOCOL_HEADER
from sync.workflow import ACCEPTANCE_LIMIT, acceptance_due_at
from tests.conftest import T0, Server
from tests.server.test_supervision_and_joint_sessions import escalate, levels, waterlogging_case
from tests.server.test_worked_examples import act, record
from tests.server.test_workflow_api import work
from tests.support.work_calendar import SEEDED

LOCATION = (SITES[0].location.lat, SITES[0].location.lon)


def china(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=CHINA_TZ)


MON = china(2, 9)
# name → (status, assigned_at, due_at, suspended, reroute_due_at)
STATES: dict[str, tuple[str, datetime | None, datetime | None, bool, datetime | None]] = {
    "assigned_late": ("assigned", MON, china(5, 17, 30), False, None),
    "handling_late": ("handling", MON, china(5, 17, 30), False, None),
    "suspended_late": ("accepted", MON, china(5, 17, 30), True, None),
    "handled_late": ("handled", MON, china(5, 17, 30), False, None),
    "closed_late": ("closed", MON, china(5, 17, 30), False, None),
    "cancelled_late": ("cancelled", MON, china(5, 17, 30), False, None),
    "merged_late": ("merged", MON, china(5, 17, 30), False, None),
    "monday_morning": ("accepted", MON, china(9, 9, 30), False, None),
    "short_limit": ("accepted", china(4, 9), china(5, 9), False, None),
    "suspended_soon": ("handling", MON, china(9, 9, 30), True, None),
    "returned_late": ("discovered", None, None, False, china(3, 17, 30)),
    "returned_in_time": ("discovered", None, None, False, china(20, 17, 30)),
    "returned_suspended": ("discovered", None, None, True, china(3, 17, 30)),
    "never_assigned": ("discovered", None, None, False, None),
    "far_away": ("handling", MON, china(30, 17, 30), False, None),
}
NOWS = (china(4, 10), china(5, 8, 45), china(6, 18), china(9, 9), china(10, 10))


def _insert_cases(server: Server) -> dict[str, str]:
    ids: dict[str, str] = {}
    engine = make_engine(server.url)
    with Session(engine) as session:
        for n, (name, (status, assigned, due, suspended, reroute)) in enumerate(STATES.items()):
            case = Case(
                id=str(uuid.uuid4()),
                number=f"YX-AGREE-{n:02d}",
                status=status,
                category="waterlogging",
                description=name,
                first_contact_department="rx",
                reporter_user_id="u",
                lead_department="zhzf" if assigned else None,
                assigned_at=assigned,
                due_at=due,
                suspended=suspended,
                reroute_due_at=reroute,
                created_at=T0 - timedelta(days=1),
                updated_at=T0 - timedelta(days=1),
            )
            stamp_change(session, case)
            session.add(case)
            ids[name] = case.id
        session.commit()
    engine.dispose()
    return ids


def _pulled(server: Server, user: str) -> dict[str, dict[str, Any]]:
    """The cases as a phone of ``user`` stores them: the pull payload, every page."""
    r = server.post("/devices", user, {"client_id": str(uuid.uuid4()), "name": user})
    assert r.status_code == 201, r.text
    headers = {"Authorization": f"Bearer {r.json()['device_token']}", PROTOCOL_HEADER: "1"}
    cursor: str | None = None
    out: dict[str, dict[str, Any]] = {}
    while True:
        r = server.client.post(
            "/sync/pull",
            json={"protocol": 1, "cursor": cursor, "results_after": 0, "limit": 200},
            headers=headers,
        )
        assert r.status_code == 200, r.text
        page = r.json()
        out.update({c["id"]: c for c in page["cases"]})
        cursor = page["cursor"]
        if not page["more"]:
            return out


def test_the_phone_buckets_the_api_flags_and_the_list_filter_agree_on_every_state(
    server: Server,
) -> None:
    ids = _insert_cases(server)
    names = {v: k for k, v in ids.items()}
    phone = _pulled(server, "supervisor")
    assert set(ids.values()) <= set(phone)
    for now in NOWS:
        server.clock.now = now
        listed = {
            c["id"]
            for c in server.get("/cases", "supervisor", overdue=True, limit=200).json()["items"]
        }
        for name, cid in ids.items():
            flags = server.get(f"/cases/{cid}", "supervisor").json()
            bucket = bucket_of(row_of(phone[cid], calendar=SEEDED), now, SEEDED)
            assert flags["overdue"] == (cid in listed), (name, now)
            assert flags["overdue"] == (bucket == Bucket.OVERDUE), (name, now, bucket)
            assert flags["due_soon"] == (bucket == Bucket.DUE_SOON), (name, now, bucket)
        board = server.get("/supervision/overdue-board", "supervisor", by="category").json()
        on_board = sum(r["overdue"] for r in board)
        assert on_board == len(listed), now
        if now == china(6, 18):  # Friday evening
            assert {names[c] for c in listed} == {
                "assigned_late",
                "handling_late",
                "handled_late",  # reported back, not verified: not closed by its deadline
                "short_limit",
                "returned_late",
            }
            soon = bucket_of(row_of(phone[ids["monday_morning"]], calendar=SEEDED), now, SEEDED)
            assert soon == Bucket.DUE_SOON  # 63.5 wall-clock hours, but 1 working hour left
        if now == china(4, 10):  # Wednesday: due tomorrow 09:00, 6.5 of 7.5 working hours left
            assert (
                bucket_of(row_of(phone[ids["short_limit"]], calendar=SEEDED), now, SEEDED)
                != Bucket.DUE_SOON
            )


@pytest.mark.parametrize("user", ["supervisor", "zhzf_handler"])
def test_the_acceptance_deadline_is_computed_stored_listed_and_synced_before_it_escalates(
    server: Server, user: str
) -> None:
    case = waterlogging_case(server, accept=False)  # assigned Monday 09:00
    expected = acceptance_due_at(datetime.fromisoformat(case["assigned_at"]), SEEDED)
    accept_by = datetime.fromisoformat(case["acceptance_due_at"])
    # the acceptance escalation's own limit, 4 working hours: 09:00–12:00, then 13:30–14:30
    assert (ACCEPTANCE_LIMIT.amount, ACCEPTANCE_LIMIT.unit.value) == (4, "working_hours")
    assert accept_by == expected == china(2, 14, 30)
    got = server.get(f"/cases/{case['id']}", user).json()
    assert datetime.fromisoformat(got["acceptance_due_at"]) == accept_by
    listed = server.get("/cases", user).json()["items"]
    assert [datetime.fromisoformat(c["acceptance_due_at"]) for c in listed] == [accept_by]
    phone = _pulled(server, user)[case["id"]]
    assert row_of(phone).acceptance_due_at == accept_by  # what the task list shows
    # shown before anything escalates: nothing yet at the deadline, the level just after it
    server.clock.now = accept_by
    escalate(server)
    assert "acceptance" not in levels(server, case["id"])
    server.clock.now = accept_by + timedelta(minutes=1)
    escalate(server)
    assert "acceptance" in levels(server, case["id"])


# --- no case is stuck with nobody: a returned case has a clock ----------------------------------


def test_a_returned_case_not_rerouted_in_time_escalates_against_the_first_contact_department(
    server: Server,
) -> None:
    case = record(server, "rx_handler", "waterlogging", *LOCATION, "积水", source="hotline")
    act(server, "rx_handler", case["id"], "assign")
    returned = act(server, "zhzf_handler", case["id"], "return", reason="非本部门职责")
    reroute_by = datetime.fromisoformat(returned["reroute_due_at"])
    assert reroute_by == china(3, 17, 30)  # rules.toml: 1 working day
    server.clock.now = reroute_by
    escalate(server)
    assert levels(server, case["id"]) == []
    server.clock.now = reroute_by + timedelta(minutes=1)
    escalate(server)
    assert levels(server, case["id"]) == ["reminder"]
    escalations = work(server, case["id"])["escalations"]
    assert escalations[0]["departments"] == ["rx"]  # 首问负责, not the department that returned it
    assert any(
        n["kind"] == "escalation_reminder" and n["case_id"] == case["id"]
        for n in server.get("/notifications", "rx_handler").json()
    )
    board = server.get("/supervision/overdue-board", "supervisor").json()
    assert {r["key"]: r["overdue"] for r in board} == {"rx": 1}
    server.clock.now = reroute_by + timedelta(days=7)
    escalate(server)
    assert levels(server, case["id"]) == ["reminder", "supervisor", "leadership"]
    # routed again: the re-routing clock is done, the new lead's deadline runs
    again = act(server, "rx_handler", case["id"], "assign")
    assert again["reroute_due_at"] is None and not again["overdue"]


def test_the_rerouting_limit_is_read_from_the_rules_data() -> None:
    rules = load_rules(RULES_PATH)
    assert (rules.reroute_limit.amount, rules.reroute_limit.unit.value) == (1, "working_days")
    base = 'version = "v"\nbase_points = 100\nmin_cases = 3\n'
    hours = parse_rules(base + '[deadlines]\nreroute_amount = 6\nreroute_unit = "working_hours"')
    assert (hours.reroute_limit.amount, hours.reroute_limit.unit.value) == (6, "working_hours")
    assert parse_rules(base).reroute_limit == ACCEPTANCE_LIMIT  # left out: the acceptance limit
    for bad, field in (
        ('[deadlines]\nreroute_amount = 0\nreroute_unit = "working_days"', "reroute_amount"),
        ('[deadlines]\nreroute_amount = 1\nreroute_unit = "days"', "reroute_unit"),
        ("[deadlines]\nreroute_amount = 1", "reroute_unit"),
        ('[deadlines]\nreroute = "1d"', "reroute"),
    ):
        with pytest.raises(InvalidInput) as err:
            parse_rules(base + bad)
        assert err.value.field == f"deadlines.{field}"
