"""The fast serving path keeps the semantics: stock snapshot invalidation, real-time session
re-ranking over HTTP, and the rules' caps filled beyond the first candidates."""

from __future__ import annotations

import numpy as np
from fastapi.testclient import TestClient

from shopkeeper.application import Shopkeeper
from shopkeeper.catalog.schemas import ProductIn
from shopkeeper.recommendations.rules import RuleConfig
from shopkeeper.recommendations.service import RecommendationService
from tests.conftest import basic
from tests.recommendations.conftest import add_products, view_event


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def skus(service: RecommendationService, placement: str, **kwargs: object) -> list[str]:
    return [i.sku for i in service.recommend(placement, **kwargs).items]  # type: ignore[arg-type]


def test_a_catalog_change_in_this_process_refreshes_the_stock_snapshot(trained: Shopkeeper) -> None:
    service = RecommendationService(trained, monotonic=Ticks())
    assert "tea-green" in skus(service, "bought_together", product="teapot")
    refreshes = service.stock.refreshes
    skus(service, "bought_together", product="mug")
    assert service.stock.refreshes == refreshes  # no change, no TTL passed: no query
    add_products(trained, [("tea-green", "Green Tea", "drinks/tea", "Leafy")], in_stock=False)
    assert "tea-green" not in skus(service, "bought_together", product="teapot")
    assert service.stock.refreshes == refreshes + 1


def test_a_rolled_back_catalog_write_moves_no_revision(trained: Shopkeeper) -> None:
    before = trained.catalog.revision
    try:
        with trained.db.transaction() as session:
            item = ProductIn.model_validate({"sku": "tea-green", "in_stock": False})
            trained.catalog.upsert(session, [item], partial=True)
            raise RuntimeError("abort")
    except RuntimeError:
        pass
    assert trained.catalog.revision == before
    add_products(trained, [("tea-green", "Green Tea", "drinks/tea", "Leafy")], in_stock=False)
    assert trained.catalog.revision == before + 1


def test_another_process_change_is_seen_after_the_ttl(trained: Shopkeeper) -> None:
    ticks = Ticks()
    service = RecommendationService(trained, monotonic=ticks)
    assert "tea-green" in skus(service, "bought_together", product="teapot")
    other = Shopkeeper.open(trained.settings, clock=trained.clock)  # another worker's view
    try:
        add_products(other, [("tea-green", "Green Tea", "drinks/tea", "Leafy")], in_stock=False)
    finally:
        other.close()
    assert "tea-green" in skus(service, "bought_together", product="teapot")  # within the TTL
    ticks.now += trained.settings.recommendations_stock_ttl
    assert "tea-green" not in skus(service, "bought_together", product="teapot")


def test_an_add_to_cart_changes_the_next_for_you_over_http(
    client: TestClient, keys: dict[str, str], trained: Shopkeeper
) -> None:
    params = {"placement": "for_you", "customer": "u-coffee-2", "k": 5}
    before = client.get("/v1/recommendations", params=params, headers=basic(keys["read"])).json()
    assert before["strategy"] == "personalised"
    added = {**view_event("teapot", 2, user="u-coffee-2"), "event": "Product Added"}
    assert not trained.events.ingest([added]).errors
    after = client.get("/v1/recommendations", params=params, headers=basic(keys["read"])).json()
    assert after["strategy"] == "personalised+session"
    assert after["items"] != before["items"]
    assert "because you added Glass Teapot" in {item["reason"] for item in after["items"]}


def test_caps_fill_the_list_beyond_the_first_candidates(trained: Shopkeeper) -> None:
    service = RecommendationService(trained, {"trending": RuleConfig(max_per_category=1)})
    model = service.model()
    shown = skus(service, "trending", k=1)
    assert len(shown) == 1
    wide = skus(service, "trending", k=10)
    categories = [model.top_categories[model.index[s]] for s in wide]
    assert len(categories) == len(set(categories))
    stocked = {
        model.top_categories[i]
        for i in range(len(model.item_ids))
        if model.trending[i] > 0 and model.item_ids[i] != "teacup-sold-out"
    }
    assert set(categories) == stocked


def test_merged_profiles_are_one_visitor(trained: Shopkeeper) -> None:
    # an anonymous visitor views a product, then identifies as a customer with purchases:
    # the merged profile's view and purchases both shape for_you, purchases stay excluded
    events = [
        view_event("grinder", 3, anonymous="anon-tea-1"),
        {
            "type": "identify",
            "userId": "u-tea-1",
            "anonymousId": "anon-tea-1",
            "messageId": "id-merge-tea-1",
        },
    ]
    assert not trained.events.ingest(events).errors
    service = RecommendationService(trained)
    for who in ({"customer": "u-tea-1"}, {"anonymous_id": "anon-tea-1"}):
        result = service.recommend("for_you", k=10, **who)  # type: ignore[arg-type]
        assert result.strategy == "personalised+session"
        assert not {"teapot", "mug"} & {i.sku for i in result.items}
    viewed = service.recommend("recently_viewed", customer="u-tea-1")
    assert [i.sku for i in viewed.items] == ["grinder"]


def test_a_version_saved_before_the_similar_lists_loads_and_rebuilds_them(
    trained: Shopkeeper,
) -> None:
    store = trained.recommendations.store
    name = store.current_name()
    assert name is not None
    path = store.root / name / "arrays.npz"
    with np.load(path) as npz:
        older = {key: npz[key] for key in npz.files if not key.startswith("similar.")}
    np.savez(path, **older)
    loaded = store.load(name)
    assert (loaded.similar != trained.recommendations.model().similar).nnz == 0


def test_a_visitors_last_views_and_source_are_read_from_the_indexes_alone(
    shop: Shopkeeper,
) -> None:
    """The visitor indexes are partial (an event is its userId's, else its anonymousId's) and
    still cover what serving reads, so no request fetches event rows (SQLite's plan)."""
    if shop.db.dialect != "sqlite":
        return
    from shopkeeper.recommendations.repository import _per_key

    with shop.db.sessions() as session:
        connection = session.connection()
        for what in ("recent", "source"):
            statement = _per_key(("user_id", "anonymous_id"), what, 20)
            parameters = {"k0": "u-1", "k1": "a-1"}
            plan = shop.db.plan(statement, parameters)  # what the serving reader runs
            rows = connection.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {plan.sql}", tuple(plan.arguments(parameters))
            )
            found = " | ".join(row[3] for row in rows)
            assert "COVERING INDEX ix_events_user_ts (user_id=?)" in found, found
            assert "COVERING INDEX ix_events_anon_ts (anonymous_id=?)" in found, found
