"""Tamper-evident history, on both databases: every way the server writes events leaves each
case's hash chain intact (REST, sync push, hotline import, concurrent writers); an event
changed, re-hashed or deleted directly in the database is named by ``audit verify``; and
``case_event`` refuses every rewrite an application can issue (REPLACE, upsert, TRUNCATE)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from server.__main__ import main
from server.data.event_chain import event_hash, stored_chains
from server.db import alembic_config, make_engine, migrate
from server.demo import load_demo
from server.services.audit import AuditReport, verify_chains
from sync.protocol import PROTOCOL_HEADER
from tests.conftest import T0, Server
from tests.server.test_cases_api import act, case_body, record
from tests.server.test_hotline_import import HEADER, LOT, upload
from tests.server.test_migrations import empty_db  # noqa: F401  (the fixture)


def verify(server: Server) -> AuditReport:
    engine = make_engine(server.url)
    try:
        with Session(engine) as session:
            return verify_chains(session)
    finally:
        engine.dispose()


@contextmanager
def owner_bypassing_triggers(server: Server) -> Iterator[Connection]:
    """A connection of the tables' owner with the append-only triggers set aside: what an
    administrator with the database file or the owner's password could do."""
    engine: Engine = make_engine(server.url)
    try:
        with engine.begin() as conn:
            if server.backend.name == "sqlite":
                for name in ("no_update", "no_delete", "no_replace"):
                    conn.execute(text(f"DROP TRIGGER IF EXISTS case_event_{name}"))
            else:
                conn.execute(text("ALTER TABLE case_event DISABLE TRIGGER USER"))
            yield conn
    finally:
        engine.dispose()


def a_case_with_history(server: Server) -> str:
    case_id = record(server)["id"]
    act(server, "supervisor", case_id, "assign", lead_department="zhzf")
    for note in ("到场查看", "已联系车主", "车辆已挪走"):
        r = server.post(f"/cases/{case_id}/notes", "supervisor", {"note": note})
        assert r.status_code in (200, 201), r.text
    return case_id


def events_of(server: Server, case_id: str) -> list[dict[str, Any]]:
    return list(server.get(f"/cases/{case_id}", "supervisor").json()["events"])


def test_every_way_the_server_writes_events_leaves_intact_chains(server: Server) -> None:
    a_case_with_history(server)
    # the sync push fast path (bulk INSERT of new cases and their first events)
    phone = server.post("/devices", "inspector", {"client_id": str(uuid.uuid4()), "name": "手机"})
    token = {"Authorization": f"Bearer {phone.json()['device_token']}", PROTOCOL_HEADER: "1"}
    first = phone.json()["last_applied"] + 1
    bodies = [case_body(description=f"巡查 {i}") for i in range(3)]
    commands = [
        {
            "id": first + i,
            "type": "CreateCase",
            "created_at": T0.isoformat(),
            "payload": {"case_id": body.pop("id"), **body},
        }
        for i, body in enumerate(bodies)
    ]
    r = server.client.post("/sync/push", json={"protocol": 1, "commands": commands}, headers=token)
    assert r.status_code == 200, r.text
    assert [x["status"] for x in r.json()["results"]] == ["applied"] * 3, r.text
    # the hotline import: a new case, and a ticket joining it in the same file (bulk events)
    rows = [
        HEADER,
        f"C-1,2026-11-02 08:00,,尚书路停车场,{LOT.lat},{LOT.lon},乱停车,乱停,,",
        f"C-2,2026-11-02 08:30,,尚书路停车场,{LOT.lat},{LOT.lon},乱停车,又乱停,,",
    ]
    assert upload(server, "rx_handler", "\n".join(rows).encode()).json()["linked"] == 1

    report = verify(server)
    assert report.breaks == []
    assert report.cases >= 5 and report.events >= report.cases + 5


def test_concurrent_events_on_one_case_never_fork_its_chain(server: Server) -> None:
    case_id = record(server)["id"]
    server.login("supervisor")

    def note(i: int) -> int:
        r = server.post(f"/cases/{case_id}/notes", "supervisor", {"note": f"并发备注 {i}"})
        return int(r.status_code)

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(note, range(8)))
    assert set(answers) <= {200, 201}
    seqs = [e["seq"] for e in events_of(server, case_id)]
    assert seqs == list(range(1, len(answers) + 2))
    assert verify(server).breaks == []


