"""The recommender core stays a library: no web, database, dataframe or ``implicit`` import."""

from __future__ import annotations

import subprocess
import sys


def test_recsys_imports_no_web_database_or_engine() -> None:
    modules = "interactions base popularity repeat cooccurrence ease als content blend metrics"
    imports = "; ".join(f"import shopkeeper.recsys.{m}" for m in (*modules.split(), "evaluate"))
    banned = ("sqlalchemy", "fastapi", "ibis", "duckdb", "pandas", "implicit")
    code = f"import sys; {imports}; print(sorted(m for m in {banned!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
