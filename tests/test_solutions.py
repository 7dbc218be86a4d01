"""solutions: each function against an independent computation, and its input checks.

The independent versions are written out in numpy (closed-form OLS, numpy.cov,
the formulas of the syllabus), so a test fails if solutions and the textbook
formula disagree, not merely if solutions disagrees with itself.
"""

import doctest
import importlib
import math
import pkgutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import solutions
from solutions import (
    FactorFit,
    VarianceDecomposition,
    alpha_pnl,
    annualize_mean,
    annualize_variance,
    annualize_vol,
    expected_pnl,
    fit_factor_model,
    hedge_for_risk_share,
    hedged_returns,
    implied_covariance,
    parameter_counts,
    position_size,
    residual_correlation,
    sample_covariance,
    sharpe_ratio,
    tracking_returns,
    variance_decomposition,
)

CONTRACT = [
    "FactorFit", "fit_factor_model", "tracking_returns", "hedged_returns",
    "annualize_mean", "annualize_variance", "annualize_vol", "sharpe_ratio",
    "position_size", "expected_pnl", "alpha_pnl",
    "VarianceDecomposition", "variance_decomposition", "hedge_for_risk_share",
    "implied_covariance", "parameter_counts", "FiveTickerReport", "five_ticker_report",
    "mistakes",
]


def closed_form_ols(y, x):
    """Textbook simple regression: estimates, classical standard errors, t-stats, R^2."""
    y, x = np.asarray(y, float), np.asarray(x, float)
    n = len(y)
    sxx = np.sum((x - x.mean()) ** 2)
    beta = np.sum((x - x.mean()) * (y - y.mean())) / sxx
    alpha = y.mean() - beta * x.mean()
    e = y - alpha - beta * x
    s2 = np.sum(e**2) / (n - 2)
    se_beta = math.sqrt(s2 / sxx)
    se_alpha = math.sqrt(s2 * (1 / n + x.mean() ** 2 / sxx))
    r2 = 1 - np.sum(e**2) / np.sum((y - y.mean()) ** 2)
    return dict(alpha=alpha, beta=beta, resid=e, se_alpha=se_alpha, se_beta=se_beta,
                tstat_alpha=alpha / se_alpha, tstat_beta=beta / se_beta, r2=r2)


@pytest.fixture
def pair():
    rng = np.random.default_rng(7)
    idx = pd.bdate_range("2020-01-01", periods=300, name="Date")
    f = pd.Series(rng.normal(0.0004, 0.01, len(idx)), idx, name="MKT")
    r_e = pd.Series(0.0002 + 1.3 * f.to_numpy() + rng.normal(0, 0.015, len(idx)), idx, name="XYZ")
    return r_e, f


# ------------------------------------------------------------------ the package
def test_contract_names_are_exported():
    for name in CONTRACT:
        assert hasattr(solutions, name), name
    assert set(CONTRACT) <= set(solutions.__all__)
    for name in solutions.__all__:
        assert getattr(solutions, name) is not None


def test_statsmodels_is_imported_by_the_first_fit_not_by_the_import():
    """Chapter 5 builds in seconds because it never pays for statsmodels' import."""
    code = ("import sys, numpy as np, solutions\n"
            "before = 'statsmodels' in sys.modules\n"
            "solutions.implied_covariance(np.array([1.0, 0.5]), 0.04, np.array([0.01, 0.02]))\n"
            "solutions.ledoit_wolf_covariance(np.random.default_rng(0).normal(size=(30, 3)))\n"
            "middle = 'statsmodels' in sys.modules\n"
            "solutions.fit_factor_model([0.01, 0.02, -0.01, 0.03], [0.02, 0.01, -0.02, 0.02])\n"
            "print(before, middle, 'statsmodels' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False", "True"]


def _modules():
    names = ["solutions"] + [f"solutions.{m.name}" for m in pkgutil.iter_modules(solutions.__path__)]
    return [importlib.import_module(n) for n in names]


