"""Pull tells a department's devices which cases it no longer takes part in (``gone``), on
SQLite and PostgreSQL: once, when a ruling reassigns the case away from it; never to a
department still involved."""

from __future__ import annotations

import uuid
from typing import Any

from sync.protocol import PROTOCOL_HEADER
from tests.conftest import Server
from tests.server.test_workflow_api import parking_case, post_ok, raise_dispute


class Phone:
    """A registered device of ``user`` that pulls through the HTTP API."""

    def __init__(self, server: Server, user: str) -> None:
        r = server.post("/devices", user, {"client_id": str(uuid.uuid4()), "name": user})
        assert r.status_code == 201, r.text
        self.server = server
        self.headers = {"Authorization": f"Bearer {r.json()['device_token']}", PROTOCOL_HEADER: "1"}
        self.cursor: str | None = None
        self.cases: set[str] = set()

    def pull(self) -> dict[str, Any]:
        """Pull every page; keep the cursor; return the last page."""
        while True:
            r = self.server.client.post(
                "/sync/pull",
                json={"protocol": 1, "cursor": self.cursor, "results_after": 0, "limit": 200},
                headers=self.headers,
            )
            assert r.status_code == 200, r.text
            page = dict(r.json())
            self.cursor = page["cursor"]
            self.cases |= {c["id"] for c in page["cases"]}
            self.cases -= set(page["gone"])
            if not page["more"]:
                return page


def test_a_ruling_that_reassigns_a_case_tells_the_old_lead_once_and_no_one_else(
    server: Server,
) -> None:
    case = parking_case(server)  # zhzf leads and has accepted
    assisting = [a["department_code"] for a in case["assisting"]]
    old_lead, other = Phone(server, "zhzf_handler"), Phone(server, "jt_handler")
    for phone in (old_lead, other):
        phone.pull()
    assert case["id"] in old_lead.cases
    dispute = raise_dispute(server, "zhzf_handler", case["id"])
    for stage in ("coordination", "ruling"):
        post_ok(server, f"/disputes/{dispute['id']}/escalate", "coordinator", {"reason": stage})
    post_ok(
        server,
        f"/disputes/{dispute['id']}/settle",
        "coordinator",
        {
            "responsible_department": "jt",
            "facts": "停车场属交通运输局管理",
            "ruling_text": "由交通运输局主办",
            "legal_basis": "三定规定",
            "assisting": [{"department_code": d, "duty": "配合"} for d in assisting if d != "jt"],
        },
    )

    gone_to_old_lead = old_lead.pull()["gone"]
    assert gone_to_old_lead == [case["id"]] and case["id"] not in old_lead.cases
    assert other.pull()["gone"] == [] and case["id"] in other.cases  # jt now leads it
    assert old_lead.pull()["gone"] == []  # said once
