"""A throttled, lossy TCP proxy on 127.0.0.1 for testing uploads over a bad network.

Every byte is delayed by ``latency`` seconds and each direction of each connection is paced to
``bandwidth`` bytes per second. Connections are cut (reset, both sides) when the total bytes
sent in one direction, over all connections, pass one of the scheduled cut points — so a cut
lands in the middle of a request or response body, as a dropped mobile link does.

    with LossyProxy(("127.0.0.1", port), latency=0.02, bandwidth=2e6, cut_up_at=[300_000]) as p:
        requests.get(f"http://127.0.0.1:{p.port}/...")
    p.stats.cuts  # connections cut so far
"""

from __future__ import annotations

import contextlib
import queue
import socket
import struct
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import TracebackType

_PIECE = 16 * 1024


@dataclass
class ProxyStats:
    connections: int = 0
    cuts: int = 0
    bytes_up: int = 0  # client -> server, forwarded
    bytes_down: int = 0  # server -> client, forwarded


@dataclass
class _Direction:
    """One direction's byte count and its remaining cut points (ascending)."""

    cut_points: list[int]
    sent: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def allowance(self, want: int) -> tuple[int, bool]:
        """How many of ``want`` bytes may pass, and whether the connection is cut after them."""
        with self.lock:
            if self.cut_points and self.sent + want >= self.cut_points[0]:
                allowed = max(0, self.cut_points.pop(0) - self.sent)
                self.sent += allowed
                return allowed, True
            self.sent += want
            return want, False


class _Link:
    """One proxied connection: a reader and a paced writer per direction."""

    def __init__(self, proxy: LossyProxy, client: socket.socket, upstream: socket.socket) -> None:
        self.proxy = proxy
        self.client = client
        self.upstream = upstream
        self.closed = threading.Event()
        self.threads: list[threading.Thread] = []
        for src, dst, up in ((client, upstream, True), (upstream, client, False)):
            q: queue.Queue[tuple[float, bytes] | None] = queue.Queue()
            self.threads.append(threading.Thread(target=self._read, args=(src, q), daemon=True))
            self.threads.append(
                threading.Thread(target=self._write, args=(dst, q, up), daemon=True)
            )
        for t in self.threads:
            t.start()

    def _read(self, src: socket.socket, q: queue.Queue[tuple[float, bytes] | None]) -> None:
        try:
            while not self.closed.is_set():
                data = src.recv(_PIECE)
                if not data:
                    break
                q.put((time.monotonic() + self.proxy.latency, data))
        except OSError:
            pass
        q.put(None)  # end of stream: the writer passes the close on

    def _write(
        self, dst: socket.socket, q: queue.Queue[tuple[float, bytes] | None], up: bool
    ) -> None:
        direction = self.proxy._up if up else self.proxy._down
        next_free = time.monotonic()
        try:
            while not self.closed.is_set():
                item = q.get()
                if item is None:
                    with contextlib.suppress(OSError):
                        dst.shutdown(socket.SHUT_WR)
                    return
                deliver_at, data = item
                for start in range(0, len(data), _PIECE):
                    piece = data[start : start + _PIECE]
                    now = time.monotonic()
                    at = max(deliver_at, next_free, now)
                    if at > now:
                        time.sleep(at - now)
                    if self.proxy.bandwidth:
                        next_free = at + len(piece) / self.proxy.bandwidth
                    allowed, cut = direction.allowance(len(piece))
                    if allowed:
                        dst.sendall(piece[:allowed])
                        self.proxy._count(up, allowed)
                    if cut:
                        self.cut()
                        return
        except OSError:
            self.close()

    def cut(self) -> None:
        """Reset both sides, as a dropped link looks to each end."""
        if self.closed.is_set():
            return
        self.proxy._count_cut()
        self.close(reset=True)

    def close(self, *, reset: bool = False) -> None:
        self.closed.set()
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                if reset:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()


class LossyProxy:
    def __init__(
        self,
        upstream: tuple[str, int],
        *,
        latency: float = 0.0,
        bandwidth: float | None = None,
        cut_up_at: Iterable[int] = (),
        cut_down_at: Iterable[int] = (),
    ) -> None:
        self.upstream = upstream
        self.latency = latency
        self.bandwidth = bandwidth
        self.stats = ProxyStats()
        self._up = _Direction(sorted(cut_up_at))
        self._down = _Direction(sorted(cut_down_at))
        self._lock = threading.Lock()
        self._links: list[_Link] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._stopping = threading.Event()
        self._acceptor = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LossyProxy:
        self._acceptor.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            links = list(self._links)
        for link in links:
            link.close()

    def __enter__(self) -> LossyProxy:
        return self.start()

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _addr = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self.stats.connections += 1
                self._links.append(_Link(self, client, upstream))

    def _count(self, up: bool, n: int) -> None:
        with self._lock:
            if up:
                self.stats.bytes_up += n
            else:
                self.stats.bytes_down += n

    def _count_cut(self) -> None:
        with self._lock:
            self.stats.cuts += 1
