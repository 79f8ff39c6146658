"""Persona shapes: what ``/v1/personas`` returns and ``shopkeeper personas`` prints."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class TraitOut(BaseModel):
    feature: str
    value: float
    population: float
    z: float = Field(description="Standardised difference from the population (in SDs).")
    phrase: str


class PersonaOut(BaseModel):
    """One persona card of a model."""

    id: int = Field(description="Persona number within its model (0 = largest).")
    name: str
    size: int = Field(description="Customers of the persona among those the model was fitted on.")
    share: float = Field(description="``size`` over the customers the model was fitted on.")
    revenue_per_customer: float
    revenue_share: float
    text: str
    traits: list[TraitOut]
    means: dict[str, float]


class PersonaModelOut(BaseModel):
    """A fitted persona model: how it was fitted, how stable it is, and its cards."""

    id: int
    created_at: datetime
    method: str
    k: int
    customers: int = Field(description="Customers assigned a persona.")
    fitted_on: int = Field(description="Customers the clusters were fitted on (enough data).")
    min_sessions: int
    silhouette: float
    stability: float | None = Field(
        description="Mean bootstrap adjusted Rand index (1 = the same clusters on any sample)."
    )
    k_scores: dict[str, float] = Field(description="Silhouette or BIC of each k tried.")
    seed: int
    features: list[str]
    feature_weights: dict[str, float] = Field(
        default_factory=dict,
        description="Weight of each feature in the clustering distance (mean 1; equal weights "
        "are all 1): what shapes the personas most. Empty for models fitted before weighting.",
    )
    personas: list[PersonaOut]


class FitRequest(BaseModel):
    """Options of ``POST /v1/personas/fit``."""

    method: Literal["kmeans", "gmm", "auto"] = "auto"
    k: int | None = Field(None, ge=2, le=20, description="Clusters; unset chooses k.")
    seed: int = 0
    min_sessions: int = Field(
        5, ge=0, le=1000, description="Sessions a customer needs to shape the clusters."
    )
    bootstrap_rounds: int = Field(5, ge=0, le=50)


class MembersOut(BaseModel):
    model_id: int
    persona: str
    total: int
    customers: list[str]


class SavedSegment(BaseModel):
    name: str
    rule: dict[str, str]
