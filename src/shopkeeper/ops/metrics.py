"""Prometheus metrics, one registry per application (so tests can build many apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


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
        )
        self.log_end = Gauge(
            "shopkeeper_log_end",
            "Id of the newest event in the log (the projector's lag is this minus its position)",
            registry=self.registry,
        )
        self.projection_skipped = Counter(
            "shopkeeper_projection_skipped_total",
            "Events whose facts could not be applied and were skipped (logged with their id)",
            registry=self.registry,
        )
