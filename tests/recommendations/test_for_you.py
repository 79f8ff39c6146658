"""The served ``for_you`` is the benchmarked blend: same configuration, same scores."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from shopkeeper.application import Shopkeeper
from shopkeeper.models import Identity
from shopkeeper.recommendations import repository
from shopkeeper.recommendations.rules import RuleConfig
from shopkeeper.recommendations.service import RecommendationService
from shopkeeper.recommendations.training import item_catalogue, purchase_interactions
from shopkeeper.recsys.base import Query
from shopkeeper.recsys.for_you import ForYouConfig, for_you_blend
from tests.recommendations.conftest import view_event

DAY = 86_400.0
#: No rule in the way: every item, in score order.
UNFILTERED = {"for_you": RuleConfig(exclude_bought=False, in_stock_only=False)}


def customer_of(shop: Shopkeeper, user_id: str) -> str:
    with shop.db.sessions() as session:
        found = session.scalar(select(Identity.customer_id).where(Identity.value == user_id))
    assert found
    return str(found)


@pytest.mark.parametrize("user", ["u-tea-1", "u-coffee-2"])
def test_served_scores_are_the_benchmarked_blends(trained: Shopkeeper, user: str) -> None:
    # fit recsys.for_you independently on the store's purchases, as the benchmark harness does
    with trained.db.sessions() as session:
        catalogue = item_catalogue(repository.catalog(session))
        purchases = repository.purchases(session)
    model = trained.recommendations.model()
    x = purchase_interactions(purchases, model.item_ids)
    blend = for_you_blend(ForYouConfig(), catalogue, len(model.item_ids)).fit(x)
    row = x.user_index[customer_of(trained, user)]
    cells = slice(x.matrix.indptr[row], x.matrix.indptr[row + 1])
    ages = (trained.clock.now().timestamp() - x.last_seen[cells]) / DAY
    query = Query(np.array([-1]), x.matrix[row], x, age_days=ages)
    expected = blend._scores(query)[0]
    order = np.lexsort((np.arange(expected.size), -expected))

    served = RecommendationService(trained, UNFILTERED).recommend("for_you", customer=user, k=20)
    assert served.strategy == "personalised"
    assert [i.sku for i in served.items] == [model.item_ids[i] for i in order if expected[i] > 0]
    assert [i.score for i in served.items] == [
        round(expected[i], 6) for i in order if expected[i] > 0
    ]


def test_a_view_reaches_the_blend_as_session_history(trained: Shopkeeper) -> None:
    service = RecommendationService(trained, UNFILTERED)
    before = {i.sku: i.score for i in service.recommend("for_you", customer="u-tea-1", k=20).items}
    trained.events.ingest([view_event("grinder", 1, user="u-tea-1")])
    after = service.recommend("for_you", customer="u-tea-1", k=20)
    assert after.strategy == "personalised+session"
    scores = {i.sku: i.score for i in after.items}
    # the grinder's neighbours (coffee, bought with it twice) gain; the grinder is explained
    assert scores["coffee"] > before["coffee"]
    reasons = {i.sku: i.reason for i in after.items}
    assert reasons["coffee"] == "because you viewed Coffee Grinder"
