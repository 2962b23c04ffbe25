"""A real uvicorn server on a free loopback port, in a thread of this process: the end-to-end
tests' server and the sync benchmark's (the client is the desk's own code, over real HTTP)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from harness.ports import free_port


@contextmanager
def serve(
    app: FastAPI, *, startup_timeout: float = 10.0, stop_timeout: float = 10.0
) -> Iterator[str]:
    """Yields the base URL once the server answers; raises RuntimeError when it has not
    started within `startup_timeout` seconds; stops it on exit (waiting `stop_timeout`)."""
    port = free_port()
    # proxy_headers off, as main.py runs it: the app alone decides whose X-Forwarded-For counts.
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=stop_timeout)
