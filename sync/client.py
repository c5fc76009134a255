"""The device's sync engine: push the outbox, upload photos, pull changes — over requests,
with exponential backoff and jitter, safe to kill at any instant (all state is in the store)."""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from sync.device_store import DeviceStore
from sync.protocol import (
    MAX_BATCH,
    MAX_PUSH_BYTES,
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    CommandResult,
    DeviceToken,
    PullResponse,
    PushResponse,
    ResultStatus,
)

RETRY_STATUSES = frozenset({502, 503, 504})
PUSH_ENVELOPE_BYTES = 1024  # the push body around its commands: protocol, device_time, braces


def fitting_push(payloads: list[dict[str, Any]]) -> int:
    """How many of ``payloads`` (in order; at least one) one push body can carry under the
    server's ``MAX_PUSH_BYTES``: a long outbox goes up in several pushes, never as a 413."""
    size = PUSH_ENVELOPE_BYTES
    for n, payload in enumerate(payloads):
        size += len(json.dumps(payload, allow_nan=False).encode()) + 2  # ", " between commands
        if size > MAX_PUSH_BYTES:
            return max(n, 1)
    return len(payloads)


class SyncError(Exception):
    """Base of what the engine reports to the app."""


class Offline(SyncError):
    """The server could not be reached (after retries). Everything stays queued."""


class OutdatedApp(SyncError):
    """The server needs a newer app (426)."""


class NotRegistered(SyncError):
    """No device token, or the server refused it (revoked): sign in again."""


@dataclass
class SyncProgress:
    phase: str = "idle"  # push | photos | pull | done
    commands_done: int = 0
    commands_total: int = 0
    bytes_done: int = 0
    bytes_total: int = 0


@dataclass
class SyncReport:
    pushed: int = 0
    applied: int = 0
    rejected: list[CommandResult] = field(default_factory=list)
    conflicts: list[CommandResult] = field(default_factory=list)
    photos_uploaded: int = 0
    photos_refused: list[str] = field(default_factory=list)
    cases_pulled: int = 0


