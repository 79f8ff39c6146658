"""docs/import-formats.md names every column the code reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shopkeeper.imports.formats import cdnow, generic, online_retail, shopify

DOC = Path(__file__).resolve().parents[2] / "docs" / "import-formats.md"

COLUMNS = [
    *online_retail.LAYOUT_I,
    *online_retail.LAYOUT_II,
    *cdnow.COLUMNS,
    *shopify.ORDER_COLUMNS,
    *shopify.ORDER_OPTIONAL,
    *shopify.CUSTOMER_COLUMNS,
    *shopify.CUSTOMER_OPTIONAL,
    *generic.CUSTOMER_COLUMNS,
    *generic.CUSTOMER_OPTIONAL,
    *generic.PRODUCT_COLUMNS,
    *generic.PRODUCT_OPTIONAL,
    *generic.ORDER_COLUMNS,
    *generic.ORDER_OPTIONAL,
    *generic.EVENT_COLUMNS,
    *generic.EVENT_OPTIONAL,
]


@pytest.mark.parametrize("column", sorted(set(COLUMNS)))
def test_column_is_documented(column: str) -> None:
    text = " ".join(DOC.read_text().split())  # columns may wrap across lines
    assert re.search(rf"(?<!\w){re.escape(column)}(?!\w)", text), column
