"""A loopback HTTP proxy that can lose answers after the server has acted on the request.

The fault it makes is the one idempotent sync exists for: the request reached the server, the
server committed and answered, and the answer never came back (a proxy or a mobile link cut
the connection). `HoldingProxy.drop_next(k)` makes the next `k` answers vanish that way: the
request is forwarded whole, the server's answer is read whole (so the server has finished
with it), and then the client's connection is closed without a byte of the answer. Otherwise
every exchange passes through unchanged.

It speaks just enough HTTP/1.1 to find where each request and answer ends (Content-Length,
chunked, or an answer delimited by the close), keep-alive included. Everything is bounded:
the size of a head and of a body, the number of exchanges on one connection, and every read
and write (a timeout), so a test that goes wrong ends instead of hanging.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from io import BufferedReader

from harness.ports import free_port

MAX_HEAD_BYTES = 64 * 1024
MAX_HEAD_LINES = 200
MAX_BODY_BYTES = 64 * 1024 * 1024
MAX_EXCHANGES = 100_000
"""Exchanges on one kept-alive connection; a real client reconnects long before."""
MAX_CHUNKS = 1_000_000
READ_BLOCK = 64 * 1024
JOIN_TIMEOUT_S = 5.0


class _Malformed(Exception):
    """The peer sent something this proxy cannot frame (or over a bound): drop the link."""


@dataclass(frozen=True)
class _Message:
    raw: bytes
    first_line: str
    keep_alive: bool


def _read_head(reader: BufferedReader) -> tuple[list[bytes], dict[str, str]] | None:
    """The start line and headers, or None when the peer closed before sending any."""
    lines: list[bytes] = []
    size = 0
    for _ in range(MAX_HEAD_LINES):
        line = reader.readline(MAX_HEAD_BYTES + 1)
        if not line:
            if lines:
                raise _Malformed("closed inside a head")
            return None
        size += len(line)
        if size > MAX_HEAD_BYTES:
            raise _Malformed("head too large")
        lines.append(line)
        if line in (b"\r\n", b"\n"):
            if len(lines) == 1:  # a stray blank line between messages is allowed
                lines.clear()
                continue
            break
    else:
        raise _Malformed("too many header lines")
    headers: dict[str, str] = {}
    for line in lines[1:-1]:
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return lines, headers


def _read_exact(reader: BufferedReader, size: int) -> bytes:
    if size > MAX_BODY_BYTES:
        raise _Malformed("body too large")
    data = reader.read(size)
    if len(data) != size:
        raise _Malformed("closed inside a body")
    return data


def _read_chunked(reader: BufferedReader) -> bytes:
    parts: list[bytes] = []
    total = 0
    for _ in range(MAX_CHUNKS):
        line = reader.readline(MAX_HEAD_BYTES)
        if not line.endswith(b"\n"):
            raise _Malformed("closed inside a chunk size")
        parts.append(line)
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError as exc:
            raise _Malformed("bad chunk size") from exc
        if size == 0:
            for _ in range(MAX_HEAD_LINES):  # trailers, then the closing blank line
                trailer = reader.readline(MAX_HEAD_BYTES)
                if not trailer:
                    raise _Malformed("closed inside trailers")
                parts.append(trailer)
                if trailer in (b"\r\n", b"\n"):
                    return b"".join(parts)
            raise _Malformed("too many trailers")
        total += size
        if total > MAX_BODY_BYTES:
            raise _Malformed("body too large")
        parts.append(_read_exact(reader, size + 2))  # the data and its CRLF
    raise _Malformed("too many chunks")


def _read_to_close(reader: BufferedReader) -> bytes:
    parts: list[bytes] = []
    total = 0
    for _ in range(MAX_BODY_BYTES // READ_BLOCK + 1):
        block = reader.read1(READ_BLOCK)
        if not block:
            return b"".join(parts)
        total += len(block)
        if total > MAX_BODY_BYTES:
            raise _Malformed("body too large")
        parts.append(block)
    raise _Malformed("body too large")


def _read_message(reader: BufferedReader, *, request_method: str | None = None) -> _Message | None:
    """One request (request_method None) or the answer to a request of `request_method`."""
    head = _read_head(reader)
    if head is None:
        return None
    lines, headers = head
    first = lines[0].decode("latin-1").strip()
    chunked = "chunked" in headers.get("transfer-encoding", "").lower()
    length = headers.get("content-length")
    connection = headers.get("connection", "").lower()
    keep_alive = "close" not in connection and not first.upper().endswith("HTTP/1.0")
    if request_method is None:
        body = _read_chunked(reader) if chunked else _read_exact(reader, int(length or 0))
    else:
        parts = first.split(" ", 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        if request_method == "HEAD" or status < 200 or status in (204, 304):
            body = b""
        elif chunked:
            body = _read_chunked(reader)
        elif length is not None:
            body = _read_exact(reader, int(length))
        else:
            body = _read_to_close(reader)
            keep_alive = False
    return _Message(b"".join(lines) + body, first, keep_alive)


class HoldingProxy:
    """`with HoldingProxy(port) as proxy:` listens on a free loopback port (`proxy.url`) and
    forwards to 127.0.0.1:`upstream_port`. `drop_next(k)`: the next k answers are read from
    the server and thrown away, the client's connection closed instead; `pass_through()`
    cancels what is left of that. `dropped` and `forwarded` count answers."""

    def __init__(self, upstream_port: int, *, io_timeout: float = 30.0) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.io_timeout = io_timeout
        self.port = free_port()
        self.dropped = 0
        self.forwarded = 0
        self._to_drop = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def drop_next(self, count: int) -> None:
        with self._lock:
            self._to_drop = max(0, count)

    def pass_through(self) -> None:
        self.drop_next(0)

    def live_threads(self) -> int:
        return sum(thread.is_alive() for thread in self._threads)

    def __enter__(self) -> HoldingProxy:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)  # so the accept loop sees `close()` promptly
        self._listener = listener
        self._spawn(self._accept, "proxy-accept")

    def close(self) -> None:
        """Stop listening, cut every open connection, and wait (bounded) for the threads."""
        self._stop.set()
        with self._lock:
            open_sockets = list(self._sockets)
        for sock in open_sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in list(self._threads):
            thread.join(JOIN_TIMEOUT_S)
        if self._listener is not None:
            self._listener.close()

    def _spawn(self, target: Callable[..., None], name: str, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _track(self, sock: socket.socket) -> bool:
        with self._lock:
            if self._stop.is_set():
                return False
            self._sockets.add(sock)
            return True

    def _forget(self, sock: socket.socket) -> None:
        """Shut down before closing: a socket with a reader made from it keeps its
        descriptor open on `close()` alone, and the peer would see no end."""
        with self._lock:
            self._sockets.discard(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(self.io_timeout)
            if not self._track(client):
                client.close()
                return
            self._spawn(self._serve, "proxy-link", client)

    def _take_drop(self) -> bool:
        with self._lock:
            if self._to_drop > 0:
                self._to_drop -= 1
                self.dropped += 1
                return True
            self.forwarded += 1
            return False

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        try:
            upstream = socket.create_connection(self.upstream, timeout=self.io_timeout)
            if not self._track(upstream):
                return
            with client.makefile("rb") as from_client, upstream.makefile("rb") as from_server:
                self._relay(client, upstream, from_client, from_server)
        except (OSError, _Malformed, ValueError):
            return  # a peer gone, a timeout, or framing past a bound: the link is dropped
        finally:
            self._forget(client)
            if upstream is not None:
                self._forget(upstream)

    def _relay(
        self,
        client: socket.socket,
        upstream: socket.socket,
        from_client: BufferedReader,
        from_server: BufferedReader,
    ) -> None:
        """Exchange after exchange on one kept-alive connection, until either side ends it."""
        for _ in range(MAX_EXCHANGES):
            request = _read_message(from_client)
            if request is None:
                return
            upstream.sendall(request.raw)
            method = request.first_line.split(" ", 1)[0].upper()
            answer = _read_message(from_server, request_method=method)
            if answer is None:
                return  # the server closed without answering: so does the proxy
            if self._take_drop():
                return  # read whole, so the server is done with it; the client gets nothing
            client.sendall(answer.raw)
            if not (request.keep_alive and answer.keep_alive):
                return
