"""The load bench's simulated phone counts what it claims: a busy server's 503 is waited out
(at least its Retry-After) and is not an error; a refusal or a command not applied is."""

from __future__ import annotations

import json as jsonlib
from typing import Any

import pytest
import requests

from bench import bench_load
from bench.bench_load import Device, Tally, p95


class FakeHttp:
    """Answers the queued (status, body, headers) in order; records what was posted."""

    def __init__(self, answers: list[tuple[int, dict[str, Any], dict[str, str]]]) -> None:
        self.answers = answers
        self.posted: list[dict[str, Any]] = []

    def post(self, url: str, json: dict[str, Any], **_kw: Any) -> requests.Response:
        self.posted.append(json)
        status, body, headers = self.answers.pop(0)
        r = requests.Response()
        r.status_code = status
        r._content = jsonlib.dumps(body).encode()
        r.headers.update(headers)
        return r


def _device(answers: list[tuple[int, dict[str, Any], dict[str, str]]]) -> tuple[Device, Tally]:
    tally = Tally()
    device = Device("http://server", {}, tally, seed=1)
    device.http = FakeHttp(answers)  # type: ignore[assignment]
    return device, tally


def _applied(*ids: int) -> dict[str, Any]:
    return {"results": [{"id": i, "status": "applied"} for i in ids]}


def test_a_busy_server_is_waited_out_for_its_retry_after_and_is_no_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(bench_load.time, "sleep", slept.append)
    device, tally = _device(
        [(503, {"detail": "busy"}, {"Retry-After": "2"}), (200, _applied(1, 2, 3), {})]
    )
    assert device.push(3)
    assert tally.errors == []
    assert tally.backoffs == 1 and tally.requests == 2 and tally.applied == 3
    assert slept and slept[0] >= 2.0
    sent = device.http.posted  # type: ignore[attr-defined]
    assert sent[0] == sent[1]  # the same commands again, not new ones


def test_a_refusal_or_a_command_not_applied_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench_load.time, "sleep", lambda _s: None)
    refused, tally = _device([(422, {"detail": "commands"}, {})])
    assert not refused.push(3)
    assert len(tally.errors) == 1 and tally.backoffs == 0

    rejected = {"results": [{"id": 1, "status": "applied"}, {"id": 2, "status": "rejected"}]}
    partial, tally = _device([(200, rejected, {})])
    assert not partial.push(2)
    assert len(tally.errors) == 1 and tally.applied == 1


def test_a_server_that_stays_busy_is_an_error_after_the_phones_retries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bench_load.time, "sleep", lambda _s: None)
    busy: list[tuple[int, dict[str, Any], dict[str, str]]] = [
        (503, {}, {"Retry-After": "1"})
    ] * bench_load.ATTEMPTS
    device, tally = _device(list(busy))
    assert not device.push(3)
    assert len(tally.errors) == 1 and tally.requests == bench_load.ATTEMPTS


def test_p95_is_the_value_below_which_95_percent_fall() -> None:
    assert p95([float(i) for i in range(1, 101)]) == 95.0
    assert p95([5.0]) == 5.0
