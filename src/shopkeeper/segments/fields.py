"""The fields a segment rule may name, each with a type: the rule language's vocabulary.

Two scopes. **Profile** fields describe one customer (traits, computed values such as tenure,
RFM and CLV, affinities); a rule compares them directly. **Event** fields describe one event;
they appear only inside an aggregate's ``where`` filter ("count events where kind = ...").

New traits plug in by registering a field: the validator, the real-time evaluator (a key of
:class:`~shopkeeper.segments.realtime.ProfileFacts`) and the batch evaluator (a column of the
``customers`` table) all read names from here, so nothing else changes::

    registry = default_registry()
    registry.register(Field("churn_risk", "number", "profile", "Predicted 90-day churn."))

Families cover open-ended names: ``affinity.category.<name>`` is any category's affinity share
(``affinity.category.kids``). Pure module: no web, database or dataframe imports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

#: ``number``: int or float. ``integer``: int (compared with any number). ``string``: text.
#: ``path``: slash-separated category path, also usable with ``under``. ``boolean``: true/false.
FieldType = Literal["number", "integer", "string", "path", "boolean"]
Scope = Literal["profile", "event"]

#: Family suffixes: letters, digits and ``_ - / & space`` (no dots, quotes or control characters).
_SUFFIX = re.compile(r"[\w\-/& ]{1,200}")


@dataclass(frozen=True, slots=True)
class Field:
    """One usable field. ``name`` is also the batch column name and the real-time key."""

    name: str
    type: FieldType
    scope: Scope
    description: str = ""


@dataclass(frozen=True, slots=True)
class Family:
    """Open-ended profile fields sharing a prefix: ``affinity.category.`` + any category."""

    prefix: str
    type: FieldType
    description: str = ""


class FieldRegistry:
    """Known fields by scope, plus families of profile fields. Mutable until handed out."""

    def __init__(self) -> None:
        self._fields: dict[tuple[Scope, str], Field] = {}
        self._families: list[Family] = []

    def register(self, field: Field) -> None:
        """Add (or replace) a field, e.g. a trait computed by a new analytics job."""
        self._fields[(field.scope, field.name)] = field

    def register_family(self, family: Family) -> None:
        self._families.append(family)

    def resolve(self, name: str, scope: Scope) -> Field | None:
        """The field called ``name`` in ``scope``, or None when the name is unknown."""
        found = self._fields.get((scope, name))
        if found is not None or scope != "profile":
            return found
        for family in self._families:
            suffix = name.removeprefix(family.prefix)
            if suffix != name and _SUFFIX.fullmatch(suffix):
                return Field(name, family.type, "profile", family.description)
        return None

    def names(self, scope: Scope) -> list[str]:
        """Registered names in ``scope`` (families shown as ``prefix<name>``), sorted."""
        names = [name for (s, name) in self._fields if s == scope]
        if scope == "profile":
            names += [f"{family.prefix}<name>" for family in self._families]
        return sorted(names)

    def suggest(self, name: str, scope: Scope) -> str | None:
        """The closest known name, for "did you mean" hints (typos such as ``categroy``)."""
        import difflib

        close = difflib.get_close_matches(name, self.names(scope), n=1, cutoff=0.75)
        return close[0] if close else None


PROFILE_FIELDS: tuple[Field, ...] = (
    Field("tenure", "string", "profile", "newcomer, returning or regular."),
    Field("first_visit", "boolean", "profile", "True during the customer's first session."),
    Field("sessions", "integer", "profile", "Sessions so far."),
    Field("orders", "integer", "profile", "Completed orders."),
    Field("revenue", "number", "profile", "Completed order revenue net of refunds."),
    Field("aov", "number", "profile", "Average order value."),
    Field("days_since_first_seen", "number", "profile", "Days since first seen."),
    Field("days_since_last_order", "number", "profile", "Days since the last order (unset: none)."),
    Field("rfm_segment", "string", "profile", "RFM segment name (Champions, Loyal, ...)."),
    Field("rfm_r", "integer", "profile", "RFM recency score 1-5."),
    Field("rfm_f", "integer", "profile", "RFM frequency score 1-5."),
    Field("rfm_m", "integer", "profile", "RFM monetary score 1-5."),
    Field("clv", "number", "profile", "Predicted customer lifetime value."),
    Field("p_alive", "number", "profile", "Probability the customer is still active (BG/NBD)."),
    Field("persona", "string", "profile", "Persona name under the current persona model."),
    Field("source", "string", "profile", "Traffic source of the current session."),
    Field("medium", "string", "profile", "Traffic medium of the current session."),
    Field("campaign", "string", "profile", "Campaign of the current session."),
    Field(
        "channel",
        "string",
        "profile",
        "Traffic channel of the current session (paid_social, organic, email, ...).",
    ),
    Field(
        "first_channel", "string", "profile", "Traffic channel of the first visit (acquisition)."
    ),
    Field("device_type", "string", "profile", "Device class of the current session."),
    Field("country", "string", "profile", "Country of the current session."),
    Field("email_consent", "boolean", "profile", "E-mail marketing consent in force."),
)

PROFILE_FAMILIES: tuple[Family, ...] = (
    Family("affinity.category.", "number", "Share of interest in a top-level category."),
    Family("affinity.category_path.", "number", "Share of interest in a full category path."),
    Family("affinity.brand.", "number", "Share of interest in a brand."),
    Family("affinity.price_tier.", "number", "Share of interest in a price tier."),
)

#: Event fields; the same names are the attributes of ``EventFacts`` and the ``events`` columns.
EVENT_FIELDS: tuple[Field, ...] = (
    Field("kind", "string", "event", "Event kind: product_viewed, order_completed, ..."),
    Field("category", "path", "event", "Category path of the event's product."),
    Field("brand", "string", "event", "Brand of the event's product."),
    Field("price_tier", "string", "event", "Price tier of the event's product."),
    Field("sku", "string", "event", "The product's SKU."),
    Field("source", "string", "event", "Traffic source."),
    Field("medium", "string", "event", "Traffic medium."),
    Field("campaign", "string", "event", "Campaign."),
    Field(
        "traffic_channel",
        "string",
        "event",
        "Traffic channel the event shows (events.traffic_channel; unset: internal navigation).",
    ),
    Field("device_type", "string", "event", "Device class."),
    Field("country", "string", "event", "Country."),
    Field("value", "number", "event", "Monetary value (order total, product price)."),
    Field("query", "string", "event", "Search query."),
)


def default_registry() -> FieldRegistry:
    """A fresh registry with the built-in fields (callers may register more)."""
    registry = FieldRegistry()
    for field in (*PROFILE_FIELDS, *EVENT_FIELDS):
        registry.register(field)
    for family in PROFILE_FAMILIES:
        registry.register_family(family)
    return registry


#: The shared default, used when no registry is passed. Treat as read-only.
DEFAULT_REGISTRY = default_registry()