class SyncClient:
    def __init__(
        self,
        store: DeviceStore,
        base_url: str,
        *,
        http: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
        attempts: int = 5,
        batch: int = 100,
        timeout: float = 15.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.base_url = base_url.rstrip("/")
        self.http = http or requests.Session()
        self.sleep = sleep
        self.rng = rng
        self.attempts = attempts
        self.batch = max(1, min(batch, MAX_BATCH))  # the server refuses a larger batch
        self.timeout = timeout
        self.clock = clock  # the device's clock: sent with each push and pull

    # --- registration ----------------------------------------------------------------------

    @property
    def client_id(self) -> str:
        cid = self.store.get("client_id")
        if cid is None:
            cid = str(uuid.uuid4())
            self.store.set("client_id", cid)
        return cid

    def register(self, user_token: str, name: str = "") -> str:
        r = self._request(
            "POST", "/devices", {"client_id": self.client_id, "name": name}, token=user_token
        )
        body = DeviceToken.model_validate(r.json())
        with self.store.transaction() as s:
            self.store.set("device_id", body.device_id, s)
            self.store.set("device_token", body.device_token, s)
        return body.device_id

    @property
    def registered(self) -> bool:
        return self.store.get("device_token") is not None

    # --- HTTP with backoff -----------------------------------------------------------------

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter: 0..min(30, 0.5·2^attempt) seconds."""
        return self.rng() * min(30.0, 0.5 * (2**attempt))

    def _request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        token: str | None = None,
    ) -> requests.Response:
        token = token or self.store.get("device_token")
        headers = {PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        last: Exception | None = None
        for attempt in range(self.attempts):
            try:
                r = self.http.request(
                    method, self.base_url + path, json=body, headers=headers, timeout=self.timeout
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                last = exc
            else:
                if r.status_code in RETRY_STATUSES:
                    last = SyncError(f"{r.status_code}: {r.text[:200]}")
                elif r.status_code == 426:
                    raise OutdatedApp(r.json()["detail"]["reason"])
                elif r.status_code == 401:
                    raise NotRegistered(r.json()["detail"]["reason"])
                elif r.status_code >= 400:
                    raise SyncError(f"{r.status_code}: {r.text[:500]}")
                else:
                    return r
            if attempt + 1 < self.attempts:
                self.sleep(self.backoff(attempt))
        raise Offline(f"无法连接服务器，数据已保存在本机 / server unreachable: {last}")

    # --- the three steps -------------------------------------------------------------------

    def push(
        self,
        report: SyncReport,
        progress: SyncProgress,
        on_progress: Callable[[SyncProgress], None],
    ) -> None:
        progress.phase = "push"
        progress.commands_total = self.store.pending_count()
        while True:
            commands = self.store.pending(self.batch)
            if not commands:
                return
            payloads = [c.model_dump(mode="json") for c in commands]
            fits = fitting_push(payloads)
            commands, payloads = commands[:fits], payloads[:fits]
            body = {
                "protocol": PROTOCOL_VERSION,
                "commands": payloads,
                "device_time": self.clock().isoformat(),
                "outbox_pending": self.store.pending_count(),
            }
            resp = PushResponse.model_validate(self._request("POST", "/sync/push", body).json())
            self.store.record_results(resp.results, resp.last_applied)
            fresh = [r for r in resp.results if r.id in {c.id for c in commands}]
            report.pushed += len(fresh)
            report.applied += sum(r.status == ResultStatus.APPLIED for r in fresh)
            report.rejected += [r for r in fresh if r.status == ResultStatus.REJECTED]
            report.conflicts += [r for r in fresh if r.status == ResultStatus.CONFLICT]
            progress.commands_done += len(fresh)
            on_progress(progress)
            if not fresh:
                return  # nothing new was applied (a gap, or only stored results came back)

    def upload_photos(
        self,
        report: SyncReport,
        progress: SyncProgress,
        on_progress: Callable[[SyncProgress], None],
    ) -> None:
        photos = self.store.photos_to_upload()
        if not photos:
            return
        from sync.photo_upload import PhotoRefused, PhotoUploadGaveUp, upload_photo

        progress.phase = "photos"
        progress.bytes_total = sum(p.size for p in photos)
        token = self.store.get("device_token")
        headers = {"Authorization": f"Bearer {token}", PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
        base_done = 0
        for photo in photos:

            def _cb(done: int, _total: int, base: int = base_done) -> None:
                progress.bytes_done = base + done
                on_progress(progress)

            try:
                upload_photo(
                    self.http,
                    self.base_url,
                    headers,
                    photo.path,
                    photo.sha256,
                    on_progress=_cb,
                    sleep=self.sleep,
                )
            except PhotoRefused as exc:
                # kept on the phone and shown under 同步问题; the other photos go on
                self.store.mark_refused(photo.sha256, str(exc))
                report.photos_refused.append(photo.sha256)
                continue
            except (requests.ConnectionError, requests.Timeout, PhotoUploadGaveUp) as exc:
                raise Offline(f"照片上传中断，下次继续 / photo upload interrupted: {exc}") from exc
            self.store.mark_uploaded(photo.sha256)
            base_done += photo.size
            report.photos_uploaded += 1

    def pull(
        self,
        report: SyncReport,
        progress: SyncProgress,
        on_progress: Callable[[SyncProgress], None],
    ) -> None:
        progress.phase = "pull"
        while True:
            body = {
                "protocol": PROTOCOL_VERSION,
                "cursor": self.store.get("cursor"),
                "results_after": int(self.store.get("results_after", "0") or 0),
                "device_time": self.clock().isoformat(),
            }
            resp = PullResponse.model_validate(self._request("POST", "/sync/pull", body).json())
            self.store.apply_pull(resp)
            report.cases_pulled += len(resp.cases)
            on_progress(progress)
            if not resp.more:
                return

    def sync_once(self, on_progress: Callable[[SyncProgress], None] | None = None) -> SyncReport:
        if not self.registered:
            raise NotRegistered("请先登录 / sign in first")
        report = SyncReport()
        progress = SyncProgress()
        cb = on_progress or (lambda _p: None)
        self.upload_photos(report, progress, cb)
        self.push(report, progress, cb)
        self.pull(report, progress, cb)
        progress.phase = "done"
        cb(progress)
        return report
