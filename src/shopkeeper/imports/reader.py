"""Streaming row sources: CSV (plain or gzip), XLSX and Parquet, all in constant memory.

A source yields :data:`SourceRow` tuples ``(line, fields, raw, problem)``: the 1-based line
(CSV: the physical line the record starts on; XLSX: the sheet row; Parquet: the row number
counting the header as line 1, so numbering looks the same everywhere), the fields as strings,
the raw text for the rejects file, and ``None`` or the reason the row cannot be read at all
("not UTF-8", "broken quoting", a wrong field count). Sources never raise on a bad row.

CSV is read with :mod:`csv` over a text stream decoded with ``surrogateescape``: a line with
bytes that are not UTF-8 still parses, and is flagged per line instead of failing the file.
A stray quote would make :mod:`csv` swallow the following lines into one field; a record that
spans lines where the format does not allow it (or whose field count is wrong, or whose quote
is never closed) is cut back to
its first line, which is rejected as "broken quoting", and the other lines are parsed again.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from datetime import date, datetime
from itertools import chain
from pathlib import Path
from typing import IO, Any, Protocol

from shopkeeper.errors import BadRequest

#: ``(line, fields, raw, problem)``; see the module docstring.
SourceRow = tuple[int, list[str], str, str | None]


class RowSource(Protocol):
    """Where rows come from. ``progress`` is ``(done, total)`` in the source's own unit
    (bytes for CSV, rows otherwise), for the progress bar's ETA."""

    header: list[str]

    def rows(self) -> Iterator[SourceRow]: ...

    def progress(self) -> tuple[int, int]: ...

    def close(self) -> None: ...


def open_source(path: Path, *, multiline: bool = True) -> RowSource:
    """The right source for ``path`` by its suffix (``.csv``, ``.csv.gz``, ``.xlsx``, ``.parquet``).

    Args:
        path: The file.
        multiline: Whether a quoted field may legitimately contain line breaks (Shopify notes
            do; Online Retail and CDNOW never do, so a record spanning lines there is broken).

    Raises:
        BadRequest: the file is missing, empty or of an unknown kind.
    """
    if not path.is_file():
        raise BadRequest(f"{path}: no such file")
    name = path.name.lower()
    if name.endswith(".xlsx"):
        return XlsxSource(path)
    if name.endswith(".parquet"):
        return ParquetSource(path)
    return CsvSource(path, multiline=multiline)


class CsvSource:
    def __init__(self, path: Path, *, multiline: bool = True) -> None:
        self.path = path
        self.multiline = multiline
        self._raw: IO[bytes] = path.open("rb")
        self._total = path.stat().st_size
        binary: IO[bytes] = (
            gzip.GzipFile(fileobj=self._raw, mode="rb")  # type: ignore[assignment]
            if path.name.lower().endswith(".gz")
            else self._raw
        )
        self._text = io.TextIOWrapper(
            binary, encoding="utf-8-sig", errors="surrogateescape", newline=""
        )
        self._buffer: list[str] = []
        self._lines = _collect(self._text, self._buffer)
        self._reader = csv.reader(self._lines)
        self._line = 1
        try:
            header = next(self._reader)
        except StopIteration:
            self.close()
            raise BadRequest(f"{path}: the file is empty (expected a header row)") from None
        except (UnicodeDecodeError, gzip.BadGzipFile, OSError, csv.Error) as exc:
            self.close()
            raise BadRequest(f"{path}: cannot read the file ({exc})") from None
        self._line += len(self._buffer)
        self._buffer.clear()
        self.header = [h.strip() for h in header]

    def progress(self) -> tuple[int, int]:
        return self._raw.tell(), self._total

    def close(self) -> None:
        self._text.close()
        self._raw.close()

    def rows(self) -> Iterator[SourceRow]:
        width = len(self.header)
        buffer = self._buffer
        reader: Iterator[list[str]] = self._reader
        line = self._line
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # e.g. a runaway quoted field past csv's size limit
                if len(buffer) > 1:
                    yield line, [], buffer[0], "broken quoting"
                    line += 1
                    reader = self._reparse(buffer[1:])
                else:
                    yield line, [], "".join(buffer), f"unreadable CSV ({exc})"
                    line += 1
                    buffer.clear()
                    reader = csv.reader(self._lines)
                continue
            taken = len(buffer)
            if taken == 1:
                raw = buffer[0]
                buffer.clear()
                if not fields:
                    line += 1
                    continue
                problem: str | None
                if raw.isascii() or _is_utf8(raw):
                    problem = None if len(fields) == width else _width(width, len(fields))
                else:
                    problem = "not UTF-8"
                yield line, fields, raw, problem
                line += 1
                continue
            if taken > 1 and (
                not self.multiline
                or len(fields) != width
                or sum(text.count('"') for text in buffer) % 2  # unclosed at end of file
            ):
                # A stray quote swallowed the lines after it: reject the first, reparse the rest.
                yield line, [], buffer[0], "broken quoting"
                line += 1
                reader = self._reparse(buffer[1:])
                continue
            raw = "".join(buffer)
            buffer.clear()
            if not _is_utf8(raw):
                problem = "not UTF-8"
            else:
                problem = None if len(fields) == width else _width(width, len(fields))
            yield line, fields, raw, problem
            line += max(taken, 1)

    def _reparse(self, lines: list[str]) -> Iterator[list[str]]:
        """A fresh reader over ``lines`` (taken back from a broken record), then the rest."""
        self._buffer.clear()
        self._lines = chain(_collect(iter(lines), self._buffer), self._lines)
        return csv.reader(self._lines)


