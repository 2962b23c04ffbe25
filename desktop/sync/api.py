"""The desktop's HTTP client for the sync server: one requests.Session, a bearer token that is
refreshed once on a 401, timeouts on every call, and the server's `{"error", "detail"}` body
turned into a typed exception a screen can show as it is.

Anything that leaves the outcome unknown (refused connection, timeout, dropped reply, a 5xx)
is a `TransportError`: for a push it means "send the same commands again", which the server
makes safe. A server shedding load answers 503 with Retry-After before doing anything; the
client waits as asked (at most RETRY_AFTER_CAP, a few times), telling the person why, instead
of hanging on a server that cannot take the request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import requests

from loancore.contract import PROTOCOL_VERSION

PROTOCOL_HEADER = "X-LoanDesk-Protocol"
PULL_REMAINING_HEADER = "X-LoanDesk-Pull-Remaining"
DEFAULT_TIMEOUT = (5.0, 60.0)
BUSY_MESSAGE = "The office server is busy; retrying…"
RETRY_AFTER_CAP = 10.0
"""The longest one wait for a busy server, whatever its Retry-After says."""
BUSY_RETRIES = 3
DOWNLOAD_TIMEOUT = (5.0, 330.0)
"""A report is computed before its first byte: the server lets its statements run minutes
(config.Capacity.report_statement_timeout_seconds), so the desk waits longer than for a read."""
DOWNLOAD_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Download:
    """A document the server made: its bytes and the headers that describe it."""

    content: bytes
    media_type: str
    headers: dict[str, str]


Received = Callable[[int, int | None], None]
"""Told (bytes so far, bytes in all if the server said) as a download arrives."""


class ApiError(Exception):
    """The server answered and refused; `detail` is its message, fit for the user."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail


class NotSignedInError(ApiError):
    pass


class UpgradeNeededError(ApiError):
    pass


class ServerBusyError(ApiError):
    """429 or 503 (a kill switch, the database away, the server shedding load): try later,
    nothing was done. `retry_after`: the seconds the server asked for (capped), if it did."""

    retry_after: float | None = None


class TransportError(Exception):
    """The request or its answer was lost; the outcome is unknown. `kind` says how, so the
    person is told the right thing: "unreachable" (no connection), "timeout" (no answer in
    time), "server_fault" (a 5xx other than 503) or "cut_short" (an answer that did not parse).
    The message is for the log, never for the person."""

    def __init__(self, message: str, *, kind: str = "unreachable", status: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.status = status


TokenRefresher = Callable[[], str | None]


class ApiClient:
    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        refresh: TokenRefresher | None = None,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        on_busy: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/api/v1"
        self.token = token
        self.refresh = refresh
        self.http = session or requests.Session()
        self.timeout = timeout
        self.on_busy = on_busy
        self.sleep = sleep

    def close(self) -> None:
        self.http.close()

    def _headers(self) -> dict[str, str]:
        headers = {PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        return _answer(self._respond(method, path, **kwargs))

    def download(
        self, path: str, *, params: dict[str, str], received: Received | None = None
    ) -> Download:
        """GET a document (a PDF, an XLSX) with the long timeout, reporting the bytes as they
        arrive; a refusal raises as `request` does. Nothing is kept of a cut-short answer."""
        response = self._respond("GET", path, params=params, stream=True, timeout=DOWNLOAD_TIMEOUT)
        if response.status_code >= 400:
            response.content  # noqa: B018 -- read the error body before it is parsed
            _answer(response)
        declared = response.headers.get("Content-Length")
        total = int(declared) if declared and declared.isdigit() else None
        chunks: list[bytes] = []
        got = 0
        try:
            for chunk in response.iter_content(DOWNLOAD_CHUNK):
                chunks.append(chunk)
                got += len(chunk)
                if received is not None:
                    received(got, total)
        except requests.RequestException as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}", kind="cut_short") from exc
        finally:
            response.close()
        if total is not None and got != total:
            raise TransportError("The server's answer was cut short", kind="cut_short")
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        return Download(b"".join(chunks), media_type, dict(response.headers))

    def _respond(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        response = self._send(method, path, **kwargs)
        if response.status_code == 401 and self.refresh is not None:
            fresh = self.refresh()
            if fresh:
                self.token = fresh
                response = self._send(method, path, **kwargs)
        for _ in range(BUSY_RETRIES):
            wait = _retry_after(response)
            if wait is None:
                break
            if self.on_busy is not None:
                self.on_busy(BUSY_MESSAGE)
            self.sleep(wait)
            response = self._send(method, path, **kwargs)
        return response

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        timeout = kwargs.pop("timeout", self.timeout)
        try:
            return self.http.request(
                method,
                self.base_url + path,
                headers=self._headers(),
                timeout=timeout,
                **kwargs,
            )
        except requests.ConnectionError as exc:  # a connect timeout is one too: unreachable
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc
        except requests.Timeout as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}", kind="timeout") from exc
        except requests.RequestException as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc

    def push(self, commands: list[dict[str, Any]], device_id: str) -> list[dict[str, Any]]:
        body = {"protocol_version": PROTOCOL_VERSION, "device_id": device_id, "commands": commands}
        answer = self.request("POST", "/sync/push", json=body)
        results: list[dict[str, Any]] = answer["results"]
        return results

    def pull(self, cursor: int, limit: int = 1000) -> dict[str, Any]:
        """A page of changes. The server sends it gzipped (requests asks for that and
        unpacks it); the changes still to come after it, when the server says (its
        `PULL_REMAINING_HEADER`), are put in the page as `remaining`.

        A full page is some 20 MB of JSON: it is read with orjson, several times quicker
        than `json` (a branch's first pull parses some 200 MB)."""
        response = self._respond("GET", "/sync/pull", params={"cursor": cursor, "limit": limit})
        answer: dict[str, Any] = _answer(response, orjson.loads)
        left = response.headers.get(PULL_REMAINING_HEADER, "")
        if left.isdigit():
            answer.setdefault("remaining", int(left))
        return answer


def _retry_after(response: requests.Response) -> float | None:
    """The wait a shedding server asked for (503 + Retry-After in seconds), capped; an HTTP
    date or anything else unreadable counts as one second."""
    if response.status_code != 503 or "Retry-After" not in response.headers:
        return None
    try:
        seconds = float(response.headers["Retry-After"])
    except ValueError:
        seconds = 1.0
    return min(max(seconds, 0.0), RETRY_AFTER_CAP)


def _answer(response: requests.Response, parse: Callable[[bytes], Any] | None = None) -> Any:
    """The body of a success (read by `parse`, or requests' own JSON reading); a failure's
    body as the typed exception its status calls for."""
    if response.status_code < 400:
        try:
            return response.json() if parse is None else parse(response.content)
        except ValueError as exc:
            raise TransportError("The server's answer was cut short", kind="cut_short") from exc
    try:
        body = response.json()
        code, detail = str(body.get("error", "error")), str(body.get("detail", ""))
    except (ValueError, AttributeError):
        code, detail = "error", response.reason or "The server refused the request"
    status = response.status_code
    if status >= 500 and status != 503:
        raise TransportError(f"{status} {code}: {detail}", kind="server_fault", status=status)
    kind: type[ApiError] = {
        401: NotSignedInError,
        426: UpgradeNeededError,
        429: ServerBusyError,
        503: ServerBusyError,
    }.get(status, ApiError)
    error = kind(status, code, detail)
    if isinstance(error, ServerBusyError):
        error.retry_after = _retry_after(response)
    raise error
