"""Loads the demo data (演示数据) of ``server.demo_data`` into an empty database.

Idempotent: a database that already has departments is left as it is. Town/street offices are
loaded as departments with the code ``town:<town code>`` so their staff can sign in and assist.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select

from server import demo_data
from server.config import is_production
from server.data import boundary as boundary_data
from server.models import Department, SiteRow, TownRow, User
from server.services import cases as case_service
from server.services import workflow_hooks
from server.services.auth import actor_of, hash_password
from server.services.boundary_cache import ReferenceCache
from sync.boundary_types import Point
from sync.clock import CHINA_TZ
from sync.lifecycle import Action


class DemoRefused(RuntimeError):
    """Demo data asked for on a production server."""


def load_demo(engine: Engine, *, now: datetime, with_cases: bool = True) -> bool:
    """Load the demo data; return False if the database was not empty. Refused outright when
    ``YIXIAN_ENV`` says production (in any casing): the demo accounts share a public password."""
    if is_production(os.environ.get("YIXIAN_ENV")):
        raise DemoRefused(
            "YIXIAN_ENV=production: the demo accounts (public password) are never loaded"
        )
    workflow_hooks.register()  # the demo cases go through the whole workflow
    with Session(engine, expire_on_commit=False) as session:
        if session.exec(select(Department)).first() is not None:
            return False
        for d in demo_data.DEPARTMENTS:
            session.add(Department(code=d.code, name=d.name, short_name=d.short_name, kind=d.kind))
        for t in demo_data.TOWNS:
            session.add(
                TownRow(
                    code=t.code,
                    name=t.name,
                    kind=t.kind,
                    urban=t.urban,
                    polygon=[[p.lat, p.lon] for p in t.polygon],
                )
            )
            session.add(
                Department(
                    code=demo_data.town_office_code(t.code),
                    name=t.name,
                    short_name=t.name,
                    kind="town_office",
                )
            )
        session.flush()
        for s in demo_data.SITES:
            session.add(
                SiteRow(
                    code=s.code,
                    name=s.name,
                    kind=s.kind,
                    category=s.category,
                    town_code=s.town_code,
                    lat=s.location.lat,
                    lon=s.location.lon,
                    radius_m=s.radius_m,
                )
            )
        password_hash = hash_password(demo_data.DEMO_PASSWORD)
        for u in demo_data.DEMO_USERS:
            session.add(
                User(
                    username=u.username,
                    display_name=u.display_name,
                    role=u.role.value,
                    department_code=u.department_code,
                    password_hash=password_hash,
                )
            )
        session.flush()
        boundary_data.insert_version(
            session, demo_data.BOUNDARY_V1, published_by=None, published_at=now
        )
        session.commit()
        if with_cases:
            _demo_cases(session, now)
    return True


def _demo_cases(session: Session, now: datetime) -> None:
    """A few cases along the loop so every demo user has something to see."""
    ref = ReferenceCache().get(session)
    users = {u.username: u for u in session.exec(select(User))}
    inspector = actor_of(users["inspector"])
    zhzf = actor_of(users["zhzf_handler"])
    parking = next(s for s in demo_data.SITES if s.kind == "parking_lot")
    water = next(s for s in demo_data.SITES if s.kind == "waterlogging_point")
    stories = [
        ("parking", parking.location, "公共停车场无人管理，车辆乱停乱放，出入口堵塞", 3),
        ("waterlogging", water.location, "雨后路口积水约30厘米，行人无法通行", 2),
        (
            "waterlogging",
            Point(water.location.lat + 0.004, water.location.lon - 0.003),
            "小区门口排水不畅，积水倒灌",
            1,
        ),
        (
            "parking",
            Point(parking.location.lat + 0.002, parking.location.lon + 0.002),
            "停车场收费标识不清，群众反映乱收费",
            0,
        ),
    ]
    for i, (category, point, text, steps) in enumerate(stories):
        created = now - timedelta(days=4 - i)
        case = case_service.create_case(
            session,
            actor=inspector,
            ref=ref,
            now=created,
            new=case_service.NewCase(
                id=str(uuid.UUID(int=0xD3E0_0000 + i)),
                category=category,
                description=f"{text}（{demo_data.DEMO_MARK}）",
                point=point,
            ),
        )
        flow = [(inspector, Action.ASSIGN), (zhzf, Action.ACCEPT), (zhzf, Action.START_HANDLING)]
        for actor, action in flow[:steps]:
            case_service.apply_action(
                session,
                actor=actor,
                case_id=case.id,
                action=action,
                inp=case_service.ActionInput(where=point),
                ref=ref,
                now=created + timedelta(minutes=10),
            )
        session.commit()


def demo_now() -> datetime:
    return datetime.now(CHINA_TZ)
