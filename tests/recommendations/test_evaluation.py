"""``shopkeeper evaluate`` on the small shop: a temporal split of the store's own orders.

Cut at 2026-10-17, tuned on a cut at 2026-10-10. Test customers (bought on both sides of the
cut): u-tea-1 (then tea-green), u-tea-3 (tea-black, cup), u-coffee-1 (coffee, kettle) and
u-coffee-2 (coffee). Buy-again recommends only a customer's own past items, so it finds
tea-green, coffee and coffee and misses u-tea-3 entirely: HitRate@10 = 3/4 whatever its setting.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopkeeper.application import Shopkeeper
from shopkeeper.cli import _load, app, console
from shopkeeper.errors import Invalid
from shopkeeper.recommendations import evaluation
from shopkeeper.recsys.tuning import FOR_YOU

CUT = datetime(2026, 10, 17, tzinfo=UTC).timestamp()
VALIDATION_CUT = datetime(2026, 10, 10, tzinfo=UTC).timestamp()


def test_report_on_the_store(store: Shopkeeper) -> None:
    events = evaluation.purchase_log(store)
    assert events.users.size == 25  # product lines of the six customers' 12 orders
    report = evaluation.run(events, CUT, VALIDATION_CUT, k=10)
    assert report.test_customers == 4
    names = [m.name for m in report.models]
    assert names[-1] == FOR_YOU
    assert {"popularity", "buy-again", "EASE", "ALS"} <= set(names)
    again = next(m for m in report.models if m.name == "buy-again").evaluation
    assert again.tasks["all"].hit_rate == pytest.approx(0.75)
    for model in report.models:
        for task in model.evaluation.tasks.values():
            assert 0.0 <= task.ndcg <= 1.0
    # Baskets after the cut with two known items: u-tea-3's and u-coffee-1's.
    assert report.basket_tests == 2
    assert [label for label, _, _ in report.baskets][1] == "raw co-counts"


def test_default_cuts_split_the_history(store: Shopkeeper) -> None:
    events = evaluation.purchase_log(store)
    cut, validation_cut = evaluation.default_cuts(events)
    first, last = events.timestamps.min(), events.timestamps.max()
    assert first < validation_cut < cut < last
    assert cut == pytest.approx(first + 0.75 * (last - first))


@pytest.mark.parametrize(
    ("cut", "validation_cut", "field"),
    [
        (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 9, 30, tzinfo=UTC), "cut"),
        (datetime(2026, 10, 17, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC), "validation_cut"),
        (datetime(2026, 10, 10, tzinfo=UTC), datetime(2026, 10, 17, tzinfo=UTC), "cut"),
    ],
)
def test_cuts_that_leave_nothing_to_test_name_the_field(
    store: Shopkeeper, cut: datetime, validation_cut: datetime, field: str
) -> None:
    events = evaluation.purchase_log(store)
    with pytest.raises(Invalid) as caught:
        evaluation.run(events, cut.timestamp(), validation_cut.timestamp())
    assert caught.value.detail == {"field": field}


def test_empty_store_is_an_error_not_a_crash(shop: Shopkeeper) -> None:
    with pytest.raises(Invalid):
        evaluation.default_cuts(evaluation.purchase_log(shop))


def test_cli_prints_tables_and_writes_the_chart(
    store: Shopkeeper, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SHOPKEEPER_DATA_DIR", str(store.settings.data_dir))
    monkeypatch.setenv("SHOPKEEPER_DATABASE_URL", store.settings.resolved_database_url)
    monkeypatch.setattr(console, "width", 200)
    _load()
    chart = tmp_path / "ndcg.svg"
    args = ["evaluate", "--cut", "2026-10-17", "--validation-cut", "2026-10-10"]
    result = CliRunner().invoke(app, [*args, "--svg", str(chart)])
    assert result.exit_code == 0, result.output
    assert FOR_YOU in result.output
    assert "items new to the customer" in result.output
    assert "basket completion (2 baskets" in result.output
    svg = chart.read_text()
    assert svg.startswith("<svg")
    assert svg.rstrip().endswith("</svg>")
    assert FOR_YOU in svg
