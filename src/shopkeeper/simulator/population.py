"""Simulated customers: persona, demographics, consent, devices, and hidden preferences.

Within a persona customers differ as real ones do: category and tier preferences are drawn per
customer, and so is a purchase-frequency multiplier (``frequency``, Gamma with mean 1, see
:data:`~shopkeeper.simulator.personas.FREQUENCY_SHAPE`) that scales their visit rates.

Only a share of customers gave a salutation (40%) or a birthday (30%); the rest have ``None``
there, and identify calls leave those traits out, as a real shop's would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from shopkeeper.simulator.catalog import LEAVES
from shopkeeper.simulator.personas import (
    FREQUENCY_SHAPE,
    INFLUENCER_SHARE,
    PERSONA_NAMES,
    PERSONAS,
    PersonaTable,
    draw_cdf,
)

PARENT = PERSONA_NAMES.index("parent")
DEAL_SEEKER = PERSONA_NAMES.index("deal_seeker")

#: (country, city, locale, weight)
LOCATIONS = (
    ("DE", "Berlin", "de-DE", 14),
    ("DE", "Hamburg", "de-DE", 8),
    ("DE", "Munich", "de-DE", 8),
    ("DE", "Cologne", "de-DE", 6),
    ("AT", "Vienna", "de-AT", 7),
    ("AT", "Graz", "de-AT", 2),
    ("CH", "Zurich", "de-CH", 4),
    ("NL", "Amsterdam", "nl-NL", 6),
    ("NL", "Utrecht", "nl-NL", 2),
    ("FR", "Paris", "fr-FR", 7),
    ("FR", "Lyon", "fr-FR", 3),
    ("BE", "Brussels", "fr-BE", 3),
)
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
AGE_LOW = (18, 25, 35, 45, 55, 65)
FIRST_NAMES = {
    "f": ("Anna", "Lena", "Marie", "Sophie", "Emma", "Julia", "Clara", "Léa", "Sanne", "Nora"),
    "m": ("Lukas", "Jonas", "Paul", "Felix", "Max", "Louis", "Daan", "Noah", "Elias", "Tom"),
    "x": ("Alex", "Sam", "Robin", "Kim", "Charlie"),
}
LAST_NAMES = (
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Dubois",
    "Martin",
    "de Vries",
    "Jansen",
    "Bauer",
    "Huber",
    "Keller",
    "Laurent",
)
SALUTATIONS = {"f": "Ms", "m": "Mr", "x": "Mx"}
USER_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
)
SALUTATION_SHARE = 0.4
BIRTHDAY_SHARE = 0.3
NEW_CUSTOMER_SHARE = 0.35


@dataclass
class Population:
    """Customers as parallel arrays (index = customer) plus per-customer prebuilt dicts."""

    persona: np.ndarray
    influencer: np.ndarray
    frequency: np.ndarray  # individual multiplier of the persona's visit rates (mean 1)
    join_day: np.ndarray  # <= 0: known before the simulated period starts
    churn_day: np.ndarray  # first inactive day for lapsing regulars, else a day past the end
    registered: np.ndarray  # has an account (a userId) at the start
    has_loyalty: np.ndarray
    cat_weights: np.ndarray  # customers x leaves
    tier_weights: np.ndarray  # customers x tiers
    cat_cdf: np.ndarray
    tier_cdf: np.ndarray
    consent_email: np.ndarray
    user_ids: list[str]
    loyalty_ids: list[str | None]
    salutations: list[str | None]
    traits: list[dict[str, Any]]  # identify traits the customer gave
    consents: list[dict[str, bool]]
    locations: list[tuple[str, str, str]]
    n_devices: np.ndarray
    anonymous_ids: list[list[str]]
    device_types: list[list[str]]
    ips: list[list[str]]

    def __len__(self) -> int:
        return len(self.persona)


def _uuids(rng: np.random.Generator, count: int) -> list[str]:
    raw = rng.bytes(16 * count).hex()
    out = []
    for i in range(count):
        h = raw[32 * i : 32 * i + 32]
        out.append(f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}")
    return out


def _rows_from(rng: np.random.Generator, alpha: np.ndarray) -> np.ndarray:
    """One Dirichlet draw per row of ``alpha`` (vectorised through gamma variates)."""
    g = rng.gamma(alpha)
    return np.asarray(g / g.sum(axis=1, keepdims=True))


def build_population(
    rng: np.random.Generator, table: PersonaTable, *, customers: int, days: int, start: date
) -> Population:
    """Draw ``customers`` customers; personas in the shares of :data:`PERSONAS`."""
    n = customers
    persona = rng.choice(len(PERSONAS), n, p=table.share)
    influencer = rng.random(n) < INFLUENCER_SHARE
    one_off = table.one_off[persona]
    new = rng.random(n) < np.where(one_off, 0.8, NEW_CUSTOMER_SHARE)
    join_day = np.where(new, rng.integers(0, max(days, 1), n), -rng.integers(30, 1500, n))
    registered = ~new & (rng.random(n) < table.p_registered[persona])
    lapse_at = (days * (0.25 + 0.5 * rng.random(n))).astype(np.int64)
    lapse_at = np.maximum(lapse_at, join_day + 14)
    churn_day = np.where(table.lapsing[persona], lapse_at, days + 10_000)
    has_loyalty = rng.random(n) < table.p_loyalty[persona]

    boost = np.ones((len(PERSONAS), len(LEAVES)))
    for p, persona_def in enumerate(PERSONAS):
        for j, leaf in enumerate(LEAVES):
            boost[p, j] = persona_def.category_boost.get(leaf.split("/")[0], 1.0)
    cat_weights = _rows_from(rng, 0.5 * boost[persona])
    tier_weights = _rows_from(rng, 25.0 * table.tiers[persona])
    cat_cdf = np.cumsum(cat_weights, axis=1)
    cat_cdf[:, -1] = 1.0
    tier_cdf = np.cumsum(tier_weights, axis=1)
    tier_cdf[:, -1] = 1.0

    loc_w = np.array([w for *_, w in LOCATIONS], dtype=np.float64)
    loc = rng.choice(len(LOCATIONS), n, p=loc_w / loc_w.sum())
    gender = rng.choice(3, n, p=[0.5, 0.47, 0.03])
    age_p = np.array([[0.15, 0.3, 0.25, 0.15, 0.1, 0.05], [0.02, 0.45, 0.45, 0.06, 0.01, 0.01]])
    is_parent = (persona == PARENT).astype(np.int64)
    age_band = draw_cdf(np.cumsum(age_p, axis=1)[is_parent], rng.random(n))
    gave_salutation = rng.random(n) < SALUTATION_SHARE
    gave_birthday = rng.random(n) < BIRTHDAY_SHARE
    first_pick = rng.integers(0, 100, n)
    last_pick = rng.integers(0, len(LAST_NAMES), n)
    age_years = np.array(AGE_LOW)[age_band] + rng.integers(0, 7, n)
    birth_offset = rng.integers(0, 365, n)
    consent_personal = rng.random(n) < 0.75
    consent_email = rng.random(n) < np.where(persona == DEAL_SEEKER, 0.85, 0.6)
    consent_ads = rng.random(n) < 0.5
    n_dev = 1 + rng.binomial(2, 0.25, n)
    dev_type = draw_cdf(table.device_cdf[np.repeat(persona, n_dev)], rng.random(n_dev.sum()))
    anon = _uuids(rng, int(n_dev.sum()))
    octets = rng.integers(1, 255, (int(n_dev.sum()), 4))
    octets[:, 0] = rng.choice([31, 37, 46, 62, 77, 78, 80, 84, 85, 91, 92, 93], len(octets))

    user_ids, loyalty_ids, salutations, traits, consents = [], [], [], [], []
    locations, anonymous_ids, device_types, ips = [], [], [], []
    k = 0
    for i in range(n):
        country, city, locale, _ = LOCATIONS[loc[i]]
        g = "fmx"[gender[i]]
        names = FIRST_NAMES[g]
        first = names[first_pick[i] % len(names)]
        last = LAST_NAMES[last_pick[i]]
        uid = f"C{100000 + i}"
        user_ids.append(uid)
        loyalty = f"L{7000000 + i * 7}" if has_loyalty[i] else None
        loyalty_ids.append(loyalty)
        local = f"{first}.{last}".lower().replace(" ", "").replace("ü", "ue").replace("é", "e")
        t: dict[str, Any] = {
            "email": f"{local}.{i}@example.com",
            "first_name": first,
            "last_name": last,
            "locale": locale,
            "address": {"country": country, "city": city},
            "age_band": AGE_BANDS[age_band[i]],
        }
        salutation = SALUTATIONS[g] if gave_salutation[i] else None
        salutations.append(salutation)
        if salutation:
            t["salutation"] = salutation
        if gave_birthday[i]:
            born = start - timedelta(days=int(age_years[i]) * 365 + int(birth_offset[i]))
            t["birthday"] = born.isoformat()
        if loyalty:
            t["loyalty_id"] = loyalty
        traits.append(t)
        consents.append(
            {
                "analytics": True,
                "personalization": bool(consent_personal[i]),
                "email": bool(consent_email[i]),
                "advertising": bool(consent_ads[i]),
            }
        )
        locations.append((country, city, locale))
        m = int(n_dev[i])
        anonymous_ids.append(anon[k : k + m])
        device_types.append([("mobile", "tablet", "desktop")[d] for d in dev_type[k : k + m]])
        ips.append([".".join(map(str, row)) for row in octets[k : k + m].tolist()])
        k += m
    # Drawn last, so adding it left every other draw of a seed as it was.
    frequency = rng.gamma(FREQUENCY_SHAPE, 1 / FREQUENCY_SHAPE, n)
    return Population(
        persona=persona,
        influencer=influencer,
        frequency=frequency,
        join_day=join_day,
        churn_day=churn_day,
        registered=registered,
        has_loyalty=has_loyalty,
        cat_weights=cat_weights,
        tier_weights=tier_weights,
        cat_cdf=cat_cdf,
        tier_cdf=tier_cdf,
        consent_email=consent_email,
        user_ids=user_ids,
        loyalty_ids=loyalty_ids,
        salutations=salutations,
        traits=traits,
        consents=consents,
        locations=locations,
        n_devices=n_dev,
        anonymous_ids=anonymous_ids,
        device_types=device_types,
        ips=ips,
    )
