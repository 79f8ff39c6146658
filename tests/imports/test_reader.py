"""Row sources: bad rows are flagged with a reason, never raised, and never eat good rows."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from shopkeeper.errors import BadRequest
from shopkeeper.imports.reader import CsvSource, open_source


def rows_of(path: Path, *, multiline: bool = True) -> list[tuple[int, list[str], str | None]]:
    source = open_source(path, multiline=multiline)
    try:
        return [(line, fields, problem) for line, fields, _, problem in source.rows()]
    finally:
        source.close()


def test_stray_quote_rejects_its_line_only(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text('a,b\n1,2\n3,"4\n5,6\n7,"x, y"\n8,9\n', encoding="utf-8")
    got = rows_of(path, multiline=False)
    assert got == [
        (2, ["1", "2"], None),
        (3, [], "broken quoting"),
        (4, ["5", "6"], None),
        (5, ["7", "x, y"], None),
        (6, ["8", "9"], None),
    ]


def test_stray_quote_at_the_end_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text('a,b\n1,"2\n3,4\n', encoding="utf-8")
    assert rows_of(path) == [(2, [], "broken quoting"), (3, ["3", "4"], None)]


def test_multiline_fields_allowed_where_the_format_says(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text('a,b\n1,"two\nlines"\n3,4\n', encoding="utf-8")
    assert rows_of(path) == [(2, ["1", "two\nlines"], None), (4, ["3", "4"], None)]


def test_non_utf8_line_is_flagged_and_others_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "f.csv.gz"
    path.write_bytes(gzip.compress(b"a,b\n1,caf\xe9\n2,ok\n3,caf\xc3\xa9\n"))
    assert rows_of(path) == [
        (2, ["1", "caf\udce9"], "not UTF-8"),
        (3, ["2", "ok"], None),
        (4, ["3", "café"], None),
    ]


def test_wrong_field_count_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("a,b\n1\n\n1,2,3\n4,5\n", encoding="utf-8")
    assert rows_of(path) == [
        (2, ["1"], "expected 2 fields, found 1"),
        (4, ["1", "2", "3"], "expected 2 fields, found 3"),
        (5, ["4", "5"], None),
    ]


def test_progress_counts_file_bytes(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("a,b\n" + "1,2\n" * 1000, encoding="utf-8")
    source = CsvSource(path)
    assert sum(1 for _ in source.rows()) == 1000
    assert source.progress() == (path.stat().st_size, path.stat().st_size)
    source.close()


def test_empty_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(BadRequest, match="empty"):
        open_source(tmp_path / "empty.csv")
    with pytest.raises(BadRequest, match="no such file"):
        open_source(tmp_path / "missing.csv")
