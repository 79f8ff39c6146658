"""The maths modules stay pure: importable without a dataframe engine, web or database stack."""

from __future__ import annotations

import subprocess
import sys


def test_rfm_clv_and_advocacy_import_no_engine_web_or_database() -> None:
    code = (
        "import sys, shopkeeper.analytics.rfm, shopkeeper.analytics.clv, "
        "shopkeeper.analytics.advocacy; "
        "print(sorted(m for m in ('ibis', 'sqlalchemy', 'fastapi', 'duckdb', 'pandas') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
