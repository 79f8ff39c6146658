"""Triggers: named behaviours evaluated as events arrive (rules: ``segments/triggers.py``)."""