@pytest.mark.parametrize("module", _modules(), ids=lambda m: m.__name__)
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_every_public_function_has_numpy_docstring():
    for name in solutions.__all__:
        obj = getattr(solutions, name)
        if callable(obj) and not isinstance(obj, type):
            doc = obj.__doc__ or ""
            assert "Parameters" in doc and "Returns" in doc, name
            assert "Examples" in doc, name


# ------------------------------------------------------------------ fit_factor_model
def test_fit_matches_closed_form(pair):
    r_e, f = pair
    fit = fit_factor_model(r_e, f)
    ref = closed_form_ols(r_e, f)
    assert isinstance(fit, FactorFit)
    for key in ["alpha", "beta", "se_alpha", "se_beta", "tstat_alpha", "tstat_beta", "r2"]:
        assert getattr(fit, key) == pytest.approx(ref[key], rel=1e-10), key
    np.testing.assert_allclose(fit.resid.to_numpy(), ref["resid"], atol=1e-15)
    assert fit.var_e == pytest.approx(np.var(ref["resid"], ddof=1), rel=1e-12)
    assert fit.var_f == pytest.approx(np.var(f.to_numpy(), ddof=1), rel=1e-14)
    assert fit.mu_f == pytest.approx(f.to_numpy().mean(), rel=1e-14)
    assert fit.nobs == len(f) and isinstance(fit.nobs, int)
    assert fit.resid.index.equals(r_e.index) and fit.fitted.index.equals(r_e.index)
    np.testing.assert_allclose((fit.fitted + fit.resid).to_numpy(), r_e.to_numpy(), atol=1e-16)
    assert fit.name == "XYZ"
    for key in ["alpha", "beta", "var_e", "r2", "var_f", "mu_f", "se_beta"]:
        assert type(getattr(fit, key)) is float, key


def test_fit_exposes_statsmodels_result_and_summary(pair):
    fit = fit_factor_model(*pair)
    assert fit.result.params["const"] == fit.alpha
    assert fit.result.params["MKT"] == fit.beta
    text = fit.summary()
    assert isinstance(text, str) and "alpha" in text and "beta" in text and "XYZ" in text
    assert f"{fit.beta:.6g}" in text
    assert "beta=" in repr(fit)


def test_fit_is_frozen(pair):
    fit = fit_factor_model(*pair)
    with pytest.raises(AttributeError):
        fit.beta = 1.0


def test_fit_robust_standard_errors_change_only_the_errors(pair):
    plain = fit_factor_model(*pair)
    hac = fit_factor_model(*pair, cov_type="HAC", cov_kwds={"maxlags": 5})
    assert hac.alpha == plain.alpha and hac.beta == plain.beta and hac.var_e == plain.var_e
    assert hac.se_beta != plain.se_beta


def test_fit_rejects_bad_cov_type(pair):
    with pytest.raises(ValueError, match="cov_type='HAC'.*maxlags"):
        fit_factor_model(*pair, cov_type="HAC")
    with pytest.raises(ValueError, match="cov_type='foo'"):
        fit_factor_model(*pair, cov_type="foo")
    with pytest.raises(ValueError, match="cov_type must be a string"):
        fit_factor_model(*pair, cov_type=None)


def test_fit_aligns_dates_and_drops_missing(pair):
    r_e, f = pair
    shifted = f.iloc[10:]  # f starts later
    r_gap = r_e.copy()
    r_gap.iloc[[50, 60]] = np.nan
    fit = fit_factor_model(r_gap, shifted)
    keep = shifted.index.difference(r_e.index[[50, 60]])
    ref = closed_form_ols(r_e.loc[keep], f.loc[keep])
    assert fit.nobs == len(keep) == len(r_e) - 12
    assert fit.beta == pytest.approx(ref["beta"], rel=1e-12)
    assert fit.resid.index.equals(keep)


def test_fit_aligns_on_dates_not_positions(pair):
    r_e, f = pair
    scrambled = f.sample(frac=1.0, random_state=1)
    assert fit_factor_model(r_e, scrambled).beta == pytest.approx(fit_factor_model(r_e, f).beta, rel=1e-12)


