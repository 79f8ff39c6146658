"""BG/NBD and Gamma-Gamma: the CDNOW golden numbers, lifetimes as oracle, CLV intervals."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

from shopkeeper.analytics import clv
from shopkeeper.errors import Invalid

# Fader, Hardie & Lee (2005a) table / the brief: CDNOW sample, calibration to 1997-09-30, weeks.
BGNBD_GOLDEN = {"r": 0.2426, "alpha": 4.4136, "a": 0.7929, "b": 2.4259}
GAMMA_GAMMA_GOLDEN = {"p": 6.2488, "q": 3.7446, "v": 15.4477}


def lifetimes_fitters() -> Any:
    module = pytest.importorskip("lifetimes")
    return module


@pytest.fixture
def fits(lifetimes_summary: pd.DataFrame) -> tuple[clv.Fit[clv.BgNbdParams], clv.Fit[Any]]:
    s = lifetimes_summary
    repeat = s[s.frequency > 0]
    return (
        clv.fit_bgnbd(s.frequency, s.recency, s["T"]),
        clv.fit_gamma_gamma(repeat.frequency, repeat.monetary_value),
    )


@pytest.mark.realdata
def test_cdnow_golden_parameters(fits: tuple[Any, Any]) -> None:
    bgnbd, gamma_gamma = fits
    assert bgnbd.converged
    assert gamma_gamma.converged
    for name, expected in BGNBD_GOLDEN.items():
        assert getattr(bgnbd.params, name) == pytest.approx(expected, rel=1e-3), name
    for name, expected in GAMMA_GAMMA_GOLDEN.items():
        assert getattr(gamma_gamma.params, name) == pytest.approx(expected, rel=1e-3), name
    assert bgnbd.log_likelihood == pytest.approx(-9582.43, abs=0.01)  # FHL 2005a reports -9582.4


@pytest.mark.realdata
def test_cdnow_matches_lifetimes(lifetimes_summary: pd.DataFrame, fits: tuple[Any, Any]) -> None:
    lifetimes = lifetimes_fitters()
    s = lifetimes_summary
    repeat = s[s.frequency > 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bg = lifetimes.BetaGeoFitter().fit(s.frequency, s.recency, s["T"])
        gg = lifetimes.GammaGammaFitter().fit(repeat.frequency, repeat.monetary_value)
    bgnbd, gamma_gamma = fits
    np.testing.assert_allclose(bgnbd.params.as_array(), bg.params_.to_numpy(), rtol=1e-5)
    np.testing.assert_allclose(gamma_gamma.params.as_array(), gg.params_.to_numpy(), rtol=1e-5)

    # Same parameters in both: the per-customer formulas must agree to 1e-6.
    theirs = clv.BgNbdParams(*bg.params_.to_numpy())
    args = (s.frequency, s.recency, s["T"])
    np.testing.assert_allclose(
        clv.expected_purchases(theirs, 39.0, *args),
        bg.conditional_expected_number_of_purchases_up_to_time(39.0, *args),
        rtol=0,
        atol=1e-6,
    )
    np.testing.assert_allclose(
        clv.probability_alive(theirs, *args),
        bg.conditional_probability_alive(*args),
        rtol=0,
        atol=1e-6,
    )
    assert clv.bgnbd_log_likelihood(theirs, *args).sum() == pytest.approx(-9582.43, abs=0.01)
    # With each side's own fit they differ only by the optimisers' stopping points
    # (at most ~1e-6 on a customer expecting 20.7 purchases).
    np.testing.assert_allclose(
        clv.expected_purchases(bgnbd.params, 39.0, *args),
        bg.conditional_expected_number_of_purchases_up_to_time(39.0, *args),
        rtol=1e-7,
        atol=1e-6,
    )
    np.testing.assert_allclose(
        clv.expected_average_spend(gamma_gamma.params, s.frequency, s.monetary_value),
        gg.conditional_expected_average_profit(s.frequency, s.monetary_value),
        rtol=1e-6,
    )
    ours = clv.customer_lifetime_value(
        bgnbd, gamma_gamma, *args, s.monetary_value, periods_per_month=4.345
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs_clv = gg.customer_lifetime_value(
            bg, *args, s.monetary_value, time=12, discount_rate=0.01, freq="W"
        )
    np.testing.assert_allclose(ours.clv, theirs_clv.to_numpy(), rtol=1e-5)


@pytest.mark.realdata
def test_clv_interval_delta_agrees_with_monte_carlo(
    lifetimes_summary: pd.DataFrame, fits: tuple[Any, Any]
) -> None:
    s = lifetimes_summary.iloc[:400]
    args = (s.frequency, s.recency, s["T"], s.monetary_value)
    delta = clv.customer_lifetime_value(*fits, *args)
    monte_carlo = clv.customer_lifetime_value(*fits, *args, draws=400, rng=np.random.default_rng(7))
    assert np.array_equal(delta.clv, monte_carlo.clv)
    assert np.all(delta.lower < delta.clv)
    assert np.all(delta.clv < delta.upper)
    width_delta = delta.upper - delta.lower
    width_mc = monte_carlo.upper - monte_carlo.lower
    assert np.median(np.abs(width_delta / width_mc - 1)) < 0.15
    assert delta.level == 0.9


def test_expected_spend_known_answer() -> None:
    params = clv.GammaGammaParams(p=6.0, q=4.0, v=15.0)
    # Population mean p v / (q - 1) = 30; a customer with x = 2, m = 50 has weight 12 / 15.
    got = clv.expected_average_spend(params, [0.0, 2.0], [0.0, 50.0])
    np.testing.assert_allclose(got, [30.0, 0.2 * 30 + 0.8 * 50])


def test_probability_alive_known_answer() -> None:
    params = clv.BgNbdParams(r=1.0, alpha=1.0, a=1.0, b=3.0)
    # x = 1, t_x = 1, T = 3: odds dead = (a / b) * ((alpha+T)/(alpha+t_x))^(r+x) = 4/3.
    got = clv.probability_alive(params, [0.0, 1.0], [0.0, 1.0], [3.0, 3.0])
    np.testing.assert_allclose(got, [1.0, 1 / (1 + 4 / 3)])


SIMULATED = clv.BgNbdParams(r=0.5, alpha=5.0, a=1.5, b=4.0)


@pytest.fixture(scope="module")
def simulated() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """20,000 customers drawn from the BG/NBD process over 52 weeks."""
    rng = np.random.default_rng(42)
    n, horizon = 20_000, 52.0
    lam = rng.gamma(SIMULATED.r, 1 / SIMULATED.alpha, n)
    p = rng.beta(SIMULATED.a, SIMULATED.b, n)
    x, tx = np.zeros(n), np.zeros(n)
    for i in range(n):  # after each purchase the customer drops out with probability p
        t = 0.0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > horizon:
                break
            x[i], tx[i] = x[i] + 1, t
            if rng.random() < p[i]:
                break
    return x, tx, np.full(n, horizon)


def test_fit_recovers_simulated_parameters(simulated: tuple[np.ndarray, ...]) -> None:
    fit = clv.fit_bgnbd(*simulated)
    np.testing.assert_allclose(fit.params.as_array(), SIMULATED.as_array(), rtol=0.15)


def test_warm_start_reaches_the_same_optimum(
    simulated: tuple[np.ndarray, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    cold = clv.fit_bgnbd(*simulated)
    monkeypatch.setattr(clv, "WARM_START_ABOVE", 2_000)
    warm = clv.fit_bgnbd(*simulated)
    np.testing.assert_allclose(warm.params.as_array(), cold.params.as_array(), rtol=1e-5)
    assert warm.log_likelihood == pytest.approx(cold.log_likelihood, abs=1e-6)


@pytest.mark.parametrize(
    ("frequency", "recency", "T"),
    [
        ([1.0], [5.0], [4.0]),
        ([0.0], [1.0], [4.0]),
        ([-1.0], [0.0], [4.0]),
        ([1.0], [np.nan], [4.0]),
    ],
)
def test_rejects_impossible_summaries(
    frequency: list[float], recency: list[float], T: list[float]
) -> None:
    with pytest.raises(Invalid):
        clv.probability_alive(clv.BgNbdParams(1, 1, 1, 1), frequency, recency, T)


def test_rejects_bad_fit_inputs() -> None:
    with pytest.raises(Invalid):
        clv.fit_bgnbd([0.0, 0.0], [0.0, 0.0], [3.0, 4.0])
    with pytest.raises(Invalid):
        clv.fit_gamma_gamma([1.0, 2.0], [10.0, 0.0])
    with pytest.raises(Invalid):
        clv.expected_average_spend(clv.GammaGammaParams(1, 0.5, 1), [1.0], [1.0])


def test_a_degenerate_sample_fits_without_overflow() -> None:
    """Two repeat customers: the likelihood climbs towards q → ∞; the fit stays finite (a
    line search into exp overflow used to raise under ``-W error``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = clv.fit_gamma_gamma([2.0, 2.0], [25.0, 75.0])
    assert all(np.isfinite([fit.params.p, fit.params.q, fit.params.v]))