def _collect(lines: Iterator[str] | IO[str], buffer: list[str]) -> Iterator[str]:
    """Pass lines through to :mod:`csv`, keeping the current record's lines in ``buffer``."""
    append = buffer.append
    for text in lines:
        append(text)
        yield text


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _width(expected: int, found: int) -> str:
    return f"expected {expected} fields, found {found}"


def cell_text(value: Any) -> str:
    """A typed spreadsheet or Parquet value as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class XlsxSource:
    """The first sheet of a workbook, read with openpyxl's streaming read-only mode."""

    def __init__(self, path: Path) -> None:
        from openpyxl import load_workbook

        try:
            self._book = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a non-workbook
            raise BadRequest(f"{path}: not a readable XLSX workbook ({exc})") from None
        sheet = self._book.worksheets[0]
        self._rows = sheet.iter_rows(values_only=True)
        self._total = max((sheet.max_row or 1) - 1, 1)
        self._done = 0
        first = next(self._rows, None)
        if first is None:
            self._book.close()
            raise BadRequest(f"{path}: the sheet is empty (expected a header row)")
        self.header = [cell_text(v).strip() for v in first]

    def progress(self) -> tuple[int, int]:
        return self._done, self._total

    def close(self) -> None:
        self._book.close()

    def rows(self) -> Iterator[SourceRow]:
        width = len(self.header)
        for index, values in enumerate(self._rows, start=2):
            self._done = index - 1
            fields = [cell_text(v) for v in values]
            while len(fields) > width and fields[-1] == "":
                fields.pop()
            if not any(fields):
                continue
            problem = None if len(fields) == width else _width(width, len(fields))
            yield index, fields, ",".join(fields), problem


class ParquetSource:
    """A Parquet file, read one record batch at a time with pyarrow."""

    def __init__(self, path: Path) -> None:
        import pyarrow.parquet as pq

        try:
            self._file = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises ArrowInvalid and friends
            raise BadRequest(f"{path}: not a readable Parquet file ({exc})") from None
        self.header = list(self._file.schema_arrow.names)
        self._total = max(self._file.metadata.num_rows, 1)
        self._done = 0

    def progress(self) -> tuple[int, int]:
        return self._done, self._total

    def close(self) -> None:
        self._file.close()

    def rows(self) -> Iterator[SourceRow]:
        line = 1
        for batch in self._file.iter_batches(batch_size=10_000):
            columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
            for values in zip(*columns, strict=True):
                line += 1
                fields = [cell_text(v) for v in values]
                yield line, fields, ",".join(fields), None
            self._done = line - 1