def test_fit_accepts_arrays_lists_and_mixed(pair):
    r_e, f = pair
    ref = fit_factor_model(r_e, f)
    assert fit_factor_model(r_e.to_numpy(), f.to_numpy()).beta == pytest.approx(ref.beta, rel=1e-12)
    assert fit_factor_model(list(r_e), list(f)).alpha == pytest.approx(ref.alpha, rel=1e-12)
    mixed = fit_factor_model(r_e, f.to_numpy())
    assert mixed.beta == pytest.approx(ref.beta, rel=1e-12)
    assert mixed.resid.index.equals(r_e.index)
    assert fit_factor_model(r_e.to_frame(), f.to_frame()).beta == pytest.approx(ref.beta, rel=1e-12)


def test_fit_does_not_mutate_inputs(pair):
    r_e, f = pair
    r_e.iloc[3] = np.nan
    before = (r_e.copy(), f.copy())
    arr_y, arr_x = r_e.to_numpy().copy(), f.to_numpy().copy()
    keep_y, keep_x = arr_y.copy(), arr_x.copy()
    fit_factor_model(r_e, f)
    fit_factor_model(arr_y, arr_x)
    hedged_returns(r_e, f, 1.2)
    tracking_returns(f, 1.2)
    pd.testing.assert_series_equal(r_e, before[0])
    pd.testing.assert_series_equal(f, before[1])
    np.testing.assert_array_equal(arr_y, keep_y)
    np.testing.assert_array_equal(arr_x, keep_x)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda y, x: (y.iloc[:2], x), r"at least 3"),
        (lambda y, x: (y * np.nan, x), r"r_e and f need at least 3"),
        (lambda y, x: (y.set_axis(pd.bdate_range("1990-01-01", periods=len(y))), x), r"r_e and f share no dates"),
        (lambda y, x: (y.to_numpy(), x.to_numpy()[:-1]), r"r_e and f must have the same length"),
        (lambda y, x: (y, x * 0 + 0.01), r"f must vary"),
        (lambda y, x: (y.to_frame().assign(b=1.0), x), r"r_e must be a Series or a one-column DataFrame"),
        (lambda y, x: (y, "MKT"), r"f must be a pandas Series or a 1-D array"),
        (lambda y, x: (y, x.astype(object).where(x > 0, "n/a")), r"f must contain numbers"),
        (lambda y, x: (y, pd.concat([x, x.iloc[:1]])), r"f has duplicate index labels"),
        (lambda y, x: (y.where(y > 0, np.inf), x), r"infinite"),
    ],
)
def test_fit_rejects_bad_input(pair, make, match):
    with pytest.raises(ValueError, match=match):
        fit_factor_model(*make(*pair))


def test_fit_accepts_exactly_three_observations():
    fit = fit_factor_model([0.01, 0.03, 0.0], [0.0, 0.01, -0.01])
    assert fit.nobs == 3 and math.isfinite(fit.se_beta)


# ------------------------------------------------------------------ tracking and hedged
def test_tracking_and_hedged_returns(pair):
    r_e, f = pair
    tr = tracking_returns(f, 1.3)
    np.testing.assert_array_equal(tr.to_numpy(), 1.3 * f.to_numpy())
    assert tr.name == "tracking" and tr.index.equals(f.index)
    hd = hedged_returns(r_e, f, 1.3)
    np.testing.assert_array_equal(hd.to_numpy(), r_e.to_numpy() - 1.3 * f.to_numpy())
    assert hd.name == "hedged"
    np.testing.assert_allclose((hd + tr).to_numpy(), r_e.to_numpy(), atol=1e-17)
    assert tracking_returns(np.array([0.01, 0.02]), np.float64(2)).tolist() == [0.02, 0.04]


def test_hedged_returns_align_like_fit(pair):
    r_e, f = pair
    hd = hedged_returns(r_e, f.iloc[5:], 1.0)
    assert hd.index.equals(f.index[5:])
    with pytest.raises(ValueError, match="beta"):
        hedged_returns(r_e, f, np.nan)
    with pytest.raises(ValueError, match="beta"):
        tracking_returns(f, "1.2")


