"""Synthetic fixtures for the recommender contract suite: small, seeded, known answers."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from shopkeeper.recsys.affinity import AffinityConfig, GroupAffinity
from shopkeeper.recsys.als import Als, AlsConfig
from shopkeeper.recsys.base import ScoringRecommender
from shopkeeper.recsys.blend import Blend, BlendConfig
from shopkeeper.recsys.content import ContentRecommender, ItemContent
from shopkeeper.recsys.cooccurrence import CooccurrenceConfig, ItemKNN
from shopkeeper.recsys.ease import Ease, EaseConfig
from shopkeeper.recsys.for_you import ForYouConfig, for_you_blend
from shopkeeper.recsys.interactions import Interactions
from shopkeeper.recsys.popularity import Popularity, PopularityConfig
from shopkeeper.recsys.repeat import BuyAgain

GROUP_SIZE = 10  # items per group
USERS_PER_GROUP = 12
LIKED = 6  # items each user bought from their own group's ten


def group_of_item(item: int) -> int:
    return item // GROUP_SIZE


def checkerboard() -> Interactions:
    """Two disjoint groups: users 0–11 buy only items 0–9, users 12–23 only items 10–19.

    Each user bought a seeded random 6 of their group's 10 items, one to three times, on
    random days, so every model has unseen same-group items to recommend and no evidence at
    all linking the groups.
    """
    rng = np.random.default_rng(7)
    users, items, days, baskets = [], [], [], []
    for user in range(2 * USERS_PER_GROUP):
        group = user // USERS_PER_GROUP
        liked = rng.choice(GROUP_SIZE, LIKED, replace=False) + group * GROUP_SIZE
        for item in liked:
            for _ in range(int(rng.integers(1, 4))):
                day = int(rng.integers(0, 100))
                users.append(f"u{user:02d}")
                items.append(f"i{item:02d}")
                days.append(day * 86_400.0)
                baskets.append(f"b{user}-{day}")
    return Interactions.from_events(users, items, days, baskets=baskets)


def content() -> dict[str, ItemContent]:
    """Descriptions mirroring the groups: a shared category and title word per group."""
    names = ("garden", "kitchen")
    return {
        f"i{item:02d}": ItemContent(
            category=f"home/{names[group_of_item(item)]}",
            brand=f"brand{item % 3}",
            title=f"{names[group_of_item(item)]} thing number{item}",
        )
        for item in range(2 * GROUP_SIZE)
    }


AFFINITY = AffinityConfig(popularity_half_life_days=None)

MODELS: dict[str, Callable[[], ScoringRecommender]] = {
    "popularity": lambda: Popularity(),
    "trending": lambda: Popularity(PopularityConfig(half_life_days=30)),
    "adoption": lambda: Popularity(PopularityConfig(half_life_days=30, since="first")),
    "buy_again": lambda: BuyAgain(),
    "knn_cosine": lambda: ItemKNN(CooccurrenceConfig("cosine")),
    "knn_lift": lambda: ItemKNN(CooccurrenceConfig("lift")),
    "knn_bm25": lambda: ItemKNN(CooccurrenceConfig("bm25")),
    "ease": lambda: Ease(EaseConfig(l2=5.0)),
    # Two factors: the checkerboard is rank-2 data. With spare factors ALS fits noise across
    # the groups on data this small (implicit's own checkerboard test uses three).
    "als": lambda: Als(AlsConfig(factors=2, regularization=0.01), rng=np.random.default_rng(3)),
    "content": lambda: ContentRecommender(content()),
    # All-time popularity: a 14-day half-life over the board's 100 random days spreads
    # popularity 100-fold, more than a customer's lift towards their group (~13x).
    "affinity": lambda: GroupAffinity(content(), AFFINITY),
    "blend": lambda: Blend(
        {"ease": Ease(EaseConfig(l2=5.0)), "knn": ItemKNN(), "affinity": GroupAffinity(content())},
        BlendConfig({"ease": 1.0, "knn": 0.5, "affinity": 0.2}, recency_half_life_days=30),
    ),
    "for_you": lambda: for_you_blend(
        ForYouConfig(ease_l2=5.0, affinity=AFFINITY), content(), 2 * GROUP_SIZE
    ),
}


@pytest.fixture(scope="session")
def board() -> Interactions:
    return checkerboard()


@pytest.fixture(params=sorted(MODELS))
def make_model(request: pytest.FixtureRequest) -> Callable[[], ScoringRecommender]:
    return MODELS[request.param]


@pytest.fixture
def model(make_model: Callable[[], ScoringRecommender], board: Interactions) -> ScoringRecommender:
    return make_model().fit(board)
