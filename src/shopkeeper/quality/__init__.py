"""Data-quality scorecard: completeness, validity, uniqueness, timeliness, consistency and
volume anomalies of every table, as scores and findings with examples.

Surfaces: ``shopkeeper quality`` and ``GET /v1/quality``.
"""
