"""Known answers for the clustering core: separated blobs are found exactly, k is right."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from shopkeeper.personas.clustering import (
    ClusteringConfig,
    Scaler,
    adjusted_rand,
    feature_weights,
    fit_clusters,
)


def blobs(
    k: int, per: int, dims: int, seed: int, spread: float = 0.3
) -> tuple[np.ndarray, np.ndarray]:
    """``k`` tight Gaussian blobs on the corners of a simplex-ish layout, on mixed scales."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 5, (k, dims))
    truth = np.repeat(np.arange(k), per)
    x = centres[truth] + rng.normal(0, spread, (k * per, dims))
    x[:, 0] *= 1000  # a money-like column on another scale: scaling must not let it dominate
    return x, truth


@pytest.mark.parametrize("method", ["kmeans", "gmm", "auto"])
def test_well_separated_blobs_are_recovered_with_the_true_k(method: str) -> None:
    x, truth = blobs(k=4, per=60, dims=5, seed=1)
    fit = fit_clusters(
        x, ClusteringConfig(method=method, k_max=8, bootstrap_rounds=3), np.random.default_rng(0)
    )
    assert fit.k == 4
    assert adjusted_rand(truth, fit.labels) == pytest.approx(1.0)
    assert fit.stability == pytest.approx(1.0)
    assert len(fit.stability_rounds) == 3
    assert set(fit.k_scores) == set(range(2, 9))


def test_fixed_k_labels_by_size_and_predict_agrees() -> None:
    rng = np.random.default_rng(3)
    x = np.vstack(
        [rng.normal(0, 0.2, (50, 3)), rng.normal(6, 0.2, (20, 3)), rng.normal(-6, 0.2, (35, 3))]
    )
    fit = fit_clusters(x, ClusteringConfig(method="kmeans", k=3, bootstrap_rounds=0), rng)
    assert np.bincount(fit.labels).tolist() == [50, 35, 20]  # 0 is the largest
    assert fit.k_scores == {}
    assert fit.stability is None
    assert (fit.predict(x) == fit.labels).all()


def test_gmm_predict_uses_the_mixture() -> None:
    x, truth = blobs(k=3, per=40, dims=4, seed=5)
    fit = fit_clusters(
        x, ClusteringConfig(method="gmm", k=3, bootstrap_rounds=0), np.random.default_rng(1)
    )
    assert fit.method == "gmm"
    assert fit.variances is not None
    assert fit.weights is not None
    assert adjusted_rand(truth, fit.predict(x)) == pytest.approx(1.0)


def test_same_seed_same_clusters() -> None:
    x, _ = blobs(k=3, per=30, dims=3, seed=2, spread=2.0)
    config = ClusteringConfig(method="kmeans", bootstrap_rounds=2)
    a = fit_clusters(x, config, np.random.default_rng(9))
    b = fit_clusters(x, config, np.random.default_rng(9))
    assert (a.labels == b.labels).all()
    assert a.stability == b.stability


def test_scaler_leaves_constant_columns_finite() -> None:
    x = np.array([[1.0, 5.0], [3.0, 5.0]])
    z = Scaler.fit(x).transform(x)
    assert z.tolist() == [[-1.0, 0.0], [1.0, 0.0]]


def noisy_blobs(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Three groups apart on four columns, plus three columns of pure Gaussian noise."""
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(3), 80)
    centres = np.array([[0, 0, 0, 0], [2.5, 2.5, 0, 0], [0, 0, 2.5, 2.5]], dtype=np.float64)
    signal = centres[truth] + rng.normal(0, 1.0, (240, 4))
    return np.column_stack([signal, rng.normal(0, 1, (240, 3))]), truth


def test_feature_weights_go_to_the_columns_with_cluster_structure() -> None:
    x, _ = noisy_blobs(4)
    z = Scaler.fit(x).transform(x)
    w = feature_weights(z, [2, 3, 4], bound=2.0, n_init=5, rng=np.random.default_rng(0))
    assert w.mean() == pytest.approx(1.0)
    assert w[:4].min() > 1.0
    assert w[4:].max() < 0.1
    unbounded = feature_weights(z, [3], bound=100.0, n_init=5, rng=np.random.default_rng(0))
    assert (unbounded > 0).all()  # a bound that does not bind drops nothing


def test_feature_weights_survive_fewer_distinct_rows_than_clusters() -> None:
    """Empty clusters add nothing (and no NumPy warning about the mean of an empty slice)."""
    z = np.vstack([np.zeros((10, 2)), [[1.0, 1.0]]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # fewer distinct points than k
        warnings.simplefilter("error", RuntimeWarning)
        w = feature_weights(z, [5], bound=1.2, n_init=2, rng=np.random.default_rng(0))
    assert np.isfinite(w).all()


def test_fit_blends_learned_and_equal_weights() -> None:
    x, truth = noisy_blobs(5)
    fit = fit_clusters(
        x, ClusteringConfig(method="kmeans", k=3, bootstrap_rounds=0), np.random.default_rng(0)
    )
    assert fit.scaler.weight is not None
    assert fit.scaler.weight[4:].max() < 0.75  # 0.3 x (near 0) + 0.7: kept, but down-weighted
    assert fit.scaler.weight[4:].min() >= 0.7
    assert fit.scaler.weight[:4].min() > 1.0
    assert adjusted_rand(truth, fit.labels) > 0.8
    assert (fit.predict(x) == fit.labels).all()
    equal = fit_clusters(
        x,
        ClusteringConfig(method="kmeans", k=3, bootstrap_rounds=0, sparsity=None),
        np.random.default_rng(0),
    )
    assert equal.scaler.weight is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "dbscan"}, "method"),
        ({"k": 1}, "k must"),
        ({"k_min": 5, "k_max": 3}, "k_min"),
        ({"sparsity": 0.5}, "sparsity"),
        ({"weight_blend": 1.5}, "weight_blend"),
    ],
)
def test_bad_config_is_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ClusteringConfig(**kwargs)  # type: ignore[arg-type]


def test_too_few_rows_or_non_finite_values_are_refused() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="at least"):
        fit_clusters(np.zeros((2, 2)), ClusteringConfig(), rng)
    with pytest.raises(ValueError, match="finite"):
        fit_clusters(np.array([[np.nan, 1.0]] * 5), ClusteringConfig(), rng)