@pytest.mark.tampers_history
def test_an_event_changed_in_the_database_is_named_with_its_case_and_what_differs(
    server: Server,
) -> None:
    case_id = a_case_with_history(server)
    a_case_with_history(server)  # an untouched case stays intact
    number = server.get(f"/cases/{case_id}", "supervisor").json()["number"]
    with owner_bypassing_triggers(server) as conn:
        conn.execute(
            text("UPDATE case_event SET actor_department = 'sw' WHERE case_id = :c AND seq = 3"),
            {"c": case_id},
        )
    report = verify(server)
    assert [(b.case_number, b.seq) for b in report.breaks] == [(number, 3)]
    assert "changed after it was written" in report.breaks[0].problem


@pytest.mark.tampers_history
def test_an_event_re_hashed_to_hide_a_change_breaks_the_chain_at_the_next_event(
    server: Server,
) -> None:
    case_id = a_case_with_history(server)
    with owner_bypassing_triggers(server) as conn:
        conn.execute(
            text(
                "UPDATE case_event SET actor_department = 'sw', hash = :h "
                "WHERE case_id = :c AND seq = 2"
            ),
            {"c": case_id, "h": "ab" * 32},
        )
    (found,) = verify(server).breaks
    assert found.seq == 2  # its own fields no longer hash to the forged value
    # a forger who computes the right hash for the changed fields: the next event breaks
    engine = make_engine(server.url)
    with Session(engine) as session:
        changed = next(
            e for e in stored_chains(session) if e.case_id == case_id and e.fields["seq"] == 2
        )
    engine.dispose()
    with owner_bypassing_triggers(server) as conn:
        conn.execute(
            text("UPDATE case_event SET hash = :h WHERE case_id = :c AND seq = 2"),
            {"c": case_id, "h": event_hash(changed.fields, changed.prev_hash)},
        )
    (found,) = verify(server).breaks
    assert found.seq == 3
    assert "prev_hash" in found.problem


@pytest.mark.tampers_history
def test_a_deleted_event_is_named_by_the_gap_it_leaves(server: Server) -> None:
    case_id = a_case_with_history(server)
    with owner_bypassing_triggers(server) as conn:
        conn.execute(text("DELETE FROM case_event WHERE case_id = :c AND seq = 2"), {"c": case_id})
    (found,) = verify(server).breaks
    assert found.seq == 3
    assert "seq 2 is missing" in found.problem


@pytest.mark.tampers_history
def test_a_case_whose_events_were_all_deleted_is_named(server: Server) -> None:
    case_id = record(server)["id"]
    with owner_bypassing_triggers(server) as conn:
        conn.execute(text("DELETE FROM case_event WHERE case_id = :c"), {"c": case_id})
    (found,) = verify(server).breaks
    assert found.case_id == case_id and "no events" in found.problem