# ------------------------------------------------------------------ annualizing
@pytest.mark.parametrize("h", [252, 12, 52.0])
def test_annualize_scaling(h):
    assert annualize_mean(0.0004, h) == pytest.approx(0.0004 * h, rel=1e-15)
    assert annualize_variance(0.0001, h) == pytest.approx(0.0001 * h, rel=1e-15)
    assert annualize_vol(0.01, h) == pytest.approx(0.01 * math.sqrt(h), rel=1e-15)
    # the vol of the annualized variance is the annualized vol
    assert math.sqrt(annualize_variance(0.01**2, h)) == pytest.approx(annualize_vol(0.01, h), rel=1e-14)
    assert type(annualize_vol(np.float64(0.01), h)) is float


def test_annualize_vectorized_and_pure():
    s = pd.Series([0.01, 0.02], index=["a", "b"])
    out = annualize_vol(s, 252)
    assert isinstance(out, pd.Series) and list(out.index) == ["a", "b"]
    np.testing.assert_allclose(out.to_numpy(), s.to_numpy() * math.sqrt(252))
    assert s.tolist() == [0.01, 0.02]
    np.testing.assert_allclose(annualize_mean(np.array([1.0, 2.0]), 12), [12.0, 24.0])


def test_annualize_covariance_matrix(daily):
    cov = daily[["WMT", "JPM", "MKT"]].cov()
    annual = annualize_variance(cov, 252)
    pd.testing.assert_frame_equal(annual, cov * 252)
    bad = cov.copy()
    bad.iloc[0, 0] = -1.0
    with pytest.raises(ValueError, match="diagonal"):
        annualize_variance(bad, 252)
    with pytest.raises(ValueError, match="var must be non-negative"):
        annualize_variance(pd.DataFrame({"a": [1e-4, -1e-4]}), 12)


def test_sharpe_ratio_matches_formula(pair):
    r_e, _ = pair
    x = r_e.to_numpy()
    expected = x.mean() / x.std(ddof=1) * math.sqrt(252)
    assert sharpe_ratio(r_e, 252) == pytest.approx(expected, rel=1e-13)
    assert sharpe_ratio(x, periods_per_year=252) == pytest.approx(expected, rel=1e-13)
    monthly = sharpe_ratio(r_e, 12)
    assert monthly == pytest.approx(expected * math.sqrt(12 / 252), rel=1e-13)
    with_gap = r_e.copy()
    with_gap.iloc[0] = np.nan
    assert sharpe_ratio(with_gap, 252) == pytest.approx(sharpe_ratio(r_e.iloc[1:], 252), rel=1e-14)
    frame = pd.DataFrame({"a": r_e, "b": -r_e})
    both = sharpe_ratio(frame, 252)
    assert both["a"] == pytest.approx(expected) and both["b"] == pytest.approx(-expected)


def test_hedged_sharpe_is_appraisal_ratio(pair):
    r_e, f = pair
    fit = fit_factor_model(r_e, f)
    appraisal = fit.alpha / math.sqrt(fit.var_e) * math.sqrt(252)
    assert sharpe_ratio(hedged_returns(r_e, f, fit.beta), 252) == pytest.approx(appraisal, rel=1e-10)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: annualize_mean(0.01, 0), "periods_per_year must be positive"),
        (lambda: annualize_mean(0.01, -12), "periods_per_year must be positive"),
        (lambda: annualize_vol(0.01, "daily"), "periods_per_year must be a number"),
        (lambda: annualize_vol(-0.01, 252), "vol must be non-negative"),
        (lambda: annualize_variance(-1e-4, 252), "var must be non-negative"),
        (lambda: annualize_mean(float("nan"), 252), "mean must be finite"),
        (lambda: annualize_mean(0.01, True), "periods_per_year must be a real number"),
        (lambda: sharpe_ratio([0.01], 252), "excess needs at least 2"),
        (lambda: sharpe_ratio([0.01, 0.01, 0.01], 252), "excess must vary"),
        (lambda: sharpe_ratio([0.01, 0.02], None), "periods_per_year"),
    ],
)
def test_annualize_rejects_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_periods_per_year_is_required():
    with pytest.raises(TypeError):
        annualize_mean(0.01)  # no silent default frequency
    with pytest.raises(TypeError):
        sharpe_ratio([0.01, 0.02])


