"""Prometheus metrics, one registry per application (so tests can build many apps).

A server of several processes (``SHOPKEEPER_WORKERS`` > 1: the workers, the writer, its
projector) counts in prometheus_client's multiprocess mode instead: each process writes its
values to files under :data:`MULTIPROCESS_DIR`, and a scrape, whichever worker answers it, sums
every process's (:func:`render`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

#: The environment variable prometheus_client reads, when it is imported, for the directory of
#: the processes' value files.
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def shared_across_processes() -> Iterator[None]:
    """Processes started inside this block count into one set of files, which every scrape
    reads: set before they start, as prometheus_client decides when it is imported. A
    directory the operator set is used as it is; otherwise a fresh one is removed at the end."""
    if os.environ.get(MULTIPROCESS_DIR):
        yield
        return
    directory = tempfile.mkdtemp(prefix="shopkeeper-metrics-")
    os.environ[MULTIPROCESS_DIR] = directory
    try:
        yield
    finally:
        os.environ.pop(MULTIPROCESS_DIR, None)
        shutil.rmtree(directory, ignore_errors=True)


def render(metrics: Metrics) -> bytes:
    """The text exposition: this process's registry, or every server process's values summed
    when they count in files (:func:`shared_across_processes`)."""
    if os.environ.get(MULTIPROCESS_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(metrics.registry)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "shopkeeper_http_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "shopkeeper_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=self.registry,
        )
        self.events = Counter(
            "shopkeeper_events_total",
            "Events received, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.commit_seconds = Histogram(
            "shopkeeper_ingest_commit_seconds",
            "Time to write and commit one ingest group",
            registry=self.registry,
        )
        self.projection_position = Gauge(
            "shopkeeper_projection_position",
            "Id of the last event whose facts the projector applied (compare with the log's end)",
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self.log_end = Gauge(
            "shopkeeper_log_end",
            "Id of the newest event in the log (the projector's lag is this minus its position)",
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self.projection_skipped = Counter(
            "shopkeeper_projection_skipped_total",
            "Events whose facts could not be applied and were skipped (logged with their id)",
            registry=self.registry,
        )
