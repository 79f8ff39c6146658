"""Recommendations: models trained from the store, served per placement with business rules."""
