"""Typed settings, read once from the environment at start-up and passed in.

Every field is documented in README.md's configuration table; ``tests/test_docs.py`` fails when one
is missing. Nothing here is instantiated at import time: call :func:`Settings.from_env`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_BLOCKED_IDENTITY_VALUES = (
    "",
    "0",
    "-1",
    "1",
    "null",
    "nil",
    "none",
    "undefined",
    "unknown",
    "anonymous",
    "n/a",
    "na",
    "test",
    "test@test.com",
    "00000000-0000-0000-0000-000000000000",
)


class Settings(BaseSettings):
    """Shopkeeper's configuration (environment variables prefixed ``SHOPKEEPER_``)."""

    model_config = SettingsConfigDict(env_prefix="SHOPKEEPER_", extra="ignore", frozen=True)

    data_dir: Path = Field(
        Path("shopkeeper-data"), description="Directory for the SQLite store, models and exports."
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the store; default is SQLite (WAL) in the data directory. "
        "Use postgresql+psycopg://user@host/db for PostgreSQL.",
    )
    host: str = Field("127.0.0.1", description="Address `shopkeeper serve` binds to.")
    port: int = Field(8000, description="Port `shopkeeper serve` listens on.")
    workers: int = Field(
        1,
        ge=1,
        le=64,
        description="Server processes for `shopkeeper serve` (2 uses both cores of a small "
        "machine for parsing). The server process deals the connections it accepts to them in "
        "turn, so each holds the same share; with more than one, one more process, the writer, "
        "commits every worker's events and runs the projector.",
    )
    threads: int = Field(
        2,
        ge=1,
        le=64,
        description="Threads per server process that run blocking request work (store reads). "
        "They share one interpreter lock: many make CPU-bound reads queue on it (profile reads "
        "on one process: 93 req/s with 40 threads, 139 with 4, 170 with 1); more only help "
        "when requests wait on I/O.",
    )
    log_level: str = Field("info", description="Log level: debug, info, warning, error.")
    log_json: bool = Field(True, description="Write logs as one JSON object per line.")
    max_event_bytes: int = Field(32 * 1024, description="Largest single event accepted (bytes).")
    max_batch_bytes: int = Field(
        500 * 1024, description="Largest request body accepted, after gzip decoding (bytes)."
    )
    merge_on_email: bool = Field(
        True,
        description="Merge two profiles when an identify call carries an e-mail trait "
        "that already belongs to another profile.",
    )
    max_user_ids_per_profile: int = Field(
        1,
        description="A profile holds at most this many userIds; a merge that would exceed it "
        "is refused (Segment's default is 1).",
    )
    max_identities_per_profile: int = Field(
        200, description="A profile holds at most this many identifiers of all kinds."
    )
    blocked_identity_values: tuple[str, ...] = Field(
        DEFAULT_BLOCKED_IDENTITY_VALUES,
        description="Identifier values that never create or merge a profile (JSON list).",
    )
    writer_max_batch: int = Field(
        5000, description="Most events the ingest writer commits in one transaction."
    )
    writer_max_wait_ms: float = Field(
        2.0, description="How long the ingest writer waits to group concurrent requests (ms)."
    )
    projection: Literal["inline", "background"] = Field(
        "inline",
        description="When events' facts (identities, products, orders) are applied: inline "
        "before the 2xx (read-your-writes), or background by the projector moments after "
        "(collection several times faster; profiles lag by the projector's backlog).",
    )
    projector: Literal["thread", "process"] = Field(
        "thread",
        description="Where the background projector runs: a thread of the server process (of "
        "the writer process with several workers), or a child process of its own (its own core "
        "and GIL; with one worker its skipped-events counter is then not in /metrics). Only "
        "with SHOPKEEPER_PROJECTION=background.",
    )
    projection_batch: int = Field(
        1000, ge=1, description="Most events the background projector applies per transaction."
    )
    projection_yield_rate: int = Field(
        5000,
        ge=0,
        description="An ingest burst, in events per second: while events arrive faster, the "
        "server's background projector leaves the store's write lock and the CPU to "
        "collection (0: never hold back). Bulk loads' projectors never hold back.",
    )
    projection_yield_seconds: float = Field(
        60.0,
        ge=0,
        description="The longest the projector holds back for a burst; then it applies "
        "batches until it has caught up, so profiles lag a burst by at most this much plus "
        "the backlog.",
    )
    triggers: Literal["on", "off"] = Field(
        "on",
        description="Evaluate triggers (premium affinity, cart abandoned, ...) for the people "
        "behind each committed batch of events, after it is acknowledged.",
    )
    triggers_max_age_days: float = Field(
        7.0,
        ge=0,
        description="Triggers react to events that arrive at most this many days after they "
        "happened; older ones (imports, backfills, replayed history) are stored and projected "
        "but wake no trigger, as marketing tools do not start flows on history (0: no limit).",
    )
    sqlite_synchronous: str = Field(
        "FULL",
        description="SQLite synchronous pragma: FULL survives power loss, NORMAL only "
        "process crashes.",
    )
    sqlite_checkpoint_pages: int = Field(
        40000,
        ge=1,
        description="SQLite copies the write-ahead log back into the database once it holds "
        "this many pages (4 KiB each, so up to ~160 MB; SQLite's default is 1000). A checkpoint "
        "writes each page changed since the last one once, however often it changed, so a "
        "larger log makes ingest cheaper, for disk space and a longer pause per checkpoint.",
    )

    analytics_engine: Literal["duckdb", "spark"] = Field(
        "duckdb",
        description="Engine that runs analytics (RFM, CLV, KPIs): duckdb in-process, "
        "or spark (needs PySpark and Java 17).",
    )
    spark_master: str = Field(
        "local[2]",
        description="Spark master URL used when the analytics engine is spark, "
        "e.g. local[2] or spark://host:7077.",
    )

    recommendations_stock_ttl: float = Field(
        2.0,
        ge=0,
        description="Seconds recommendation serving trusts its in-memory stock flags for "
        "catalogue changes made by other processes (changes through the same server are "
        "seen at once).",
    )

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Build settings from the environment, with explicit overrides winning."""
        return cls(**overrides)  # type: ignore[arg-type]

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'shopkeeper.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")
