"""Batch importers of a shop's history: ``shopkeeper import FORMAT PATH…``.

Every format is parsed into the same chunked shape (:class:`~shopkeeper.imports.batch.Batch`)
and written through the same services as live events, so an imported order and an order from
``Order Completed`` are indistinguishable.
"""
