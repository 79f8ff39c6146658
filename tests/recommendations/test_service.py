"""Placements on a small trained shop, on both backends: strategies, reasons, rules, real time."""

from __future__ import annotations

import pytest

from shopkeeper.application import Shopkeeper
from shopkeeper.errors import Invalid, Unavailable
from shopkeeper.recommendations.rules import RuleConfig
from shopkeeper.recommendations.schemas import Recommendations
from shopkeeper.recommendations.service import RecommendationService
from tests.recommendations.conftest import add_products, view_event


def skus(result: Recommendations) -> list[str]:
    return [item.sku for item in result.items]


def test_every_placement_answers_with_strategy_and_reasons(trained: Shopkeeper) -> None:
    recommend = trained.recommendations.recommend
    calls = {
        "for_you": ({"customer": "u-tea-3"}, "personalised"),
        "also_bought": ({"product": "teapot"}, "also_bought"),
        "bought_together": ({"product": "teapot"}, "association"),
        "similar": ({"product": "teapot"}, "content+behaviour"),
        "trending": ({}, "trending"),
        "recently_viewed": ({"anonymous_id": "anon-google"}, "recently_viewed"),
        "buy_again": ({"customer": "u-tea-1"}, "repeat"),
        "cart": ({"cart": ["teapot"]}, "cart_complements"),
    }
    version = trained.recommendations.model().version
    for placement, (kwargs, strategy) in calls.items():
        result = recommend(placement, k=5, **kwargs)  # type: ignore[arg-type]
        assert result.items, placement
        assert (result.placement, result.strategy) == (placement, strategy)
        assert result.model_version == version
        assert all(item.reason for item in result.items), placement
        assert len(result.items) <= 5


def test_item_placements_explain_themselves(trained: Shopkeeper) -> None:
    recommend = trained.recommendations.recommend
    together = recommend("bought_together", product="teapot")
    assert together.strategy == "association"
    # pairs seen in at least two baskets with lift > 1: mug and green tea, nothing from coffee
    assert skus(together) == ["mug", "tea-green"]
    assert together.items[0].reason == "often bought with Glass Teapot"
    also = recommend("also_bought", product="coffee")
    assert also.strategy == "also_bought"
    assert "grinder" in skus(also)
    assert also.items[0].reason == "customers who bought Coffee Beans also bought this"
    similar = recommend("similar", product="teapot")
    assert similar.strategy == "content+behaviour"
    assert similar.items[0].reason == "similar to Glass Teapot"
    assert trained.recommendations.recommend("trending").items[0].reason == "popular right now"


def test_buy_again_knows_the_rebuy_interval(trained: Shopkeeper) -> None:
    result = trained.recommendations.recommend("buy_again", customer="u-tea-1")
    assert result.strategy == "repeat"
    assert skus(result)[0] == "tea-green"
    assert result.items[0].reason == "you buy this about every 14 days"


def test_rules_hold_on_the_store(trained: Shopkeeper) -> None:
    recommend = trained.recommendations.recommend
    for placement in ("also_bought", "similar", "bought_together"):
        for product in ("teapot", "mug", "cup"):
            shown = skus(recommend(placement, product=product, k=20))
            assert product not in shown  # never the product being viewed
            assert "teacup-sold-out" not in shown  # in stock only
    # already bought is excluded from for_you, except consumables (green tea is re-bought)
    for_you = skus(recommend("for_you", customer="u-tea-2", k=20))
    assert not {"teapot", "cup"} & set(for_you)
    cart = skus(recommend("cart", cart=["teapot", "mug"], k=20))
    assert not {"teapot", "mug"} & set(cart)


def test_stock_is_read_at_request_time(trained: Shopkeeper) -> None:
    recommend = trained.recommendations.recommend
    assert "tea-green" in skus(recommend("bought_together", product="teapot"))
    add_products(trained, [("tea-green", "Green Tea", "drinks/tea", "Leafy")], in_stock=False)
    assert "tea-green" not in skus(recommend("bought_together", product="teapot"))


