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


# retried later with backoff (a busy server answers 503 with Retry-After; a 500 is a server
# bug, but the commands stay queued and are sent again, never dropped)
RETRY_STATUSES = frozenset({500, 502, 503, 504})
RETRY_AFTER_CAP_S = 60.0
# renumber / resynchronise rounds in one push before giving up until the next sync
MAX_RENUMBER_ROUNDS = 5


class SyncError(Exception):
    """Base of what the engine reports to the app."""


class Offline(SyncError):
    """The server could not be reached (after retries). Everything stays queued."""


class OutdatedApp(SyncError):
    """The server needs a newer app (426)."""


class NotRegistered(SyncError):
    """No device token, or the server refused it (revoked): sign in again."""


class OtherUsersDevice(SyncError):
    """This device store belongs to another user: open that user's store instead (a shared
    phone is one user at a time; see ``device_identity``)."""


def device_identity(client_id: str, user_id: str) -> str:
    """The client id a device registers under for one user: a shared phone or browser is a
    separate device for each user who signs in on it (their outboxes never mix)."""
    try:
        base = uuid.UUID(client_id)
    except ValueError:
        base = uuid.uuid5(uuid.NAMESPACE_URL, client_id)
    return str(uuid.uuid5(base, user_id))


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
        self._resynced = False  # a restored server was noticed during this sync

    # --- registration ----------------------------------------------------------------------

    @property
    def client_id(self) -> str:
        cid = self.store.get("client_id")
        if cid is None:
            cid = str(uuid.uuid4())
            self.store.set("client_id", cid)
        return cid

    def register(self, user_token: str, name: str = "", *, user_id: str | None = None) -> str:
        """Register this device for the signed-in user. A store registered for another user
        is refused (``OtherUsersDevice``) before anything is sent: its outbox is that user's.
        The server's ``last_applied`` is honoured (new commands are numbered after it) and its
        epoch checked (another one: resynchronise)."""
        owner = self.store.get("user_id")
        if user_id is not None and owner is not None and owner != user_id:
            raise OtherUsersDevice("本机数据属于另一用户 / this device's data is another user's")
        r = self._request(
            "POST", "/devices", {"client_id": self.client_id, "name": name}, token=user_token
        )
        body = DeviceToken.model_validate(r.json())
        if owner is not None and body.user_id is not None and owner != body.user_id:
            raise OtherUsersDevice("本机数据属于另一用户 / this device's data is another user's")
        with self.store.transaction() as s:
            self.store.set("device_id", body.device_id, s)
            self.store.set("device_token", body.device_token, s)
            if body.user_id is not None or user_id is not None:
                self.store.set("user_id", str(body.user_id or user_id), s)
        if not self._epoch_changed(body.epoch, body.last_applied):
            self.store.honour_last_applied(body.last_applied)
        return body.device_id

    def _epoch_changed(self, epoch: str | None, last_applied: int) -> bool:
        """Note the server's epoch. Another one than last seen (its database was restored from
        a backup): resynchronise — queue again what it lacks, pull from scratch."""
        if epoch is None:  # an older server
            return False
        known = self.store.get("epoch")
        if known is None:
            self.store.set("epoch", epoch)
            return False
        if known == epoch:
            return False
        self.store.resync_after_restore(last_applied, epoch)
        self._resynced = True
        return True

    @property
    def registered(self) -> bool:
        return self.store.get("device_token") is not None

    # --- HTTP with backoff -----------------------------------------------------------------

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter: 0..min(30, 0.5·2^attempt) seconds."""
        return self.rng() * min(30.0, 0.5 * (2**attempt))

    @staticmethod
    def retry_after(response: requests.Response) -> float:
        """The server's Retry-After (seconds, capped), 0 when absent or not a number."""
        try:
            return min(RETRY_AFTER_CAP_S, max(0.0, float(response.headers.get("Retry-After", 0))))
        except ValueError:
            return 0.0

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
        wait_at_least = 0.0
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
                    wait_at_least = self.retry_after(r)
                elif r.status_code == 426:
                    raise OutdatedApp(r.json()["detail"]["reason"])
                elif r.status_code == 401:
                    raise NotRegistered(r.json()["detail"]["reason"])
                elif r.status_code >= 400:
                    raise SyncError(f"{r.status_code}: {r.text[:500]}")
                else:
                    return r
            if attempt + 1 < self.attempts:
                self.sleep(max(self.backoff(attempt), wait_at_least))
                wait_at_least = 0.0
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
        rounds = 0
        while True:
            commands = self.store.pending(self.batch)
            if not commands:
                return
            payloads = [c.model_dump(mode="json") for c in commands]
            fits = fitting_push(payloads)
            commands, payloads = commands[:fits], payloads[:fits]
            body: dict[str, Any] = {
                "protocol": PROTOCOL_VERSION,
                "commands": payloads,
                "device_time": self.clock().isoformat(),
                "outbox_pending": self.store.pending_count(),
            }
            epoch = self.store.get("epoch")
            if epoch is not None:
                body["epoch"] = epoch
            resp = PushResponse.model_validate(self._request("POST", "/sync/push", body).json())
            if self._epoch_changed(resp.epoch, resp.last_applied):
                return  # the server was restored: sync_once uploads photos again, then resends
            if any(r.status == ResultStatus.RENUMBER for r in resp.results):
                # our unsent ids were used by other commands (this phone restored from a
                # backup): number them after the server's last applied id and send again
                rounds += 1
                self.store.renumber_pending_after(resp.last_applied)
                kept = [r for r in resp.results if r.status != ResultStatus.RENUMBER]
                self.store.record_results(kept, resp.last_applied)
                if rounds > MAX_RENUMBER_ROUNDS:
                    return
                continue
            self.store.record_results(resp.results, resp.last_applied)
            sent = {c.id for c in commands}
            fresh = [r for r in resp.results if r.id in sent]
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
                    self.store.photo_file(photo),
                    photo.sha256,
                    on_progress=_cb,
                    sleep=self.sleep,
                )
            except PhotoRefused as exc:
                # kept on the phone and shown under 同步问题; the other photos go on
                self.store.mark_refused(photo.sha256, str(exc))
                report.photos_refused.append(photo.sha256)
                continue
            except FileNotFoundError:
                # its file is gone (deleted, or on storage no longer there): shown under 同步问题
                # instead of stopping every sync before the outbox is sent
                self.store.mark_refused(
                    photo.sha256, "照片文件不在本机 / the photo's file is no longer on this device"
                )
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
            if self._epoch_changed(resp.epoch, resp.last_applied):
                continue  # restored server: pull anew (what it lacks is sent at the next push)
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
        self._resynced = False
        self.upload_photos(report, progress, cb)
        self.push(report, progress, cb)
        if self._resynced:  # a restored server: its photos first, then what it lacks
            self._resynced = False
            self.upload_photos(report, progress, cb)
            self.push(report, progress, cb)
        self.pull(report, progress, cb)
        if self._resynced:  # the pull found a restored server: send what it lacks now
            self._resynced = False
            self.upload_photos(report, progress, cb)
            self.push(report, progress, cb)
            self.pull(report, progress, cb)
        progress.phase = "done"
        cb(progress)
        return report