@pytest.mark.tampers_history
def test_audit_verify_on_the_command_line_exits_non_zero_and_names_the_broken_event(
    server: Server, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    case_id = a_case_with_history(server)
    number = server.get(f"/cases/{case_id}", "supervisor").json()["number"]
    monkeypatch.setenv("DATABASE_URL", server.url)
    with pytest.raises(SystemExit) as intact:
        main(["audit", "verify"])
    assert intact.value.code == 0
    assert "intact" in capsys.readouterr().out

    with owner_bypassing_triggers(server) as conn:
        conn.execute(
            text("UPDATE case_event SET status_after = 'closed' WHERE case_id = :c AND seq = 4"),
            {"c": case_id},
        )
    with pytest.raises(SystemExit) as broken:
        main(["audit", "verify"])
    out = capsys.readouterr().out
    assert broken.value.code == 1
    assert f"BROKEN case {number}" in out and "(seq 4)" in out


# --- append-only against every statement --------------------------------------------------------

SQLITE_REWRITES = {
    "INSERT OR REPLACE on the same id": (
        "INSERT OR REPLACE INTO case_event SELECT * FROM case_event WHERE id = :id"
    ),
    "REPLACE INTO on the same id": (
        "REPLACE INTO case_event SELECT * FROM case_event WHERE id = :id"
    ),
    "INSERT OR REPLACE on the same (case_id, seq) under a new id": (
        "INSERT OR REPLACE INTO case_event (case_id, seq, kind, actor_user_id, actor_department,"
        " at, lat, lon, list_version, status_after, data, prev_hash, hash) SELECT case_id, seq,"
        " 'Forged', actor_user_id, actor_department, at, lat, lon, list_version, status_after,"
        " data, prev_hash, hash FROM case_event WHERE id = :id"
    ),
    "upsert on the id": (
        "INSERT INTO case_event SELECT * FROM case_event WHERE id = :id AND true "
        "ON CONFLICT (id) DO UPDATE SET kind = 'Forged'"
    ),
    "upsert on (case_id, seq)": (
        "INSERT INTO case_event (case_id, seq, kind, actor_user_id, actor_department, at,"
        " status_after, data) SELECT case_id, seq, kind, actor_user_id, actor_department, at,"
        " status_after, data FROM case_event WHERE id = :id AND true"
        " ON CONFLICT (case_id, seq) DO UPDATE SET kind = 'Forged'"
    ),
    "UPDATE OR REPLACE": "UPDATE OR REPLACE case_event SET kind = 'Forged' WHERE id = :id",
    "UPDATE": "UPDATE case_event SET kind = 'Forged' WHERE id = :id",
    "DELETE": "DELETE FROM case_event WHERE id = :id",
}
POSTGRES_REWRITES = {
    "upsert on the id": (
        "INSERT INTO case_event SELECT * FROM case_event WHERE id = :id "
        "ON CONFLICT (id) DO UPDATE SET kind = 'Forged'"
    ),
    "upsert on (case_id, seq)": (
        "INSERT INTO case_event (case_id, seq, kind, actor_user_id, actor_department, at,"
        " status_after, data) SELECT case_id, seq, kind, actor_user_id, actor_department, at,"
        " status_after, data FROM case_event WHERE id = :id"
        " ON CONFLICT (case_id, seq) DO UPDATE SET kind = 'Forged'"
    ),
    "UPDATE": "UPDATE case_event SET kind = 'Forged' WHERE id = :id",
    "DELETE": "DELETE FROM case_event WHERE id = :id",
    "TRUNCATE": "TRUNCATE case_event",
    "TRUNCATE CASCADE": "TRUNCATE case_event CASCADE",
}


def test_no_statement_rewrites_or_removes_a_stored_event(server: Server) -> None:
    """Run as the tables' owner with the triggers in place (SQLite has no roles: the triggers
    are all that stands; PostgreSQL's app role is refused by privileges as well, below)."""
    case_id = a_case_with_history(server)
    engine = make_engine(server.url)
    statements = SQLITE_REWRITES if server.backend.name == "sqlite" else POSTGRES_REWRITES
    try:
        with engine.connect() as conn:
            before = conn.execute(text("SELECT * FROM case_event ORDER BY id")).all()
            event_id = conn.execute(
                text("SELECT id FROM case_event WHERE case_id = :c AND seq = 2"), {"c": case_id}
            ).scalar_one()
        if server.backend.name == "sqlite":
            with engine.connect() as conn:  # REPLACE's delete must not slip by either way
                conn.exec_driver_sql("PRAGMA recursive_triggers = OFF")
        refused: dict[str, bool] = {}
        for name, statement in statements.items():
            try:
                with engine.begin() as conn:
                    conn.execute(text(statement), {"id": event_id})
                refused[name] = False
            except DBAPIError as exc:
                refused[name] = "append-only" in str(exc)
        with engine.connect() as conn:
            after = conn.execute(text("SELECT * FROM case_event ORDER BY id")).all()
    finally:
        engine.dispose()
    assert refused == dict.fromkeys(statements, True)
    assert after == before
    assert verify(server).breaks == []


def test_migrating_an_existing_history_chains_it_as_the_server_would_have(
    empty_db: str,  # noqa: F811  (the fixture imported above)
) -> None:
    """0014 fills the chain of events stored before it, case by case in order: the hashes it
    computes are the ones the server computes when writing (demo histories, both databases)."""
    migrate(empty_db)
    engine = make_engine(empty_db)
    query = text("SELECT id, prev_hash, hash FROM case_event ORDER BY id")
    try:
        assert load_demo(engine, now=T0) is True
        with engine.connect() as conn:
            written = conn.execute(query).all()
        command.downgrade(alembic_config(empty_db), "0008")  # the columns go
        engine.dispose()
        migrate(empty_db)  # and come back, filled by the migration
        with engine.connect() as conn:
            backfilled = conn.execute(query).all()
        with Session(engine) as session:
            report = verify_chains(session)
    finally:
        engine.dispose()
    assert len(written) > 20 and backfilled == written
    assert report.breaks == [] and report.events == len(written)
