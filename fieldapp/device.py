"""This session's device: its local database, photos, sync engine and background sync loop.

In web mode each browser session is one device (docs/flet.md): its client id is kept in the
browser's SharedPreferences. A shared phone or browser is one user at a time: each user who
signs in on it is a device of its own (``sync.client.device_identity``), with its own database
``YIXIAN_DATA_DIR/devices/<client id>/<identity>.db`` and photos beside it, so one user's
outbox is never sent under another's. A previous user's unsynced work is kept aside in their
database, pushed under their own device token when the server answers, and synced with the
rest when they sign in again. After sign-in the device registers (``POST /devices`` with the user's
token); the device token is kept in the secure token store with the session and in the device's
own database (where the sync engine reads it). The first sync pulls the reference data; from
then on everything works offline.

The loop syncs every ``SYNC_INTERVAL_S`` seconds and at once on ``request_sync()``. The network
work runs in a worker thread (``asyncio.to_thread``), never on the UI loop; progress and results
are applied to the observable ``SyncStatus`` on the UI loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import flet as ft
import requests

from fieldapp.api_client import ApiClient
from fieldapp.photos import MAX_DOWNLOAD_BYTES, thumbnail_of
from fieldapp.session_tokens import tokens_for
from fieldapp.viewmodels.records import PhotoShelf
from fieldapp.viewmodels.sync_status import Counts, SyncStatus
from sync.client import (
    NotRegistered,
    Offline,
    SyncClient,
    SyncError,
    SyncProgress,
    SyncReport,
    device_identity,
)
from sync.device_migrations import NewerStore
from sync.device_store import DeviceStore
from sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION
from sync.reference_codec import EMPTY_REFERENCE, Reference, decode_reference

log = logging.getLogger(__name__)

CLIENT_ID_PREF = "yixian.client_id"
SYNC_INTERVAL_S = 10.0
PHOTO_FETCH_BATCH = 12
PROBE_TIMEOUT_S = 3.0

ObservableSyncStatus = ft.observable(SyncStatus)


def _now() -> datetime:
    return datetime.now(UTC)


class DeviceSession:
    """One device: store + photo shelf + sync client + the loop that drives it."""

    def __init__(
        self,
        data_dir: Path,
        client_id: str,
        server_url: str,
        *,
        user_id: str | None = None,
        status: SyncStatus | None = None,
        interval_s: float = SYNC_INTERVAL_S,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        devices = data_dir / "devices"
        self.client_id = client_id
        self.user_id = user_id
        self.server_url = server_url
        # the browser's own folder: the stores of every user who signed in on it
        self.folder = devices / client_id
        if user_id is None:  # one user, no sign-in known (the layout before shared devices)
            identity, path = client_id, devices / f"{client_id}.db"
        else:
            identity = device_identity(client_id, user_id)
            path = self.folder / f"{identity}.db"
        self.identity = identity
        self.store = DeviceStore(path)
        if self.store.get("client_id") != identity:
            self.store.set("client_id", identity)  # the engine registers under this id
        if user_id is not None and self.store.get("user_id") is None:
            self.store.set("user_id", user_id)  # the engine refuses to register it for another
        self.shelf = PhotoShelf(path.parent / f"{identity}-photos")
        self.client = SyncClient(self.store, server_url, attempts=2, timeout=10.0)
        self.status: SyncStatus = status if status is not None else ObservableSyncStatus()
        self.interval_s = interval_s
        self.clock = clock
        self._wake: asyncio.Event | None = None
        self._stopped = False
        self._reference_raw: str | None = None
        self._reference: Reference = EMPTY_REFERENCE
        self.status.registered = self.client.registered

    # -- reading ----------------------------------------------------------------------------
    def reference(self) -> Reference:
        raw = self.store.get("reference")
        if raw != self._reference_raw:
            try:
                self._reference = decode_reference(json.loads(raw) if raw else None)
            except Exception as exc:  # a malformed reference must not break the app
                log.warning("reference data unreadable: %s", exc)
                self._reference = EMPTY_REFERENCE
            self._reference_raw = raw
        return self._reference

    def cases(self, limit: int = 1000) -> list[dict[str, Any]]:
        return self.store.cases(limit=limit)

    def counts(self) -> Counts:
        return Counts.of(self.store)

    def changed(self) -> None:
        """A local write happened: recount, re-render, and try to send it now."""
        self.status.counted(self.counts())
        self.request_sync()

    # -- the loop ---------------------------------------------------------------------------
    def request_sync(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def stop(self) -> None:
        self._stopped = True
        self.request_sync()

    async def run(
        self,
        user_token: str,
        device_token: str | None,
        remember_device_token: Callable[[str], Awaitable[None]],
    ) -> None:
        """Sync until ``stop()``. Registers first when this device has no token yet."""
        self._wake = asyncio.Event()
        if device_token and not self.client.registered and self.user_id is None:
            self.store.set("device_token", device_token)
        self.status.counted(self.counts())
        with contextlib.suppress(Exception):  # never stops this user's own sync
            await asyncio.to_thread(self.flush_kept_aside)
        while not self._stopped:
            if not self.client.registered:
                token = await self._register(user_token)
                if token is not None:
                    await remember_device_token(token)
            if self.client.registered:
                await self.sync_now()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval_s)
            self._wake.clear()

    async def _register(self, user_token: str) -> str | None:
        try:
            await asyncio.to_thread(self._register_with_fresh_token, user_token)
        except Exception as exc:  # offline, refused, a server without /devices…
            self.status.failed(exc, self.counts())
            return None
        self.status.registered = True
        return self.store.get("device_token")

    def _register_with_fresh_token(self, user_token: str) -> None:
        """Register with the sign-in's current access token, refreshed once if it has expired
        (a device token ended while the phone was offline for hours). Blocking."""
        tokens = tokens_for(user_token)
        token = tokens.access if tokens is not None else user_token
        try:
            self.client.register(token, "web", user_id=self.user_id)
        except NotRegistered:
            renewed = tokens.renewed(token, self._auth_client().refresh) if tokens else None
            if renewed is None:
                raise
            self.client.register(renewed, "web", user_id=self.user_id)

    def _auth_client(self) -> ApiClient:
        return ApiClient(self.client.base_url, session=self.client.http)

    async def sync_now(self) -> None:
        loop = asyncio.get_running_loop()
        self.status.started()

        def on_progress(progress: SyncProgress) -> None:
            loop.call_soon_threadsafe(self.status.progressed, copy.copy(progress))

        try:
            await asyncio.to_thread(self.probe)
            log.info("sync %s: server answers; pushing %s", self.client_id[:8], self.counts())
            await asyncio.to_thread(self.client.sync_once, on_progress)
        except NotRegistered as exc:
            self.status.registered = False
            self.status.failed(exc, self.counts())
            return
        except Exception as exc:  # Offline, OutdatedApp, a refused photo…: keep everything
            log.info("sync %s failed: %s", self.client_id[:8], exc)
            self.status.failed(exc, self.counts())
            return
        self.status.succeeded(self.clock(), self.counts())
        log.info("sync %s: done", self.client_id[:8])
        try:
            fetched = await asyncio.to_thread(self.fetch_missing_photos)
        except Exception as exc:
            log.info("photo download failed: %s", exc)
            fetched = 0
        if fetched:
            self.status.counted(self.counts())

    def kept_aside(self) -> list[Path]:
        """The databases of the other users who signed in on this phone or browser (and the
        one of the layout before shared devices), each holding that user's own work."""
        legacy = self.folder.parent / f"{self.client_id}.db"
        found = sorted(self.folder.glob("*.db")) if self.folder.is_dir() else []
        if legacy.is_file():
            found.append(legacy)
        return [p for p in found if p.resolve() != self.store.path.resolve()]

    def flush_kept_aside(self) -> int:
        """Push the other users' unsynced work, each under its own device token (the server
        records it as theirs), never under this user's; what fails stays kept aside for the
        next try or for when that user signs in again. Blocking: call off the UI loop.
        Returns the commands the server answered."""
        sent = 0
        for path in self.kept_aside():
            try:
                store = DeviceStore(path)  # migrated here if an older app wrote it
            except NewerStore as exc:  # a newer app's: left as it is, the others still go
                log.warning("kept-aside store %s not opened: %s", path.stem[:8], exc)
                continue
            try:
                if store.get("device_token") is None or store.pending_count() == 0:
                    continue
                client = SyncClient(store, self.server_url, attempts=1, timeout=10.0)
                report, progress = SyncReport(), SyncProgress()
                client.upload_photos(report, progress, lambda _p: None)
                client.push(report, progress, lambda _p: None)
                sent += report.pushed
            except (SyncError, requests.RequestException) as exc:
                log.info("kept-aside work of %s not sent yet: %s", path.stem[:8], exc)
            finally:
                store.close()
        return sent

    def probe(self) -> None:
        """Raise ``Offline`` at once when the server does not answer: the engine's own retries
        (and a photo upload's) would keep "syncing" shown for long while offline."""
        try:
            self.client.http.get(f"{self.client.base_url}/health", timeout=PROBE_TIMEOUT_S)
        except requests.RequestException as exc:
            raise Offline(f"server unreachable: {exc}") from exc

    # -- others' photos ---------------------------------------------------------------------
    def missing_photos(self) -> list[str]:
        wanted: list[str] = []
        for snap in self.store.cases(limit=200):
            for event in snap.get("events") or []:
                data = event.get("data") or {}
                shas = list(data.get("photos") or [])
                if data.get("sha256"):
                    shas.append(data["sha256"])
                for sha in shas:
                    if isinstance(sha, str) and sha not in wanted and not self.shelf.has(sha):
                        wanted.append(sha)
        return wanted

    def fetch_missing_photos(self, limit: int = PHOTO_FETCH_BATCH) -> int:
        """Download photos other devices took for cases this one sees (thumbnails for the
        timeline). Blocking: call off the UI loop."""
        token = self.store.get("device_token")
        if not token:
            return 0
        headers = {"Authorization": f"Bearer {token}", PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
        done = 0
        for sha in self.missing_photos()[:limit]:
            data = download_capped(
                self.client.http, f"{self.client.base_url}/photos/{sha}", headers
            )
            if data is None:
                continue
            self.shelf.keep_downloaded(sha, data, thumbnail=thumbnail_of(data))
            done += 1
        return done


def download_capped(
    http: requests.Session,
    url: str,
    headers: dict[str, str],
    cap: int = MAX_DOWNLOAD_BYTES,
) -> bytes | None:
    """A photo's bytes, or None: not found, or larger than ``cap`` — refused by its declared
    length before anything is read, or as soon as the bytes read pass it."""
    with http.get(url, headers=headers, timeout=10, stream=True) as r:
        if r.status_code != 200:
            return None
        declared = r.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            return None
        parts: list[bytes] = []
        size = 0
        for part in r.iter_content(64 * 1024):
            size += len(part)
            if size > cap:
                return None
            parts.append(part)
        return b"".join(parts)


# --- one holder per browser session, reachable from every screen ------------------------------


class DeviceServices:
    """The session's Flet services, created on first use during a render (so they register
    with the page). A plain object: changing it re-renders nothing."""

    def __init__(self) -> None:
        self.picker: ft.FilePicker | None = None
        self.geolocator: Any = None  # flet_geolocator.Geolocator
        self.on_pick: Callable[[list[ft.FilePickerFile]], Awaitable[None]] | None = None


@dataclass
class DeviceHolder:
    """The session's device (None until signed in); observable: screens re-render when the
    device opens or closes. The Flet services live in a plain ``DeviceServices``."""

    device: DeviceSession | None = None
    services: DeviceServices = field(default_factory=DeviceServices)

    def set_on_pick(self, handler: Callable[[list[ft.FilePickerFile]], Awaitable[None]]) -> None:
        """Where the picked files go: the screen showing the picker (set at each render)."""
        self.services.on_pick = handler

    def file_picker(self) -> ft.FilePicker:
        services = self.services
        if services.picker is None:

            async def dispatch(e: ft.FilePickerResultEvent) -> None:
                if services.on_pick is not None:
                    await services.on_pick(list(e.files or []))

            services.picker = ft.FilePicker(on_result=dispatch)
        return services.picker

    def locator(self) -> Any:
        services = self.services
        if services.geolocator is None:
            from flet_geolocator import Geolocator

            services.geolocator = Geolocator()
        return services.geolocator


ObservableDeviceHolder = ft.observable(DeviceHolder)
DeviceContext: ft.ContextProvider[DeviceHolder | None] = ft.create_context(None)


def use_device() -> DeviceHolder:
    holder = ft.use_context(DeviceContext)
    if holder is None:
        raise RuntimeError("use_device() outside shell.App")
    return holder


STATUS_RECHECK_S = 2.0


def use_sync_status(device: DeviceSession) -> SyncStatus:
    """Subscribe the calling component to ``device.status`` (re-rendered on every change) and,
    as a safety net, re-check the status's change counter every ``STATUS_RECHECK_S`` seconds:
    a browser test once saw a sync card stay at "上次同步 无" through 50 successful syncs, a
    change notification having been lost somewhere in the framework. The check is one integer
    comparison; it re-renders only when something changed and the notification did not."""
    ft.use_state(device.status)  # the subscription
    _, set_seen = ft.use_state(0)

    async def recheck() -> None:
        while True:
            await asyncio.sleep(STATUS_RECHECK_S)
            set_seen(int(getattr(device.status, "__version__", 0)))

    ft.use_effect(recheck, [device.client_id], cleanup=lambda: None)  # cleanup: cancel the loop
    return device.status


async def client_id_of(prefs: ft.SharedPreferences | None) -> str:
    """This browser's device id, created and remembered on first use."""
    if prefs is None:
        return str(uuid.uuid4())
    stored = await prefs.get(CLIENT_ID_PREF)
    if isinstance(stored, str) and len(stored) >= 8:
        return stored
    fresh = str(uuid.uuid4())
    await prefs.set(CLIENT_ID_PREF, fresh)
    return fresh


def open_device(
    data_dir: Path, client_id: str, server_url: str, user_id: str | None = None
) -> DeviceSession:
    """The device of ``user_id`` on this phone or browser (a shared one is one user at a
    time: each user's work in their own store, under their own registration)."""
    return DeviceSession(data_dir, client_id, server_url, user_id=user_id)


__all__ = [
    "CLIENT_ID_PREF",
    "DeviceContext",
    "DeviceHolder",
    "DeviceSession",
    "ObservableDeviceHolder",
    "ObservableSyncStatus",
    "client_id_of",
    "open_device",
    "use_device",
    "use_sync_status",
]
