"""The end-to-end tests' live server and free port: the harness's own (harness/), named here
so that the tests import them from one place of their own."""

from __future__ import annotations

from harness.live import serve
from harness.ports import free_port

__all__ = ["free_port", "serve"]