# ------------------------------------------------------------------ risk budgets
@pytest.mark.parametrize("horizon", [1, 21, 252])
def test_position_size(horizon):
    budget, vol = 1_000_000.0, 0.018
    size = position_size(budget, vol, horizon)
    assert size == pytest.approx(budget / (vol * math.sqrt(horizon)), rel=1e-15)
    # by construction the dollar std over the horizon is the budget
    assert size * vol * math.sqrt(horizon) == pytest.approx(budget, rel=1e-14)
    assert type(size) is float


def test_position_size_hedged_is_larger_and_vectorizes():
    vol, resid_vol = 0.02, 0.015
    assert position_size(1e6, resid_vol, 21) > position_size(1e6, vol, 21)
    sizes = position_size(1e6, vol, np.array([1, 21, 252]))
    np.testing.assert_allclose(sizes, 1e6 / (vol * np.sqrt([1, 21, 252])))


def test_expected_and_alpha_pnl():
    size, alpha, beta, mu_f = 2_500_000.0, 0.0001, 1.2, 0.0003
    assert expected_pnl(size, alpha, beta, mu_f, 252) == pytest.approx(size * (alpha + beta * mu_f) * 252)
    assert alpha_pnl(size, alpha, 252) == pytest.approx(size * alpha * 252)
    assert expected_pnl(size, alpha, 0.0, mu_f, 12) == pytest.approx(alpha_pnl(size, alpha, 12))
    assert expected_pnl(-size, alpha, beta, mu_f, 252) == pytest.approx(-expected_pnl(size, alpha, beta, mu_f, 252))


def test_budget_chapter_worked_numbers(daily):
    """Hedged sizing under the same budget buys more alpha (daily inputs, 252)."""
    fit = fit_factor_model(daily["JPM"], daily["MKT"])
    vol = daily["JPM"].std()
    x = position_size(1e6, vol, 21)
    x_e = position_size(1e6, math.sqrt(fit.var_e), 21)
    assert x_e > x
    assert alpha_pnl(x_e, fit.alpha, 252) > alpha_pnl(x, fit.alpha, 252) > 0


@pytest.mark.parametrize(
    "args, match",
    [
        ((0, 0.02, 1), "budget must be positive"),
        ((-1e6, 0.02, 1), "budget must be positive"),
        ((1e6, 0.0, 1), "vol must be positive"),
        ((1e6, -0.02, 1), "vol must be positive"),
        ((1e6, 0.02, 0), "horizon must be positive"),
        ((1e6, 0.02, [1, -21]), "horizon must be positive"),
        ((1e6, float("inf"), 1), "vol must be finite"),
        (("1e6", 0.02, 1), "budget must be a real number"),
    ],
)
def test_position_size_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        position_size(*args)


def test_pnl_rejects_bad_input():
    with pytest.raises(ValueError, match="periods_per_year"):
        expected_pnl(1e6, 0.0001, 1.0, 0.0003, 0)
    with pytest.raises(ValueError, match="mu_f"):
        expected_pnl(1e6, 0.0001, 1.0, None, 252)
    with pytest.raises(ValueError, match="alpha"):
        alpha_pnl(1e6, float("nan"), 252)


# ------------------------------------------------------------------ variance decomposition
def test_variance_decomposition_formula():
    d = variance_decomposition(1.2, 1e-4, 3e-4)
    assert isinstance(d, VarianceDecomposition) and isinstance(d, tuple)
    assert d.factor == pytest.approx(1.44e-4) and d.idiosyncratic == 3e-4
    assert d.total == pytest.approx(4.44e-4) and d.factor_share == pytest.approx(1.44 / 4.44)
    factor, idio, total, share = d
    assert total == factor + idio
    assert variance_decomposition(0.0, 1e-4, 3e-4).factor_share == 0.0
    assert variance_decomposition(-1.0, 1e-4, 0.0).factor_share == 1.0


