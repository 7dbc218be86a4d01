"""solutions.mistakes: each variant reproduces its mistake, and diagnose() names it."""

import math

import numpy as np
import pandas as pd
import pytest

import factordata
import solutions
from solutions import mistakes as M


def test_mistakes_module_is_documented():
    for name in M.__all__:
        obj = getattr(M, name)
        if callable(obj):
            assert obj.__doc__ and "Mistake" in obj.__doc__ or name == "diagnose", name


def slope(y, x):
    y, x = np.asarray(y, float), np.asarray(x, float)
    return np.cov(y, x)[0, 1] / np.var(x, ddof=1)


@pytest.mark.parametrize("freq", ["daily", "monthly"])
def test_raw_return_regressions(freq):
    data = factordata.excess_returns(freq)
    rf = factordata.risk_free(freq)
    r_e, f = data["JPM"], data["MKT"]
    assert rf.index.equals(data.index)
    both_raw = M.beta_on_raw_returns(r_e, f, rf)
    raw_asset = M.beta_on_raw_returns(r_e, f, rf, market="excess")
    assert both_raw == pytest.approx(slope(r_e + rf, f + rf), rel=1e-10)
    assert raw_asset == pytest.approx(slope(r_e + rf, f), rel=1e-10)
    alpha_raw = M.alpha_on_raw_returns(r_e, f, rf)
    assert alpha_raw == pytest.approx((r_e + rf).mean() - both_raw * (f + rf).mean(), rel=1e-9)
    correct = solutions.fit_factor_model(r_e, f)
    assert alpha_raw != pytest.approx(correct.alpha, rel=1e-3)
    with pytest.raises(ValueError, match="market must be one of"):
        M.beta_on_raw_returns(r_e, f, rf, market="total")


@pytest.mark.parametrize(
    "kind, factor",
    [("mean", 12), ("variance", 12), ("vol", math.sqrt(12)), ("sharpe", math.sqrt(12))],
)
def test_annualize_daily_with_12(kind, factor):
    assert M.annualize_daily_with_12(0.0123, kind) == pytest.approx(0.0123 * factor, rel=1e-15)
    with pytest.raises(ValueError, match="kind must be one of"):
        M.annualize_daily_with_12(0.01, "beta")


def test_unit_and_scaling_mistakes():
    assert M.percent_not_decimal(0.0123) == pytest.approx(1.23)
    assert M.annualize_vol_linearly(0.01, 252) == pytest.approx(2.52)
    assert M.annualize_variance_with_sqrt(1e-4, 252) == pytest.approx(1e-4 * math.sqrt(252))
    x = pd.Series([0.01, -0.02, 0.03, np.nan])
    assert M.variance_ddof0(x) == pytest.approx(np.var([0.01, -0.02, 0.03]))
    assert M.variance_ddof0(x) == pytest.approx(x.var() * 2 / 3)
    frame = pd.DataFrame({"a": [0.01, 0.02, -0.01], "b": [0.0, 0.01, 0.03]})
    np.testing.assert_allclose(M.sample_covariance_ddof0(frame), np.cov(frame.to_numpy(), rowvar=False, ddof=0))


def test_risk_budget_mistakes():
    assert M.position_size_without_sqrt(1e6, 0.02, 21) == pytest.approx(1e6 / (0.02 * 21))
    assert M.position_size_with_variance(1e6, 0.02, 21) == pytest.approx(1e6 / (0.0004 * math.sqrt(21)))
    assert M.expected_pnl_not_annualized(1e6, 1e-4, 1.2, 3e-4) == pytest.approx(1e6 * (1e-4 + 1.2 * 3e-4))
    with pytest.raises(ValueError, match="budget must be positive"):
        M.position_size_without_sqrt(0, 0.02, 1)


def test_hedge_and_share_mistakes():
    args = (0.2, 1.5, 1e-4, 4e-4)
    correct = solutions.hedge_for_risk_share(*args)  # -0.5
    assert M.hedge_sign_flipped(*args) == -correct
    assert M.hedge_full_beta(*args) == -1.5
    b2 = 0.2 * 4e-4 / (0.8 * 1e-4)
    assert M.hedge_without_sqrt(*args) == pytest.approx(b2 - 1.5)
    assert M.hedge_without_sqrt(0.9, 0.1, 1e-4, 4e-4) == 0.0  # no hedge needed, like the correct one
    share = solutions.variance_decomposition(1.5, 1e-4, 4e-4).factor_share
    assert M.factor_share_of_vols(1.5, 1e-4, 4e-4) == pytest.approx(math.sqrt(share))
    with pytest.raises(ValueError, match="vbar"):
        M.hedge_full_beta(1.0, 1.5, 1e-4, 4e-4)


