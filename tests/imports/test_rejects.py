"""A planted bad file: 2,000 Online Retail rows, 10% garbage. Every bad line is in the
rejects file with its reason; every other row is imported."""

from __future__ import annotations

import csv
import gzip
import io
import random
from pathlib import Path

import pytest

from shopkeeper.application import Shopkeeper
from shopkeeper.imports.rejects import read_rejects
from shopkeeper.imports.service import ImportService

from .conftest import counts

KINDS = ("quantity", "price", "date", "missing", "width", "quoting", "utf8")
EXPECTED_REASON = {
    "quantity": "Quantity is not a whole number",
    "price": "UnitPrice is not a number",
    "date": "InvoiceDate is not a date-time",
    "missing": "missing StockCode",
    "width": "expected 8 fields, found 7",
    "quoting": "broken quoting",
    "utf8": "not UTF-8",
}


def corrupt(line: bytes, kind: str) -> bytes:
    fields = line.rstrip(b"\n").split(b",")
    if kind == "quantity":
        fields[3] = b"six"
    elif kind == "price":
        fields[-3] = b"2.5x"
    elif kind == "date":
        fields[-4] = b"2010-13-45 08:26:00"
    elif kind == "missing":
        fields[1] = b""
    elif kind == "width":
        fields.pop()
    elif kind == "quoting":
        fields[1] = b'"' + fields[1]
    elif kind == "utf8":
        fields[2] = fields[2] + b" caf\xe9"
    return b",".join(fields) + b"\n"


@pytest.fixture
def planted(shared_data: Path, tmp_path: Path) -> tuple[Path, dict[int, str], list[bytes]]:
    with gzip.open(shared_data / "online-retail" / "online_retail.csv.gz", "rb") as stream:
        header = stream.readline()
        lines = [stream.readline() for _ in range(2000)]
    rng = random.Random(20240601)
    # Only lines without quotes and with 8 plain fields, so each corruption does one thing.
    candidates = [i for i, line in enumerate(lines) if b'"' not in line and line.count(b",") == 7]
    chosen = sorted(rng.sample(candidates, 200))
    planted: dict[int, str] = {}
    for n, index in enumerate(chosen):
        kind = KINDS[n % len(KINDS)]
        lines[index] = corrupt(lines[index], kind)
        planted[index + 2] = kind  # line 1 is the header
    path = tmp_path / "planted.csv.gz"
    path.write_bytes(gzip.compress(header + b"".join(lines)))
    good = [line for i, line in enumerate(lines) if i + 2 not in planted]
    return path, planted, good


def test_rejects_file_lists_exactly_the_bad_lines(
    shop: Shopkeeper, tmp_path: Path, planted: tuple[Path, dict[int, str], list[bytes]]
) -> None:
    path, bad, good = planted
    rejects = tmp_path / "rejects.csv"
    summary = ImportService(shop, chunk_rows=1000).run(
        "online-retail", [path], rejects_path=rejects
    )
    rows = read_rejects(rejects)
    assert {int(row["line"]): row["reason"] for row in rows}.keys() == bad.keys()
    for row in rows:
        assert row["reason"].startswith(EXPECTED_REASON[bad[int(row["line"])]]), row
        assert row["file"] == "planted.csv.gz"
        assert row["raw"]
    assert summary.rejected == 200
    assert summary.rows == 2000

    records = list(csv.reader(io.StringIO(b"".join(good).decode("utf-8"))))
    distinct = {tuple(record) for record in records}
    assert summary.duplicates == len(records) - len(distinct)
    assert summary.accepted == len(distinct)
    stored = counts(shop)
    assert stored["order_lines"] == len(distinct)
    assert stored["orders"] == len({record[0] for record in records})
    assert stored["customers"] == len({record[6] for record in records if record[6]})