def test_variance_decomposition_share_equals_r2(pair):
    fit = fit_factor_model(*pair)
    d = variance_decomposition(fit.beta, fit.var_f, fit.var_e)
    assert d.factor_share == pytest.approx(fit.r2, rel=1e-12)
    assert d.total == pytest.approx(pair[0].var(), rel=1e-12)


def test_variance_decomposition_elementwise():
    betas = pd.Series([0.5, 1.0, 1.5], index=pd.date_range("2020", periods=3, freq="ME"))
    d = variance_decomposition(betas, 1e-4, pd.Series([1e-4, 2e-4, 3e-4], index=betas.index))
    assert isinstance(d.factor_share, pd.Series)
    np.testing.assert_allclose(d.factor_share.to_numpy(), [0.25e-4 / 1.25e-4, 1e-4 / 3e-4, 2.25e-4 / 5.25e-4])


@pytest.mark.parametrize(
    "args, match",
    [
        ((1.0, 0.0, 1e-4), "var_f must be positive"),
        ((1.0, -1e-4, 1e-4), "var_f must be positive"),
        ((1.0, 1e-4, -1e-4), "var_e must be non-negative"),
        ((0.0, 1e-4, 0.0), "total variance is zero"),
        ((np.nan, 1e-4, 1e-4), "beta must be finite"),
        ((pd.Series([1.0, np.nan]), 1e-4, 1e-4), "beta must be finite"),
        ((pd.Series([1.0, 1.1]), pd.Series([1e-4, 1e-4], index=[1, 2]), 1e-4), "var_f and beta must have the same index"),
    ],
)
def test_variance_decomposition_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        variance_decomposition(*args)


# ------------------------------------------------------------------ hedge_for_risk_share
def share(h, beta, var_f, var_e):
    """The syllabus' factor share of 1 unit of the asset plus h of the factor."""
    b = beta + h
    return b**2 * var_f / (b**2 * var_f + var_e)


@pytest.mark.parametrize("beta", [1.5, 0.8, -0.7, -2.0])
@pytest.mark.parametrize("vbar", [0.05, 0.2, 0.5])
def test_hedge_reaches_exactly_vbar(beta, vbar):
    var_f, var_e = 1.2e-4, 0.5e-4
    assert share(0.0, beta, var_f, var_e) > vbar  # a hedge is needed in all these cases
    h = hedge_for_risk_share(vbar, beta, var_f, var_e)
    assert share(h, beta, var_f, var_e) == pytest.approx(vbar, rel=1e-12)
    # smallest hedge: opposite sign to beta, smaller in size than beta, not flipping the sign of beta
    assert np.sign(h) == -np.sign(beta) and abs(h) < abs(beta)
    assert np.sign(beta + h) == np.sign(beta)
    # and the closed form of the syllabus (for beta > 0; mirrored for beta < 0)
    b_star = math.sqrt(vbar * var_e / ((1 - vbar) * var_f))
    assert h == pytest.approx((b_star if beta > 0 else -b_star) - beta, rel=1e-14)


def test_hedge_is_smallest_in_magnitude():
    beta, var_f, var_e, vbar = 1.4, 1e-4, 3e-4, 0.3
    h = hedge_for_risk_share(vbar, beta, var_f, var_e)
    grid = np.linspace(-4, 4, 80001)
    ok = grid[share(grid, beta, var_f, var_e) <= vbar + 1e-12]
    assert abs(h) <= np.abs(ok).min() + 1e-4


def test_hedge_zero_when_already_within_limit():
    assert hedge_for_risk_share(0.5, 0.3, 1e-4, 1e-3) == 0.0  # share 0.0826 <= 0.5
    assert hedge_for_risk_share(0.0, 0.0, 1e-4, 1e-3) == 0.0
    # exactly at the limit: beta^2 var_f / total = 0.5
    assert hedge_for_risk_share(0.5, 1.0, 1e-4, 1e-4) == 0.0


