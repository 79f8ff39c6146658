"""Cluster analysis and personas: behavioural features, clusters, and cards in words.

``features`` (the feature list and its Ibis expression), ``clustering`` and ``cards`` (pure
maths), ``repository``, ``service``, ``endpoints`` and ``commands`` as in every domain.
"""
