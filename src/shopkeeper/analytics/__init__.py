"""Customer value analytics: RFM scores and segments, lifetime value, portable summaries.

``rfm`` and ``clv`` are pure maths (numpy/scipy only); ``summary`` holds the Ibis expressions
that run unchanged on DuckDB or Spark, and ``engine`` picks the backend from settings.
"""
