"""The fault-making proxy (harness/proxy.py): it passes exchanges through unchanged, drops
exactly the answers it is told to after the server has acted, ends every link that stalls or
overflows instead of hanging, and leaves nothing running when closed."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from harness.proxy import MAX_HEAD_BYTES, HoldingProxy

IO_TIMEOUT_S = 0.5


class _Upstream(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.committed: list[bytes] = []
        self.hold = threading.Event()


class _Handler(BaseHTTPRequestHandler):
    """POST /commit keeps its body (the "commit") and answers it back; GET /chunked answers
    in chunks; GET /stall answers only when the test lets it."""

    protocol_version = "HTTP/1.1"
    server: _Upstream

    def log_message(self, *_: object) -> None:
        return

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.committed.append(body)
        answer = b"kept " + body
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def do_GET(self) -> None:
        if self.path == "/stall":
            self.server.hold.wait(10)
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"one ", b"two ", b"three"):
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        answer = b"hello"
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "5")
        self.end_headers()


@pytest.fixture
def upstream() -> Iterator[_Upstream]:
    server = _Upstream()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.hold.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def proxy(upstream: _Upstream) -> Iterator[HoldingProxy]:
    with HoldingProxy(upstream.server_address[1], io_timeout=IO_TIMEOUT_S) as running:
        yield running


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    """True when the proxy ends the connection (EOF or reset) before `seconds` pass."""
    sock.settimeout(seconds)
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_exchanges_pass_through_unchanged_on_one_kept_alive_connection(
    upstream: _Upstream, proxy: HoldingProxy
) -> None:
    with requests.Session() as session:
        posted = [session.post(f"{proxy.url}/commit", data=f"n{i}", timeout=5) for i in range(5)]
        chunked = session.get(f"{proxy.url}/chunked", timeout=5)
        head = session.head(f"{proxy.url}/x", timeout=5)
        plain = session.get(f"{proxy.url}/x", timeout=5)
    assert [r.text for r in posted] == [f"kept n{i}" for i in range(5)]
    assert chunked.text == "one two three"
    assert head.status_code == 200
    assert head.content == b""
    assert plain.text == "hello"
    assert upstream.committed == [f"n{i}".encode() for i in range(5)]
    assert (proxy.forwarded, proxy.dropped) == (8, 0)


def test_the_next_k_answers_are_dropped_after_the_server_committed(
    upstream: _Upstream, proxy: HoldingProxy
) -> None:
    proxy.drop_next(2)
    outcomes: list[str] = []
    with requests.Session() as session:
        for i in range(4):
            try:
                outcomes.append(session.post(f"{proxy.url}/commit", data=f"p{i}", timeout=5).text)
            except requests.ConnectionError:
                outcomes.append("lost")
    assert outcomes == ["lost", "lost", "kept p2", "kept p3"]
    assert upstream.committed == [b"p0", b"p1", b"p2", b"p3"]  # every one reached the server
    assert (proxy.dropped, proxy.forwarded) == (2, 2)
    proxy.drop_next(3)
    proxy.pass_through()
    assert requests.post(f"{proxy.url}/commit", data="after", timeout=5).text == "kept after"


def test_a_stalled_or_oversized_exchange_ends_the_link_instead_of_hanging(
    upstream: _Upstream, proxy: HoldingProxy
) -> None:
    bound = IO_TIMEOUT_S * 6
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as body_never_sent:
        body_never_sent.sendall(b"POST /commit HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n")
        assert _closed_within(body_never_sent, bound)
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as head_too_large:
        head_too_large.sendall(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * (MAX_HEAD_BYTES + 10))
        assert _closed_within(head_too_large, bound)
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as unframed:
        unframed.sendall(b"POST /commit HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
        assert _closed_within(unframed, bound)
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as server_stalls:
        server_stalls.sendall(b"GET /stall HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _closed_within(server_stalls, bound)
    upstream.hold.set()
    assert upstream.committed == []
    assert requests.get(f"{proxy.url}/x", timeout=5).text == "hello"  # still serving


def test_closing_ends_open_links_threads_and_the_port(
    upstream: _Upstream,
) -> None:
    proxy = HoldingProxy(upstream.server_address[1], io_timeout=30)
    proxy.start()
    idle = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
    time.sleep(0.2)  # the link's thread is waiting for a request
    assert proxy.live_threads() == 2
    started = time.monotonic()
    proxy.close()
    assert time.monotonic() - started < 5  # not the 30 s read timeout
    assert proxy.live_threads() == 0
    assert _closed_within(idle, 2)
    idle.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", proxy.port), timeout=2).close()
