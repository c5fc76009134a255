"""The sync indicator and the 同步问题 list, driven with fakes (no network, no browser)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from fieldapp.i18n import Lang
from fieldapp.viewmodels.sync_status import Counts, SyncStatus, problem_rows
from sync.client import NotRegistered, Offline, SyncProgress


@dataclass
class FakeStore:
    pending: int
    photos: int
    problem_list: list[object]
    cases: int = 0

    def pending_count(self) -> int:
        return self.pending

    def pending_case_count(self) -> int:
        return self.cases

    def photos_to_upload(self) -> list[object]:
        return [object()] * self.photos

    def problems(self) -> list[object]:
        return self.problem_list


@dataclass
class Problem:
    id: int
    type: str
    case_id: str | None
    status: str
    code: str | None
    reason: str | None


AT = datetime(2026, 11, 4, 2, 5, 9, tzinfo=UTC)


def test_the_indicator_counts_cases_and_photos_waiting_not_commands() -> None:
    status = SyncStatus()
    status.counted(Counts.of(FakeStore(7, 2, [object()], cases=2)))  # 7 commands, 2 cases
    assert status.detail() == "待同步 2 个案件 · 照片 2 张 · 上次同步 无"
    assert "7" not in status.detail()
    assert status.problems_label() == "同步问题 1 条"
    assert status.headline() == "尚未同步"


def test_progress_shows_a_fraction_per_phase_and_success_records_the_time() -> None:
    status = SyncStatus()
    status.started()
    assert status.syncing and status.fraction is None and status.headline() == "正在同步…"
    status.progressed(SyncProgress(phase="photos", bytes_done=50, bytes_total=200))
    assert status.fraction == 0.25
    status.progressed(SyncProgress(phase="push", commands_done=3, commands_total=4))
    assert status.fraction == 0.75
    status.succeeded(AT, Counts(0, 0, 0))
    assert not status.syncing and status.headline() == "已全部同步"
    assert "上次同步 11-04 10:05:09" in status.detail()  # China time


def test_offline_keeps_the_last_success_and_says_the_data_is_on_the_device() -> None:
    status = SyncStatus()
    status.succeeded(AT, Counts(0, 0, 0))
    status.started()
    status.failed(Offline("down"), Counts(2, 1, 0))
    assert status.headline() == "离线：数据已保存在本机"
    assert status.headline(Lang.EN) == "Offline: saved on this device"
    assert status.last_success == AT and status.pending_commands == 2
    status.failed(NotRegistered("revoked"), Counts(2, 1, 0))
    assert status.headline() == "设备未登记，请重新登录"


def test_each_problem_shows_the_servers_reason_and_what_to_do() -> None:
    rows = problem_rows(
        [
            Problem(4, "TransitionCase", "c1", "rejected", "wrong_status", "案件已撤销"),
            Problem(7, "EditCase", "c2", "conflict", "edit_conflict", "服务器保留"),
            Problem(9, "TransitionCase", "c3", "rejected", "department_not_allowed", "只有主办"),
        ]
    )
    assert [r.command_id for r in rows] == [9, 7, 4]  # newest first
    assert [r.advice_key for r in rows] == [
        "problem.advice.not_allowed",
        "problem.advice.conflict",
        "problem.advice.wrong_status",
    ]
    assert rows[2].reason == "案件已撤销" and rows[2].type_key == "command.TransitionCase"