def test_configured_rules_exclude_diversify_and_pin(trained: Shopkeeper) -> None:
    rules = {
        "trending": RuleConfig(excluded_categories=("drinks",), max_per_brand=1, pinned=("cup",))
    }
    service = RecommendationService(trained, rules)
    result = service.recommend("trending", k=10)
    assert skus(result)[0] == "cup"
    assert result.items[0].reason == "featured"
    categories = {
        trained.recommendations.model().categories[trained.recommendations.model().index[s]]
        for s in skus(result)
    }
    assert not any(c and c.startswith("drinks") for c in categories)
    brands = [
        trained.recommendations.model().brands[trained.recommendations.model().index[s]]
        for s in skus(result)
    ]
    assert len(brands) == len(set(brands))


def test_a_view_changes_the_next_for_you(trained: Shopkeeper) -> None:
    before = trained.recommendations.recommend("for_you", customer="u-coffee-1", k=5)
    assert before.strategy == "personalised"
    trained.events.ingest([view_event("teapot", 1, user="u-coffee-1")])
    after = trained.recommendations.recommend("for_you", customer="u-coffee-1", k=5)
    assert after.strategy == "personalised+session"
    assert skus(after) != skus(before)
    assert any(item.reason == "because you viewed Glass Teapot" for item in after.items)
    cart = trained.recommendations.recommend("cart", customer="u-coffee-1", cart=["coffee"])
    assert cart.strategy == "cart_complements+session"


def test_cold_start_fallbacks(trained: Shopkeeper) -> None:
    recommend = trained.recommendations.recommend
    stranger = recommend("for_you", anonymous_id="never-seen")
    assert stranger.strategy == "trending"
    assert stranger.items
    googler = recommend("trending", anonymous_id="anon-google")
    assert googler.strategy == "trending_by_source"
    assert googler.items[0].reason == "popular with visitors from google"
    newbie = recommend("for_you", customer="newbie")
    assert newbie.strategy == "category_bestsellers"
    assert newbie.items[0].reason.startswith("bestseller in ")
    # a product added after training is placed by its content
    add_products(trained, [("tea-white", "White Tea", "drinks/tea", "Leafy")])
    similar = recommend("similar", product="tea-white")
    assert similar.strategy == "content"
    assert skus(similar)[:2] == ["tea-black", "tea-green"] or skus(similar)[:2] == [
        "tea-green",
        "tea-black",
    ]
    assert recommend("also_bought", product="tea-white").strategy == "content"
    assert recommend("similar", product="no-such-sku").strategy == "trending"


def test_bad_requests_name_the_field(trained: Shopkeeper) -> None:
    cases = [
        ({"placement": "nope"}, "placement"),
        ({"placement": "similar"}, "product"),
        ({"placement": "cart"}, "cart"),
        ({"placement": "buy_again"}, "customer"),
        ({"placement": "trending", "k": 0}, "k"),
    ]
    for kwargs, field in cases:
        with pytest.raises(Invalid) as error:
            trained.recommendations.recommend(**kwargs)  # type: ignore[arg-type]
        assert error.value.detail == {"field": field}


def test_no_model_yet_is_unavailable(store: Shopkeeper) -> None:
    with pytest.raises(Unavailable):
        store.recommendations.recommend("trending")


def test_trending_on_a_product_page_stays_in_its_category(trained: Shopkeeper) -> None:
    result = trained.recommendations.recommend("trending", product="coffee", k=10)
    assert result.strategy == "trending_in_category"
    assert result.items[0].reason == "popular in drinks right now"
    model = trained.recommendations.model()
    assert {model.top_categories[model.index[s]] for s in skus(result)} == {"drinks"}
    assert "coffee" not in skus(result)


def test_an_empty_shop_trains_and_answers_with_empty_lists(shop: Shopkeeper) -> None:
    model = shop.recommendations.train()
    assert model.stats["items"] == 0
    for placement, kwargs in (("trending", {}), ("similar", {"product": "x"})):
        result = shop.recommendations.recommend(placement, **kwargs)  # type: ignore[arg-type]
        assert result.items == []
        assert result.strategy == "category_bestsellers"
