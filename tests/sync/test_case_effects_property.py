"""One function says what each action does to a case (``sync.case_effects``): random sequences
of actions by random demo users, applied on a phone's local store (``CaseWriter``) and by the
server (``cases.apply_action``, the path REST and sync push share), are accepted or refused
alike and leave the same case fields — status, lead and assisting, counters, suspension,
dispute, duplicate, closing time, deadline and handlers.

SQLite only: the property is about the rules, not the database (the API tests run both)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session, select

from fieldapp.viewmodels.records import Assignment, CaseWriter, facts_of, fields_of
from server.db import make_engine, migrate
from server.demo import load_demo
from server.models import User
from server.services import cases as case_service
from server.services.auth import actor_of
from server.services.boundary_cache import ReferenceCache, ReferenceSnapshot
from server.services.sync import case_snapshot
from sync.assignment import propose_assignment
from sync.boundary_types import Point
from sync.device_store import DeviceStore
from sync.errors import DomainError
from sync.lifecycle import Action, Actor, allowed_actions
from tests.conftest import T0

_SPOTS = itertools.count()


def spot() -> Point:
    """A new place in 汶上街道 for each case, 80 m from the others and off the registered sites
    (no case repeats a closed one)."""
    k = next(_SPOTS)
    return Point(35.716 + 0.003 * (k // 40), 116.4565 + 0.0009 * (k % 40))


@dataclass
class World:
    engine: Engine
    ref: ReferenceSnapshot
    actors: dict[str, Actor]
    store: DeviceStore


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("effects")
    url = f"sqlite:///{tmp / 'server.db'}"
    migrate(url)
    engine = make_engine(url)
    load_demo(engine, now=T0, with_cases=False)
    with Session(engine) as session:
        ref = ReferenceCache().get(session)
        actors = {u.username: actor_of(u) for u in session.exec(select(User))}
    store = DeviceStore(tmp / "phone.db")
    yield World(engine, ref, actors, store)
    store.close()
    engine.dispose()


USERS = (
    "inspector",
    "supervisor",
    "coordinator",
    "admin",
    "rx_handler",
    "zhzf_handler",
    "sw_handler",
    "wenshang_handler",
    "jt_handler",
)


@dataclass(frozen=True)
class Step:
    user: str
    action: Action
    reason: str
    legal_basis: str
    merge_into_other: bool
    where: str  # none | near | far


def draw_step(data: st.DataObject, offered_to: Callable[[str], list[Action]]) -> Step:
    """Most of the time one of the actions the rules offer some demo user now (so sequences get
    far along the loop), otherwise any action by any demo user (so refusals are compared too);
    the input is filled in or left blank at random."""
    offered = [(user, action) for user in USERS for action in offered_to(user)]
    if offered and data.draw(st.sampled_from([True, True, True, False])):
        user, action = data.draw(st.sampled_from(offered))
    else:
        user = data.draw(st.sampled_from(USERS))
        action = data.draw(st.sampled_from(list(Action)))
    return Step(
        user=user,
        action=action,
        reason=data.draw(st.sampled_from(["现场核实 / checked", "现场核实 / checked", ""])),
        legal_basis=data.draw(st.sampled_from(["三定规定", "三定规定", ""])),
        merge_into_other=data.draw(st.sampled_from([True, True, False])),
        where=data.draw(st.sampled_from(["near", "near", "far", "none"])),
    )


def _record(world: World, user: str, point: Point, now: datetime) -> str:
    case_id = str(uuid.uuid4())
    with Session(world.engine) as session:
        case_service.create_case(
            session,
            actor=world.actors[user],
            new=case_service.NewCase(
                id=case_id, category="parking", description="停车场出入口被占用", point=point
            ),
            ref=world.ref,
            now=now,
        )
        session.commit()
    return case_id


def _server_apply(world: World, case_id: str, step: Step, inp: Any, now: datetime) -> bool:
    with Session(world.engine) as session:
        try:
            case_service.apply_action(
                session,
                actor=world.actors[step.user],
                case_id=case_id,
                action=step.action,
                inp=inp,
                ref=world.ref,
                now=now,
            )
        except DomainError:
            session.rollback()
            return False
        session.commit()
        return True


def _assignment(world: World, snapshot: dict[str, Any], now: datetime) -> Assignment:
    """What the phone proposes offline (the same list, the same function)."""
    proposal = propose_assignment(
        versions=world.ref.versions,
        towns=world.ref.towns,
        sites=world.ref.sites,
        category=str(snapshot["category"]),
        recorded_at=datetime.fromisoformat(str(snapshot["created_at"])),
        assigned_at=now,
        calendar=world.ref.calendar,
        point=Point(float(snapshot["lat"]), float(snapshot["lon"])),
        town_code=snapshot.get("town_code"),
        site_code=snapshot.get("site_code"),
    )
    return Assignment(proposal, proposal.lead_department, proposal.assisting)


def _phone_apply(
    world: World, case_id: str, step: Step, other: str, where: Point | None, now: datetime
) -> bool:
    snapshot = world.store.case(case_id)
    assert snapshot is not None
    writer = CaseWriter(world.store, world.actors[step.user])
    try:
        writer.transition(
            case_id,
            step.action,
            now=now,
            reason=step.reason,
            legal_basis=step.legal_basis,
            where=where,
            duplicate_of=other if step.merge_into_other else None,
            assignment=_assignment(world, snapshot, now) if step.action is Action.ASSIGN else None,
        )
    except DomainError:
        return False
    return True


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_the_phone_and_the_server_apply_every_action_alike(
    world: World, data: st.DataObject
) -> None:
    point = spot()
    now = T0
    case_id = _record(world, "inspector", point, now)
    other = _record(world, "inspector", spot(), now)  # a case the mergers may all see
    with Session(world.engine) as session:
        case = case_service.get_visible_case(session, case_id, world.actors["supervisor"])
        snap = case_snapshot(session, case)
    with world.store.transaction() as s:
        world.store.put_local_case(s, snap, from_server=True)
    far = Point(point.lat + 0.002, point.lon)  # ~220 m away
    for i in range(data.draw(st.integers(min_value=1, max_value=16))):
        now = T0 + timedelta(minutes=7 * (i + 1))

        def offered_to(user: str, now: datetime = now) -> list[Action]:
            snapshot = world.store.case(case_id)
            assert snapshot is not None
            return allowed_actions(facts_of(snapshot), world.actors[user], now=now)

        step = draw_step(data, offered_to)
        where = {"none": None, "near": point, "far": far}[step.where]
        inp = case_service.ActionInput(
            reason=step.reason,
            legal_basis=step.legal_basis,
            duplicate_of=other if step.merge_into_other else None,
            where=where,
        )
        on_server = _server_apply(world, case_id, step, inp, now)
        on_phone = _phone_apply(world, case_id, step, other, where, now)
        assert on_phone == on_server, (i, step)
        with Session(world.engine) as session:
            server_case = case_service.get_visible_case(
                session, case_id, world.actors["supervisor"]
            )
            server_fields = case_service.case_fields(server_case)
        phone_snapshot = world.store.case(case_id)
        assert phone_snapshot is not None
        assert fields_of(phone_snapshot) == server_fields, (i, step)
