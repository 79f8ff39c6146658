"""``shopkeeper import`` end to end, as a person runs it (SQLite, in a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .conftest import OR_HEADER, OR_ROWS, write_csv


def run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SHOPKEEPER_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}
    env.pop("SHOPKEEPER_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-c", "from shopkeeper.cli import main; main()", "import", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_import_prints_a_summary_and_where_the_rejects_are(tmp_path: Path) -> None:
    rows = [*OR_ROWS, ("536999", "85123A", "X", "many", "2011-06-03 12:00:00", "1", "", "UK")]
    path = write_csv(tmp_path / "retail.csv", OR_HEADER, rows)
    done = run_cli(tmp_path, "online-retail", str(path), "--rejects", str(tmp_path / "r.csv"))
    assert done.returncode == 0, done.stderr
    assert "orders created" in done.stdout
    assert "1 rejected rows in" in done.stdout
    assert (tmp_path / "r.csv").read_text().count("Quantity is not a whole number") == 1


def test_wrong_layout_exits_2_naming_the_columns_without_traceback(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "cdnow.csv", ("customer_id", "date"), [("1", "19970101")])
    done = run_cli(tmp_path, "online-retail", str(path))
    assert done.returncode == 2
    assert "Expected columns: InvoiceNo, StockCode" in done.stderr
    assert "Traceback" not in done.stderr
    unknown = run_cli(tmp_path, "tsv", str(path))
    assert unknown.returncode == 2
    assert "unknown format 'tsv'" in unknown.stderr