def test_hedge_full_at_vbar_zero():
    assert hedge_for_risk_share(0.0, 1.37, 1e-4, 2e-4) == -1.37
    assert hedge_for_risk_share(0, -0.4, 1e-4, 2e-4) == 0.4
    assert hedge_for_risk_share(0.3, 1.1, 1e-4, 0.0) == -1.1  # no idiosyncratic risk: only a full hedge works


def test_hedge_size_cancels():
    """Per unit of asset: scaling both variances by the same factor leaves h unchanged."""
    h1 = hedge_for_risk_share(0.25, 1.2, 1e-4, 2e-4)
    h2 = hedge_for_risk_share(0.25, 1.2, 252e-4, 504e-4)  # annualized inputs
    assert h1 == pytest.approx(h2, rel=1e-14)


@pytest.mark.parametrize(
    "args, match",
    [
        ((1.0, 1.0, 1e-4, 1e-4), r"vbar must be in \[0, 1\)"),
        ((-0.1, 1.0, 1e-4, 1e-4), r"vbar must be in \[0, 1\)"),
        ((1.5, 1.0, 1e-4, 1e-4), r"vbar must be in \[0, 1\)"),
        ((float("nan"), 1.0, 1e-4, 1e-4), "vbar must be finite"),
        ((0.2, 1.0, 0.0, 1e-4), "var_f must be positive"),
        ((0.2, 1.0, 1e-4, -1e-4), "var_e must be non-negative"),
        ((0.2, [1.0], 1e-4, 1e-4), "beta must be a real number"),
    ],
)
def test_hedge_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        hedge_for_risk_share(*args)


# ------------------------------------------------------------------ covariance
def test_implied_covariance_structure():
    betas = pd.Series({"A": 0.6, "B": 1.1, "C": -0.3})
    var_e = pd.Series({"C": 4e-4, "A": 1e-4, "B": 2e-4})  # different order: matched by label
    cov = implied_covariance(betas, 1.5e-4, var_e)
    assert list(cov.index) == list(cov.columns) == ["A", "B", "C"]
    for i in betas.index:
        for j in betas.index:
            expected = betas[i] * betas[j] * 1.5e-4 + (var_e[i] if i == j else 0.0)
            assert cov.loc[i, j] == pytest.approx(expected, rel=1e-15)
    np.testing.assert_array_equal(cov.to_numpy(), cov.to_numpy().T)
    assert np.all(np.linalg.eigvalsh(cov.to_numpy()) > 0)
    # arrays and a scalar var_e work too
    same = implied_covariance(betas.to_numpy(), 1.5e-4, var_e.loc[["A", "B", "C"]].to_numpy())
    np.testing.assert_array_equal(same.to_numpy(), cov.to_numpy())
    flat = implied_covariance(betas, 1.5e-4, 2e-4)
    assert np.diag(flat.to_numpy()) == pytest.approx(betas.to_numpy() ** 2 * 1.5e-4 + 2e-4)


def test_implied_covariance_against_numpy_cov(daily):
    names = ["WMT", "JPM", "KO", "XOM"]
    f = daily["MKT"].to_numpy()
    sample = np.cov(daily[names].to_numpy(), rowvar=False)  # ddof=1
    betas, var_e = {}, {}
    for n in names:
        ref = closed_form_ols(daily[n], f)
        betas[n], var_e[n] = ref["beta"], np.var(ref["resid"], ddof=1)
    cov = implied_covariance(pd.Series(betas), np.var(f, ddof=1), pd.Series(var_e))
    # diagonal: beta^2 var_f + var_e reproduces the sample variances exactly
    np.testing.assert_allclose(np.diag(cov.to_numpy()), np.diag(sample), rtol=1e-12)
    # off-diagonal: beta_i beta_j var_f, which is not the sample covariance
    assert cov.loc["WMT", "KO"] == pytest.approx(betas["WMT"] * betas["KO"] * np.var(f, ddof=1), rel=1e-14)
    np.testing.assert_allclose(sample_covariance(daily[names]).to_numpy(), sample, rtol=1e-14)


