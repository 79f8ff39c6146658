"""Recommender core: models, metrics and the evaluation harness (numpy/scipy only).

No web, database or dataframe imports: services load interactions from the store, build an
:class:`Interactions`, fit a model and keep it. ``als`` imports ``implicit`` when fitted.
"""

from shopkeeper.recsys.base import Recommender, ScoringRecommender
from shopkeeper.recsys.interactions import Interactions

__all__ = ["Interactions", "Recommender", "ScoringRecommender"]
