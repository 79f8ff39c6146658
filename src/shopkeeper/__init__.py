"""Shopkeeper."""
