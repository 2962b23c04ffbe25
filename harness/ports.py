"""A free TCP port on the loopback interface, for a server a test, a benchmark or a script
starts on this machine."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port nothing listens on now: the operating system's pick for a socket bound to port 0
    on 127.0.0.1, released before it is returned (so a server can bind it next)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
