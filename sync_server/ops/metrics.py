"""What Prometheus scrapes from each server process at `/metrics`.

One registry per process (each process behind the proxy is scraped on its own port; the
series carry no process label of their own, Prometheus adds `instance`). Routes are counted
by their template (`/api/v1/loans/{loan_id}`), never by the path a client sent: a path or a
query string may carry a borrower's name, and a label per loan would grow without bound.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.requests import Request
from starlette.responses import Response

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "loandesk_http_requests",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "loandesk_http_request_duration_seconds",
    "Time from a request's arrival to its answer's last byte, by method and route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
    registry=REGISTRY,
)
SYNC_RESULTS = Counter(
    "loandesk_sync_commands",
    "Commands pushed by desks, by command kind and the server's answer",
    ["kind", "result"],
    registry=REGISTRY,
)
JOB_RUNS = Counter(
    "loandesk_job_runs",
    "Job runs ended, by job and outcome (done, already_done, failed)",
    ["job", "outcome"],
    registry=REGISTRY,
)
JOB_SECONDS = Histogram(
    "loandesk_job_duration_seconds",
    "Wall time of a job run that did work, by job and outcome",
    ["job", "outcome"],
    buckets=(0.5, 1, 5, 15, 60, 300, 900, 1800, 3600, 7200),
    registry=REGISTRY,
)
ADMISSION_WAITING = Gauge(
    "loandesk_admission_queue",
    "Requests waiting for a place in this process right now",
    registry=REGISTRY,
)
ADMISSION_SHED = Counter(
    "loandesk_admission_shed",
    "Requests answered 503 with Retry-After because the queue was full or the wait too long",
    registry=REGISTRY,
)
ALERTS = Counter(
    "loandesk_alerts",
    "Alerts raised by this process, by kind",
    ["kind"],
    registry=REGISTRY,
)

METRICS_PATH = "/metrics"


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


def observe_push(commands: Sequence[Any], results: Iterable[Any]) -> None:
    """Each answer of a push under its command's kind (payment, promise, ...)."""
    kinds = {command.id: str(command.type) for command in commands}
    for result in results:
        SYNC_RESULTS.labels(kinds.get(result.id, "unknown"), str(result.status)).inc()


def observe_job(job: str, outcome: str, seconds: float | None) -> None:
    JOB_RUNS.labels(job, outcome).inc()
    if seconds is not None:
        JOB_SECONDS.labels(job, outcome).observe(seconds)


def metrics_endpoint(_: Request) -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
