"""The rejects file: every row an import could not take, with where it was and why.

A bad row never stops an import and never vanishes. The file is a CSV (``file, line,
reason, raw``) created on the first reject only, so a clean import leaves nothing behind.
Raw text that was not valid UTF-8 is written with its bad bytes as ``\\xNN`` escapes, so the
rejects file itself is always valid UTF-8.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import IO, Any

REJECT_COLUMNS = ("file", "line", "reason", "raw")


class RejectsFile:
    """Appends rejected rows to ``path``; opened lazily, closed by :meth:`close`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._stream: IO[str] | None = None
        self._writer: Any = None

    def add(self, file: Path, line: int, reason: str, raw: str) -> None:
        if self._stream is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._stream = self.path.open("w", encoding="utf-8", newline="")
            self._writer = csv.writer(self._stream)
            self._writer.writerow(REJECT_COLUMNS)
        if not raw.isascii():
            raw = raw.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        self._writer.writerow((file.name, line, reason, raw.rstrip("\r\n")))
        self.count += 1

    @property
    def written(self) -> bool:
        return self._stream is not None

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()


def read_rejects(path: Path) -> list[dict[str, str]]:
    """The rows of a rejects file (for tests and for people checking an import)."""
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))