@pytest.mark.parametrize(
    "args, match",
    [
        ((pd.Series({"A": 1.0}), 0.0, 1e-4), "var_f must be positive"),
        ((pd.Series({"A": 1.0, "B": 0.5}), 1e-4, pd.Series({"A": 1e-4, "C": 1e-4})), "var_e must have the same labels"),
        ((pd.Series({"A": 1.0, "B": 0.5}), 1e-4, np.array([1e-4])), "var_e must have one value per beta"),
        ((pd.Series({"A": 1.0, "B": 0.5}), 1e-4, np.array([1e-4, -1e-4])), "var_e must be non-negative"),
        ((pd.Series({"A": 1.0, "B": np.nan}), 1e-4, 1e-4), "betas must be finite"),
        ((pd.Series(dtype=float), 1e-4, 1e-4), "betas must contain at least one"),
        ((pd.DataFrame({"A": [1.0]}), 1e-4, 1e-4), "betas must be a Series"),
    ],
)
def test_implied_covariance_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        implied_covariance(*args)


@pytest.mark.parametrize("n", [1, 2, 5, 19, 500])
def test_parameter_counts(n):
    counts = parameter_counts(n)
    assert counts == {"factor_model": 2 * n + 1, "unrestricted": n * (n + 1) // 2}
    # unrestricted = n variances + the n(n-1)/2 distinct covariances of a symmetric matrix
    assert counts["unrestricted"] == n + len(list(zip(*np.triu_indices(n, k=1))))
    assert parameter_counts(np.int64(n)) == counts


@pytest.mark.parametrize("n", [0, -3, 2.5, 5.0, "5", True])
def test_parameter_counts_rejects_bad_n(n):
    with pytest.raises(ValueError, match="n must be"):
        parameter_counts(n)


def test_residual_correlation(daily):
    resid = pd.DataFrame({n: fit_factor_model(daily[n], daily["MKT"]).resid for n in ["XOM", "CVX", "KO"]})
    corr = residual_correlation(resid)
    np.testing.assert_allclose(corr.to_numpy(), np.corrcoef(resid.to_numpy(), rowvar=False), atol=1e-14)
    assert corr.loc["XOM", "CVX"] > 0.3  # oil majors share residual co-movement
    with pytest.raises(ValueError, match="resids must be a pandas DataFrame"):
        residual_correlation(resid.to_numpy())
    with pytest.raises(ValueError, match="returns must be a pandas DataFrame"):
        sample_covariance([[0.1, 0.2]])


# ------------------------------------------------------------------ purity and presentation
def test_summary_annualizes_on_request(pair):
    fit = fit_factor_model(*pair)
    assert "Annualized" not in fit.summary()
    text = fit.summary(252)
    assert f"{fit.alpha * 252:.6g}" in text and f"{math.sqrt(fit.var_e * 252):.6g}" in text
    assert f"{fit.alpha / math.sqrt(fit.var_e) * math.sqrt(252):.4f}" in text
    with pytest.raises(ValueError, match="periods_per_year"):
        fit.summary("daily")


def test_no_function_mutates_its_inputs(pair):
    r_e, f = pair
    betas = pd.Series({"A": 1.0, "B": 0.5})
    var_e = pd.Series({"B": 2e-4, "A": 1e-4})
    frame = pd.DataFrame({"a": r_e, "b": f})
    frame.iloc[0, 0] = np.nan
    vols = np.array([0.01, 0.02])
    horizons = [1, 21]
    snapshots = [betas.copy(), var_e.copy(), frame.copy(), vols.copy(), list(horizons)]
    implied_covariance(betas, 1e-4, var_e)
    variance_decomposition(betas, 1e-4, var_e.loc[["A", "B"]].to_numpy())
    sample_covariance(frame)
    residual_correlation(frame)
    sharpe_ratio(frame, 252)
    position_size(1e6, vols, horizons[0])
    position_size(1e6, 0.02, horizons)
    annualize_vol(vols, 252)
    pd.testing.assert_series_equal(betas, snapshots[0])
    pd.testing.assert_series_equal(var_e, snapshots[1])
    pd.testing.assert_frame_equal(frame, snapshots[2])
    np.testing.assert_array_equal(vols, snapshots[3])
    assert horizons == snapshots[4]
