"""The timeline names departments and people for every event, with a label for every kind:
the events are the ones the server really writes (recorded, assigned with assisting
departments, accepted, reported on and rated), read with the phone's view model."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session

from fieldapp.i18n import MESSAGES, Lang, label_for
from fieldapp.viewmodels.case_detail import CaseDetailViewModel
from fieldapp.viewmodels.timeline_facts import fact_line
from server.db import make_engine
from server.services.sync import reference_snapshot
from sync.events import ALL_EVENT_KINDS
from sync.lifecycle import Actor
from sync.reference_codec import decode_reference
from sync.vocabulary import Role
from tests.conftest import Server
from tests.server.test_worked_examples import act
from tests.server.test_workflow_api import post_ok, wages_case


@pytest.mark.parametrize("lang", list(Lang))
def test_every_event_kind_has_a_label_in_both_languages(lang: Lang) -> None:
    unlabelled = [k for k in ALL_EVENT_KINDS if label_for("event", k, lang) == k]
    assert unlabelled == []
    assert len({MESSAGES[f"event.{k}"][0] for k in ALL_EVENT_KINDS}) == len(ALL_EVENT_KINDS)


def _timeline(server: Server, case_id: str, lang: Lang) -> list[tuple[str, str]]:
    case = server.get(f"/cases/{case_id}", "rs_handler").json()
    engine = make_engine(server.url)
    with Session(engine) as session:
        reference = decode_reference(reference_snapshot(session))
    engine.dispose()
    vm = CaseDetailViewModel(
        case, Actor("u", Role.HANDLER, "rs"), reference, now=server.clock.now
    )
    return [
        (label_for("event", row.kind, lang), fact_line(row.facts, lang, lambda m: m.isoformat()))
        for row in vm.timeline()
    ]


def test_the_timeline_names_the_lead_the_assisting_departments_and_the_ratings(
    server: Server,
) -> None:
    case = wages_case(server)  # 拖欠工资: the list names 人社局 lead, 住建局 and 交通局 assisting
    cid = case["id"]
    act(server, "rs_handler", cid, "accept")
    base = f"/workflow/cases/{cid}/assist-tasks"
    post_ok(server, f"{base}/zj/report", "zj_handler", {"note": "已责令总包补发", "photos": []})
    post_ok(server, f"{base}/zj/rate", "rs_handler", {"rating": 4, "comment": "及时"})

    rows: dict[str, Any] = dict(_timeline(server, cid, Lang.ZH))
    assigned = rows["交办"]
    assert assigned.startswith("主办 人社局；协办 ")
    assert "住建局" in assigned and "交通局" in assigned and "时限 " in assigned
    assert rows["协办部门反馈"] == "部门 住建局"
    assert rows["主办评价协办"] == "部门 住建局；评分 4/5；评语 及时"
    tasks = [facts for label, facts in _timeline(server, cid, Lang.ZH) if label == "协办任务"]
    named = sorted(f.split("；")[0] for f in tasks)  # one task per assisting department
    assert len(named) == len(case["assisting"]) >= 2
    assert "部门 住建局" in named and "部门 交通局" in named
    assert all(n.removeprefix("部门 ") in assigned for n in named)

    english = dict(_timeline(server, cid, Lang.EN))
    assert english["Assigned"].startswith("Lead 人社局; Assisting ")


def test_an_unknown_event_kind_from_a_newer_server_shows_its_name_not_an_error() -> None:
    assert label_for("event", "SomethingNew", Lang.ZH) == "SomethingNew"
