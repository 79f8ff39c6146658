"""Import benchmark: the whole UCI Online Retail file into a fresh SQLite store, at 1× and 10×.

    .venv/bin/python benchmarks/import_bench.py [--data ../shared/data] [--sizes 1 10]

The 10× file is the original concatenated ten times, each copy's invoice numbers suffixed
(``536365-3``) so that its rows are new orders rather than duplicates. Each size runs in its
own process so that peak RSS (``resource.getrusage``) is that import's alone; flat memory
means the 10× peak is close to the 1× peak. Prints one Markdown table row per size.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"


def build_file(source: Path, copies: int, target: Path) -> int:
    """Write ``copies`` concatenated copies of ``source`` (suffixed invoices); return rows."""
    rows = 0
    with gzip.open(target, "wt", encoding="utf-8", newline="", compresslevel=1) as out:
        writer = csv.writer(out)
        for copy in range(copies):
            with gzip.open(source, "rt", encoding="utf-8", newline="") as stream:
                reader = csv.reader(stream)
                header = next(reader)
                if copy == 0:
                    writer.writerow(header)
                for row in reader:
                    if copy:
                        row[0] = f"{row[0]}-{copy}"
                    writer.writerow(row)
                    rows += 1
    return rows


def run_one(path: Path) -> dict[str, float]:
    """Import ``path`` into a fresh store (in this process) and measure it."""
    from shopkeeper.application import Shopkeeper
    from shopkeeper.imports.service import ImportService
    from shopkeeper.ops.runtime import tune_gc
    from shopkeeper.settings import Settings

    tune_gc()  # as `shopkeeper import` does
    with tempfile.TemporaryDirectory() as data_dir:
        shop = Shopkeeper.open(Settings(data_dir=Path(data_dir), log_json=False))
        shop.migrate()
        started = time.perf_counter()
        summary = ImportService(shop).run("online-retail", [path])
        seconds = time.perf_counter() - started
        shop.close()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "rows": summary.rows,
        "orders": summary.orders_created,
        "rejected": summary.rejected,
        "seconds": seconds,
        "rows_per_s": summary.rows / seconds,
        "peak_rss_mib": peak_kib / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # child mode
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one)))
        return
    source = args.data / "online-retail" / "online_retail.csv.gz"
    print("| size | rows | orders | seconds | rows/s | peak RSS (MiB) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as scratch:
        for size in args.sizes:
            path = source
            if size > 1:
                path = Path(scratch) / f"online_retail_x{size}.csv.gz"
                build_file(source, size, path)
            child = subprocess.run(
                [sys.executable, __file__, "--one", str(path)],
                capture_output=True,
                text=True,
                check=True,
            )
            result = json.loads(child.stdout.strip().splitlines()[-1])
            print(
                f"| {size}× | {result['rows']:,.0f} | {result['orders']:,.0f} "
                f"| {result['seconds']:.1f} | {result['rows_per_s']:,.0f} "
                f"| {result['peak_rss_mib']:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
