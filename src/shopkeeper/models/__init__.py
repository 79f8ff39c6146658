"""Every ORM model, under one metadata (Alembic reads ``Base.metadata``)."""

from shopkeeper.models.analytics import CustomerScore
from shopkeeper.models.base import Base, new_id
from shopkeeper.models.catalog import Product
from shopkeeper.models.customers import Consent, Customer, Identity, Merge
from shopkeeper.models.events import Event, MessageId, Projection
from shopkeeper.models.keys import SCOPES, ApiKey, AuditEntry
from shopkeeper.models.orders import CHANNELS, STATUSES, Order, OrderLine
from shopkeeper.models.personas import CustomerPersona, PersonaModel
from shopkeeper.models.segments import SEGMENT_KINDS, Segment, SegmentMembership, SegmentSize

__all__ = [
    "CHANNELS",
    "SCOPES",
    "SEGMENT_KINDS",
    "STATUSES",
    "ApiKey",
    "AuditEntry",
    "Base",
    "Consent",
    "Customer",
    "CustomerPersona",
    "CustomerScore",
    "Event",
    "Identity",
    "Merge",
    "MessageId",
    "Order",
    "OrderLine",
    "PersonaModel",
    "Product",
    "Projection",
    "Segment",
    "SegmentMembership",
    "SegmentSize",
    "new_id",
]
