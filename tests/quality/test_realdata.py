"""The scorecard on the whole Online Retail import surfaces that data set's known issues.

Counts are the README's (``../shared/data/online-retail/README.md``) after the importer's
mapping: exact duplicate rows are stored once (and reported from the import's audit entry),
``C`` invoices are cancelled orders, rows without CustomerID are anonymous orders.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shopkeeper.application import Shopkeeper
from shopkeeper.clock import FixedClock
from shopkeeper.quality.service import QualityService
from shopkeeper.settings import Settings

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


@pytest.fixture
def sqlite_shop(tmp_path: Path, clock: FixedClock) -> Iterator[Shopkeeper]:
    """SQLite only: importing 541,909 rows takes tens of seconds."""
    shop = Shopkeeper.open(
        Settings(data_dir=tmp_path, log_json=False, sqlite_synchronous="NORMAL"), clock=clock
    )
    shop.migrate()
    yield shop
    shop.close()


def test_online_retail_known_issues(sqlite_shop: Shopkeeper, shared_data: Path) -> None:
    imports = pytest.importorskip(
        "shopkeeper.imports.service", reason="the Online Retail importer has not landed yet"
    )
    path = shared_data / "online-retail" / "online_retail.csv.gz"
    imports.ImportService(sqlite_shop).run("online-retail", [path])

    started = time.perf_counter()
    with sqlite_shop.db.sessions() as session:
        card = QualityService(sqlite_shop).scorecard(session)
    seconds = time.perf_counter() - started
    assert seconds < 20, f"scorecard took {seconds:.1f}s on 536,641 lines"

    def affected(check: str) -> tuple[int, int]:
        finding = card.finding(check)
        assert finding is not None, f"{check} not surfaced"
        assert 0 < len(finding.examples) <= 5, check
        return finding.affected, finding.total

    # Missing customer ids: only 22,190 of 25,900 invoices have a customer.
    assert affected("orders.customer_missing") == (25_900 - 22_190, 25_900)
    # Cancellations: 3,836 distinct C invoices, reported for information.
    assert affected("orders.cancelled") == (3_836, 25_900)
    # Exact duplicate rows: 5,268, dropped at import and reported from its audit entry.
    import_duplicates = card.finding("order_lines.import_duplicates")
    assert import_duplicates is not None
    assert (import_duplicates.affected, import_duplicates.total) == (5_268, 541_909)
    assert import_duplicates.examples == ["online_retail.csv.gz"]
    # Left in the store: 3 lines equal on order, sku, quantity and price whose rows differ
    # only in their Description.
    assert affected("order_lines.duplicate") == (3, 536_641)
    # Non-product codes: 33 stock codes (POST, DOT, C2, M/m, D, S, B, BANK CHARGES...).
    assert affected("products.non_product") == (33, 4_070)
    assert affected("order_lines.non_product")[0] > 0
    # Zero prices: 2,510 stored lines with UnitPrice 0, 2,480 of them product lines.
    assert affected("order_lines.zero_price") == (2_480, 536_641 - 2_989)
    # Stock write-offs: 1,336 negative quantities outside C invoices; two bad-debt lines.
    assert affected("order_lines.quantity_not_positive") == (1_336, 536_641)
    assert affected("order_lines.negative_price")[0] == 2
    assert card.overall is not None
    assert card.overall < 100
