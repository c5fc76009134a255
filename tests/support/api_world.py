"""A server with the demo users for a whole test module, and the objects of two departments'
worlds built through the API: what the authorization matrix and schemathesis run against."""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy.engine import Engine

from server.app import create_app
from server.config import Settings
from server.db import make_engine
from tests.conftest import T0, Backend, FakeClock, Server


def module_server(backend: Backend, tmp_path: Path) -> Iterator[tuple[Server, Engine]]:
    """Like the ``server`` fixture, for a fixture of a wider scope."""
    url = backend.fresh_url(tmp_path)
    clock = FakeClock(T0)
    settings = Settings(database_url=url, photo_dir=tmp_path / "photos", secret="test")
    engine = make_engine(url)
    app = create_app(settings, engine=engine, clock=clock)
    with TestClient(app) as client:
        yield Server(client, clock, url, backend, {}), engine
    engine.dispose()
    backend.drop(url)


def png_bytes(seed: int) -> bytes:
    """A small real PNG, different for every seed."""
    img = Image.new("RGB", (8, 8), (seed % 256, (seed * 7) % 256, (seed * 13) % 256))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def upload_photo(server: Server, user: str, data: bytes) -> str:
    name = sha(data)
    headers = {
        **server.login(user),
        "Upload-Offset": "0",
        "Upload-Length": str(len(data)),
        "Chunk-Sha256": name,
        "Content-Type": "application/offset+octet-stream",
    }
    r = server.client.patch(f"/photos/{name}", content=data, headers=headers)
    assert r.status_code == 204, r.text
    return name


def ok(r: Any, *status: int) -> Any:
    assert r.status_code in (status or (200, 201)), f"{r.request.method} {r.request.url}: {r.text}"
    return r.json() if r.content else None


_SPOT = iter(range(100_000))


def spot() -> dict[str, float]:
    """A new place in 汶上街道 for each case, 80 m from the others."""
    k = next(_SPOT)
    return {"lat": 35.707 + 0.003 * (k // 40), "lon": 116.4565 + 0.0009 * (k % 40)}


def record_case(server: Server, user: str, category: str) -> str:
    body = {
        "id": str(uuid.uuid4()),
        "category": category,
        "description": "授权矩阵测试案件",
        "location": spot(),
    }
    return str(ok(server.post("/cases", user, body), 201)["id"])


@dataclass
class World:
    """The objects of one department's work (``kind`` → the path parameters that name it)."""

    name: str
    lead_department: str
    invited: str
    objects: dict[str, dict[str, str]] = field(default_factory=dict)


def _accepted_case(server: Server, recorder: str, category: str, lead: str) -> str:
    case_id = record_case(server, recorder, category)
    ok(server.post(f"/cases/{case_id}/assign", recorder, {}))
    ok(server.post(f"/cases/{case_id}/accept", lead, {}))
    return case_id


def build_world(
    server: Server,
    *,
    name: str,
    recorder: str,
    category: str,
    lead: str,
    lead_department: str,
    invited: str,
    seed: int,
) -> World:
    """A case led by ``lead_department`` (recorded by ``recorder``) with an assisting task and a
    photo; a dispute raised on another; an open joint session it convened inviting ``invited``,
    and a concluded one with a point and its minute; the lead's device."""
    world = World(name, lead_department, invited)
    case_id = _accepted_case(server, recorder, category, lead)
    case = ok(server.get(f"/cases/{case_id}", "supervisor"))
    assert case["lead_department"] == lead_department, case
    world.objects["case"] = {"case_id": case_id}
    assisting = [a["department_code"] for a in case["assisting"]]
    assert assisting, case
    world.objects["assist task"] = {"case_id": case_id, "department": assisting[0]}

    photo = upload_photo(server, recorder, png_bytes(seed))
    ok(server.post(f"/photos/{photo}/links", recorder, {"case_id": case_id}))
    world.objects["photo"] = {"sha256": photo}

    disputed = _accepted_case(server, recorder, category, lead)
    dispute = {
        "reason": "不属本部门职责",
        "legal_basis": "三定规定",
        "claimed_responsible": invited,
    }
    ok(server.post(f"/cases/{disputed}/raise-dispute", lead, dispute), 201)
    work = ok(server.get(f"/workflow/cases/{disputed}", "supervisor"))
    world.objects["dispute"] = {"dispute_id": str(work["disputes"][0]["id"])}

    convene = {
        "title": "联合办公",
        "purpose": "现场排查",
        "place": "现场",
        "departments": [invited],
    }
    js = ok(server.post("/joint-sessions", lead, convene), 201)
    world.objects["joint session"] = {"session_id": js["id"]}

    done = ok(server.post("/joint-sessions", lead, convene), 201)
    ok(server.post(f"/joint-sessions/{done['id']}/check-in", lead, {}))
    point = {
        "label": "点位1",
        "case": {
            "id": str(uuid.uuid4()),
            "category": category,
            "description": "现场发现的问题",
            "location": spot(),
        },
        "lead_department": lead_department,
        "duties": [],
    }
    ok(server.post(f"/joint-sessions/{done['id']}/points", lead, point), 201)
    concluded = ok(
        server.post(f"/joint-sessions/{done['id']}/conclude", lead, {"facts": "已划定职责"})
    )
    world.objects["minute"] = {"minute_id": str(concluded["minute_id"])}

    device = ok(server.post("/devices", lead, {"client_id": str(uuid.uuid4())}), 201)
    world.objects["device"] = {"device_id": device["device_id"]}
    return world


HOTLINE_TICKET = "RX-901"
HOTLINE_CSV = (
    "工单编号,受理时间,所属区域,事发地址,纬度,经度,诉求类别,诉求内容,联系电话,备注\r\n"
    f"{HOTLINE_TICKET},2026-10-30 09:15,汶上街道,尚书路,35.7071,116.4566,乱停车,车辆乱停,,\r\n"
)


def build_county_objects(server: Server) -> dict[str, dict[str, str]]:
    """Objects no single department owns: an evaluation run, a 12345 import."""
    run = ok(
        server.post(
            "/evaluation/runs", "supervisor", {"kind": "month", "year": 2026, "number": 10}
        ),
        201,
    )
    imported = server.client.post(
        "/hotline/imports",
        files={"file": ("export.csv", HOTLINE_CSV.encode())},
        headers=server.login("rx_handler"),
    )
    imp = ok(imported, 200, 201)
    return {
        "evaluation run": {"run_id": str(run["id"])},
        "hotline import": {"import_id": str(imp["id"])},
    }
