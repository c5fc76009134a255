"""Online-only reads of the supervisor dashboard and the notifications list.

Blocking calls through ``ApiClient`` (run them with ``asyncio.to_thread``); they raise the
client's ``ApiError`` tree (``ServerUnreachable`` when offline, ``Rejected`` for a role that
may not see the dashboard).

The dashboard's window follows the server's clock: the on-time figures come first and name
the period (this month / quarter / year, in China time); the other figures start there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import RootModel

from fieldapp.json_api import read_body
from fieldapp.viewmodels.dashboard import BUCKET_OF, TOP_HOTSPOTS
from sync.bodies import (
    BoardRowOut,
    CasesOverTimeOut,
    HotspotsOut,
    NotificationOut,
    OnTimeOut,
)

BoardRows = RootModel[list[BoardRowOut]]
Notifications = RootModel[list[NotificationOut]]

PAGE_SIZE = 500  # the server's largest page
MAX_PAGES = 20


class JsonClient(Protocol):
    """What these calls need (``ApiClient`` fits; a fake in unit tests)."""

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]: ...
    def get_json_list(self, path: str, params: dict[str, Any] | None = None) -> list[Any]: ...
    def post_json(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]: ...


@dataclass(frozen=True)
class DashboardPayload:
    period: str
    on_time: dict[str, Any]
    over_time: dict[str, Any]
    hotspots: dict[str, Any]
    board: list[dict[str, Any]]


def fetch_dashboard(client: JsonClient, period: str) -> DashboardPayload:
    """The four figures for ``period`` (``month`` / ``quarter`` / ``year``)."""
    on_time = read_body(
        "on-time", OnTimeOut, client.get_json("/evaluation/dashboard/on-time", {"kind": period})
    )
    window = {"start": on_time.period.start.isoformat()}
    over_time = read_body(
        "cases over time",
        CasesOverTimeOut,
        client.get_json(
            "/evaluation/dashboard/cases-over-time", {**window, "bucket": BUCKET_OF[period]}
        ),
    )
    hotspots = read_body(
        "hotspots",
        HotspotsOut,
        client.get_json("/evaluation/hotspots", {**window, "limit": TOP_HOTSPOTS}),
    )
    board = read_body(
        "overdue board",
        BoardRows,
        client.get_json_list("/supervision/overdue-board", {"by": "department"}),
    )
    return DashboardPayload(
        period=period,
        on_time=on_time.model_dump(mode="json"),
        over_time=over_time.model_dump(mode="json"),
        hotspots=hotspots.model_dump(mode="json"),
        board=[r.model_dump(mode="json") for r in board.root],
    )


def fetch_notifications(
    client: JsonClient, *, unread_only: bool = False, page_size: int = PAGE_SIZE
) -> list[dict[str, Any]]:
    """This user's notifications (their department's and their role's), oldest first. The
    server pages by id from the oldest: read up to ``MAX_PAGES`` pages to reach the newest."""
    out: list[dict[str, Any]] = []
    after_id = 0
    for _ in range(MAX_PAGES):
        params: dict[str, Any] = {"after_id": after_id, "limit": page_size}
        if unread_only:
            params["unread"] = "true"
        page = read_body(
            "notifications", Notifications, client.get_json_list("/notifications", params)
        )
        out.extend(n.model_dump(mode="json") for n in page.root)
        if len(page.root) < page_size:
            break
        after_id = max(n.id for n in page.root)
    return out


def mark_read(client: JsonClient, notification_id: int) -> dict[str, Any]:
    return client.post_json(f"/notifications/{notification_id}/read")