def test_covariance_mistakes():
    betas = pd.Series({"A": 1.0, "B": 0.5})
    cov = M.implied_covariance_without_idiosyncratic(betas, 1e-4)
    np.testing.assert_allclose(cov.to_numpy(), np.outer([1.0, 0.5], [1.0, 0.5]) * 1e-4)
    assert M.unrestricted_count_full_matrix(5) == 25
    assert M.unrestricted_count_without_variances(5) == 10
    assert M.factor_count_without_factor_variance(5) == 10
    with pytest.raises(ValueError, match="n must be"):
        M.unrestricted_count_full_matrix(0)


# ------------------------------------------------------------------ diagnose
def test_diagnose_names_the_mistake():
    mean = 0.0004
    candidates = {
        "annualized with 12": M.annualize_daily_with_12(mean, "mean"),
        "percent": M.percent_not_decimal(mean * 252),
        "not annualized": mean,
    }
    reference = solutions.annualize_mean(mean, 252)
    assert M.diagnose(mean * 12, reference, candidates) == "annualized with 12"
    assert M.diagnose(mean * 252 * 100, reference, candidates) == "percent"
    assert M.diagnose(mean, reference, candidates) == "not annualized"
    assert M.diagnose(reference, reference, candidates) is None  # correct
    assert M.diagnose(0.5, reference, candidates) is None  # unknown mistake
    assert M.diagnose(float("nan"), reference, candidates) is None
    assert M.diagnose("abc", reference, candidates) is None


def test_diagnose_order_tolerance_and_shapes():
    cands = {"first": 1.0, "second": 1.0 + 1e-9}
    assert M.diagnose(1.0, 5.0, cands) == "first"  # first match wins
    assert M.diagnose(1.01, 5.0, cands) is None
    assert M.diagnose(1.01, 5.0, cands, rtol=0.02) == "first"
    # a candidate equal to the reference is never reported
    assert M.diagnose(2.0, 5.0, {"same as correct": 5.0, "x2": 2.0}) == "x2"
    # arrays and DataFrames compare elementwise; shapes must match
    ref = np.eye(2)
    assert M.diagnose(np.eye(2) * 2, ref, {"doubled": ref * 2}) == "doubled"
    assert M.diagnose(pd.DataFrame(ref * 2), ref, {"doubled": pd.DataFrame(ref * 2)}) == "doubled"
    assert M.diagnose(np.ones(3), ref, {"doubled": ref * 2}) is None
    with pytest.raises(ValueError, match="candidates must be a mapping"):
        M.diagnose(1.0, 1.0, [1.0])
    with pytest.raises(ValueError, match="rtol must be non-negative"):
        M.diagnose(1.0, 1.0, {}, rtol=-1)


def test_diagnose_is_pure():
    value = np.array([1.0, 2.0])
    cands = {"a": np.array([1.0, 2.0])}
    M.diagnose(value, np.zeros(2), cands)
    assert value.tolist() == [1.0, 2.0] and cands["a"].tolist() == [1.0, 2.0] and list(cands) == ["a"]


def test_diagnose_on_a_real_raw_returns_slip():
    """A student who regressed raw monthly returns gets the raw-returns hint, not a generic one."""
    data = factordata.excess_returns("monthly")
    rf = factordata.risk_free("monthly")
    r_e, f = data["KO"], data["MKT"]
    correct = solutions.fit_factor_model(r_e, f).alpha
    student = solutions.fit_factor_model(r_e + rf, f + rf).alpha  # the slip
    cands = {
        "raw returns (both)": M.alpha_on_raw_returns(r_e, f, rf),
        "raw asset, excess market": M.alpha_on_raw_returns(r_e, f, rf, market="excess"),
        "percent": M.percent_not_decimal(correct),
    }
    assert M.diagnose(student, correct, cands) == "raw returns (both)"
