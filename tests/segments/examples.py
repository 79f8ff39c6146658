"""The issue's example rules, as data: shared by the validation and evaluator tests."""

from __future__ import annotations

from typing import Any

VIEWS: dict[str, Any] = {
    "all": [
        {"field": "kind", "op": "=", "value": "product_viewed"},
        {"field": "category", "op": "under", "value": "kids/toddler"},
    ]
}
TODDLER_PREMIUM = {
    "all": [
        {"count": {"where": VIEWS, "within": {"days": 14}}, "op": ">=", "value": 4},
        {
            "share": {
                "where": {"field": "price_tier", "op": "=", "value": "premium"},
                "of": VIEWS,
                "within": {"days": 14},
            },
            "op": ">=",
            "value": 0.5,
        },
    ]
}
LAPSED_LOYAL = {
    "all": [
        {
            "count": {
                "where": {"field": "kind", "op": "=", "value": "order_completed"},
                "within": {"days": 90},
            },
            "op": "=",
            "value": 0,
        },
        {"field": "rfm_segment", "op": "in", "value": ["Loyal", "Champions"]},
    ]
}
FIRST_VISIT_PAID_SOCIAL = {
    "all": [
        {"field": "first_visit", "op": "=", "value": True},
        {"field": "source", "op": "=", "value": "paid_social"},
    ]
}
