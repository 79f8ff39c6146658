"""Training: versions on disk, the atomic swap, and erasure reaching the next version."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sqlalchemy import select

from shopkeeper.application import Shopkeeper
from shopkeeper.models import Identity
from shopkeeper.recommendations.service import RecommendationService
from shopkeeper.recommendations.training import STAGES
from shopkeeper.recommendations.versions import ModelVersion


def files_of(shop: Shopkeeper, model: ModelVersion) -> list[Path]:
    directory = shop.settings.data_dir / "models" / model.version
    return sorted(p for p in directory.iterdir() if p.is_file())


def links_of(model: ModelVersion, sku: str) -> dict[str, tuple[int, int]]:
    """Stored (non-zero) entries in the item's row and column of each item-item matrix."""
    item = model.index[sku]
    matrices = {
        "also_bought": model.also_bought,
        "bought_together": model.bought_together,
        "for_you": sp.csr_matrix(model.for_you_state["ease.weights"]),
    }
    out = {}
    for name, matrix in matrices.items():
        matrix.eliminate_zeros()
        out[name] = (matrix[item].nnz, matrix[:, item].nnz)
    return out


def test_erased_customer_leaves_no_trace_in_the_next_version(store: Shopkeeper) -> None:
    with store.db.sessions() as session:
        customer_id = session.scalar(
            select(Identity.customer_id).where(Identity.value == "erase-me-user")
        )
    assert customer_id
    before = store.recommendations.train()
    assert links_of(before, "rare-rake")["also_bought"] != (0, 0)
    assert before.bestsellers[before.index["rare-rake"]] == 1

    with store.db.transaction() as session:
        store.privacy.erase(session, "erase-me-user", actor="test")
    after = store.recommendations.train()

    assert after.version != before.version
    for path in files_of(store, after):
        content = path.read_bytes()
        assert customer_id.encode() not in content, path.name
        assert b"erase-me-user" not in content, path.name
    # the rake (only they bought it) is still in the catalogue but linked to nothing
    assert links_of(after, "rare-rake") == {
        "also_bought": (0, 0),
        "bought_together": (0, 0),
        "for_you": (0, 0),
    }
    rake = after.index["rare-rake"]
    assert after.trending[rake] == 0
    assert after.bestsellers[rake] == 0
    assert after.for_you_state["trending.item_scores"][rake] == 0
    assert after.for_you_state["affinity.popularity"][rake] == 0
    # their kettle purchase is gone from the kettle's counts too
    kettle = after.index["kettle"]
    assert after.bestsellers[kettle] == before.bestsellers[kettle] - 1
    assert after.stats["customers"] == before.stats["customers"] - 1


def test_a_reader_during_training_keeps_the_old_version(trained: Shopkeeper) -> None:
    old = trained.recommendations.model().version
    seen: list[tuple[str, str]] = []

    def read_mid_training(stage: str) -> None:
        # a fresh service (no cache) reads the pointer from disk, as another worker would
        version = RecommendationService(trained).recommend("trending").model_version
        seen.append((stage, version))

    new = trained.recommendations.train(on_stage=read_mid_training)
    assert [stage for stage, _ in seen] == list(STAGES)
    assert {version for _, version in seen} == {old}
    assert new.version != old
    assert trained.recommendations.recommend("trending").model_version == new.version


def test_a_failed_training_leaves_the_served_version_alone(trained: Shopkeeper) -> None:
    old = trained.recommendations.model()

    def crash(stage: str) -> None:
        if stage == "save":
            raise RuntimeError("killed mid-training")

    with pytest.raises(RuntimeError):
        trained.recommendations.train(on_stage=crash)
    assert trained.recommendations.model().version == old.version
    assert trained.recommendations.recommend("trending").model_version == old.version


def test_version_round_trips_and_old_versions_are_pruned(trained: Shopkeeper) -> None:
    service = trained.recommendations
    for _ in range(4):
        model = service.train()
    loaded = service.store.load(model.version)
    assert loaded.item_ids == model.item_ids
    assert np.allclose(loaded.trending, model.trending)
    assert (loaded.bought_together != model.bought_together).nnz == 0
    assert (loaded.features != model.features).nnz == 0
    assert loaded.for_you_config == model.for_you_config
    assert loaded.for_you_state.keys() == model.for_you_state.keys()
    for key, value in model.for_you_state.items():
        stored = loaded.for_you_state[key]
        if sp.issparse(value):
            assert (stored != value).nnz == 0, key
        else:
            np.testing.assert_array_equal(stored, value, err_msg=key)
    root = trained.settings.data_dir / "models"
    versions = sorted(p.name for p in root.iterdir() if p.is_dir())
    assert len(versions) == 3
    assert versions[-1] == model.version
    assert (root / "current").read_text() == model.version
