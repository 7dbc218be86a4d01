"""Chapter 6 and assignment 6: several factors.

* the multi-factor functions of ``solutions`` against independent numpy
  (``lstsq``, matrix identities) to 1e-10, and property tests (hypothesis);
* the checks of ``autograder.checks.many_factors`` accept the source
  solution for three ticker choices and name each planted mistake without
  leaking the expected value;
* the source notebook executes to completion, and its student version
  contains no hidden tests.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import factordata
import solutions
from solutions import mistakes

FF3 = ["Mkt-RF", "SMB", "HML"]
MONTHLY = factordata.excess_returns("monthly")
FF = factordata.fama_french().loc[MONTHLY.index]
FACTORS = FF[FF3]
TOL = 1e-10
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def lstsq_fit(y: pd.Series, X: pd.DataFrame) -> dict:
    """Independent OLS: numpy least squares, classical standard errors."""
    A = np.column_stack([np.ones(len(X)), X.to_numpy()])
    coef, *_ = np.linalg.lstsq(A, y.to_numpy(), rcond=None)
    e = y.to_numpy() - A @ coef
    n, p = A.shape
    s2 = e @ e / (n - p)
    se = np.sqrt(np.diag(s2 * np.linalg.inv(A.T @ A)))
    return {"coef": coef, "se": se, "t": coef / se, "resid": e,
            "r2": 1 - (e @ e) / np.sum((y.to_numpy() - y.mean()) ** 2)}


def close(a, b, tol=TOL):
    a, b = np.asarray(a, float), np.asarray(b, float)
    scale = max(1.0, float(np.abs(b).max()))
    return np.abs(a - b).max() <= tol * scale


# ------------------------------------------------------------------ fit_factor_model with K factors
@pytest.mark.parametrize("ticker", ["WMT", "AAPL", "BAC", "XOM"])
def test_three_factor_fit_matches_lstsq(ticker):
    fit = solutions.fit_factor_model(MONTHLY[ticker], FACTORS)
    ref = lstsq_fit(MONTHLY[ticker], FACTORS)
    assert fit.beta is None and fit.var_f is None and fit.tstat_beta is None
    assert list(fit.betas.index) == FF3 and fit.factors == FF3
    assert close(fit.alpha, ref["coef"][0]) and close(fit.betas, ref["coef"][1:])
    assert list(fit.tstats.index) == ["const", *FF3]
    assert close(fit.tstats, ref["t"]) and close(fit.se, ref["se"], 1e-9)
    assert close(fit.tstat_alpha, ref["t"][0])
    assert close(fit.resid, ref["resid"]) and close(fit.r2, ref["r2"])
    assert close(fit.factor_cov, np.cov(FACTORS.to_numpy(), rowvar=False))
    assert close(fit.mu_f, FACTORS.mean())
    assert close(fit.var_e, np.var(ref["resid"], ddof=1))
    assert fit.nobs == len(MONTHLY) == 346
    # the in-sample identities: mean of hedged = alpha, Var = b' S b + var_e, resid orthogonal to each factor
    b = fit.betas.to_numpy()
    assert close(MONTHLY[ticker].var(), b @ fit.factor_cov.to_numpy() @ b + fit.var_e)
    assert close(FACTORS.to_numpy().T @ fit.resid.to_numpy(), np.zeros(3), 1e-12)
    assert "HML" in fit.summary(12) and "betas=" in repr(fit)


def test_one_factor_results_unchanged_and_consistent():
    """A Series, and a one-column DataFrame, give the one-factor fit with its float attributes."""
    r, f = MONTHLY["KO"], MONTHLY["MKT"]
    fit = solutions.fit_factor_model(r, f)
    fit_frame = solutions.fit_factor_model(r, f.to_frame())
    for key in ["alpha", "beta", "var_e", "tstat_alpha", "tstat_beta", "var_f", "mu_f", "r2"]:
        assert type(getattr(fit, key)) is float
        assert getattr(fit, key) == getattr(fit_frame, key), key
    assert fit.betas.to_dict() == {"MKT": fit.beta}
    assert fit.tstats["MKT"] == fit.tstat_beta and fit.se["const"] == fit.se_alpha
    assert fit.factor_cov.loc["MKT", "MKT"] == pytest.approx(fit.var_f, rel=1e-14)


def test_alpha_change_identity():
    """alpha3 - alpha1 = -(bM3 - b1) mu_M - bS mu_S - bH mu_H, exactly in sample."""
    for t in factordata.tickers():
        one = solutions.fit_factor_model(MONTHLY[t], FACTORS["Mkt-RF"])
        three = solutions.fit_factor_model(MONTHLY[t], FACTORS)
        mu = FACTORS.mean()
        predicted = -(three.betas["Mkt-RF"] - one.beta) * mu["Mkt-RF"] - three.betas["SMB"] * mu["SMB"] \
            - three.betas["HML"] * mu["HML"]
        assert abs((three.alpha - one.alpha) - predicted) < 1e-12


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: solutions.fit_factor_model(MONTHLY["KO"], FACTORS.assign(SMB=0.01)), "column 'SMB' is constant"),
        (lambda: solutions.fit_factor_model(MONTHLY["KO"], FACTORS.assign(X=FACTORS["SMB"] * 2)), "collinear"),
        (lambda: solutions.fit_factor_model(MONTHLY["KO"], FACTORS.rename(columns={"SMB": "const"})), "const"),
        (lambda: solutions.fit_factor_model(MONTHLY["KO"], FACTORS.iloc[:4]), "at least 5 dates"),
        (lambda: solutions.fit_factor_model(MONTHLY["KO"].to_numpy(), FACTORS.to_numpy()[:-1]), "same length"),
        (lambda: solutions.fit_factor_model(MONTHLY["KO"], FACTORS.set_index(FACTORS.index + pd.Timedelta(days=1000 * 365))),
         "share no dates"),
        (lambda: solutions.tracking_returns(FACTORS, pd.Series({"Mkt-RF": 1.0, "SMB": 0.1})), "labelled by f's columns"),
        (lambda: solutions.hedged_returns(MONTHLY["KO"], FACTORS, [1.0, 0.2]), "one beta per column"),
    ],
)
def test_multi_factor_input_checks(make, match):
    with pytest.raises(ValueError, match=match) as info:
        make()
    assert "\n" not in str(info.value)


def test_fit_aligns_frames_and_drops_missing():
    f = FACTORS.copy()
    f.iloc[3, 1] = np.nan
    fit = solutions.fit_factor_model(MONTHLY["KO"].iloc[1:], f)
    assert fit.nobs == len(MONTHLY) - 2
    arrays = solutions.fit_factor_model(MONTHLY["KO"].to_numpy(), FACTORS.to_numpy())
    assert list(arrays.betas.index) == ["f1", "f2", "f3"]
    assert close(arrays.betas, solutions.fit_factor_model(MONTHLY["KO"], FACTORS).betas)


# ------------------------------------------------------------------ tracking, hedged, hedge legs
def test_three_leg_hedge():
    fit = solutions.fit_factor_model(MONTHLY["PFE"], FACTORS)
    tracking = solutions.tracking_returns(FACTORS, fit.betas)
    hedged = solutions.hedged_returns(MONTHLY["PFE"], FACTORS, fit.betas)
    assert close(tracking, FACTORS.to_numpy() @ fit.betas.to_numpy())
    assert close(hedged, MONTHLY["PFE"] - tracking)
    assert close(hedged.mean(), fit.alpha, 1e-12) and close(hedged.var(), fit.var_e)
    again = solutions.fit_factor_model(hedged, FACTORS)
    assert np.abs(again.betas).max() < 1e-12
    # betas given in another order are matched by label
    shuffled = fit.betas[["HML", "Mkt-RF", "SMB"]]
    assert close(solutions.tracking_returns(FACTORS, shuffled), tracking)
    legs = solutions.hedge_positions(1e6, fit.betas)
    assert close(legs, -1e6 * fit.betas.to_numpy()) and list(legs.index) == FF3
    assert solutions.hedge_positions(1e6, 1.2).to_dict() == {"f": -1.2e6}


# ------------------------------------------------------------------ variance and contributions
def test_variance_decomposition_with_factor_cov():
    fit = solutions.fit_factor_model(MONTHLY["JPM"], FACTORS)
    d = solutions.variance_decomposition(fit.betas, fit.factor_cov, fit.var_e)
    b, S = fit.betas.to_numpy(), np.cov(FACTORS.to_numpy(), rowvar=False)
    assert close(d.factor, b @ S @ b) and close(d.total, MONTHLY["JPM"].var())
    assert close(d.factor_share, fit.r2)
    # arrays in the matrix's order work too
    assert close(solutions.variance_decomposition(b, S, fit.var_e).factor, d.factor)
    contrib = solutions.factor_contributions(fit.betas, fit.factor_cov, fit.var_e)
    assert list(contrib.index) == FF3
    assert close(contrib, b * (S @ b) / MONTHLY["JPM"].var())
    assert close(contrib.sum(), d.factor_share)
    naive = mistakes.contributions_without_cross_terms(fit.betas, fit.factor_cov, fit.var_e)
    assert close(naive, b**2 * np.diag(S) / MONTHLY["JPM"].var())
    assert not close(naive.sum(), d.factor_share, 1e-6)
    diag = mistakes.diagonal_factor_cov(fit.factor_cov)
    assert close(diag, np.diag(np.diag(S)))


def test_some_contribution_is_negative_on_the_data():
    """Chapter 6's claim: with correlated factors a contribution can be negative."""
    negative = []
    for t in factordata.tickers():
        fit = solutions.fit_factor_model(MONTHLY[t], FACTORS)
        c = solutions.factor_contributions(fit.betas, fit.factor_cov, fit.var_e)
        negative += [(t, k) for k in FF3 if c[k] < 0]
    assert negative


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: solutions.variance_decomposition([1.0, 0.5], np.eye(3) * 1e-3, 1e-3), "one beta per factor"),
        (lambda: solutions.variance_decomposition([1.0, 0.5], np.array([[1e-3, 2e-3], [0.0, 1e-3]]), 1e-3), "symmetric"),
        (lambda: solutions.variance_decomposition([1.0, 0.5], np.array([[1e-3, 2e-3], [2e-3, 1e-3]]), 1e-3),
         "positive semi-definite"),
        (lambda: solutions.variance_decomposition([1.0, 0.5], np.eye(2) * 1e-3, -1e-3), "var_e must be non-negative"),
        (lambda: solutions.factor_contributions(pd.Series({"A": 1.0, "B": 1.0}), FACTORS.cov().iloc[:2, :2], 1e-3),
         "labelled by factor_cov's factors"),
        (lambda: solutions.factor_contributions([1.0], np.zeros((1, 1)), 1e-3), "positive variances"),
        (lambda: solutions.implied_covariance(pd.DataFrame({"A": [1.0]}), 1e-4, 1e-4), "betas must be a Series"),
        (lambda: solutions.implied_covariance(pd.Series({"A": 1.0}), FACTORS.cov(), 1e-4), "N x K DataFrame"),
        (lambda: solutions.implied_covariance(pd.DataFrame({"Mkt-RF": [1.0], "X": [0.0], "HML": [0.0]}),
                                              FACTORS.cov(), 1e-4), "betas' columns"),
        (lambda: solutions.hedge_for_risk_share(0.1, 1.0, 1e-4, 1e-4, legs=["MKT"]), "several factors only"),
        (lambda: solutions.hedge_for_risk_share(0.1, pd.Series({"Mkt-RF": 1.0, "SMB": 0.0, "HML": 0.0}),
                                                FACTORS.cov(), 1e-4, legs=["XYZ"]), "legs must name"),
        (lambda: solutions.parameter_counts(5, 0), "k must be at least 1"),
        (lambda: solutions.parameter_counts(5, 2.0), "k must be a whole number"),
        (lambda: solutions.pca_factors(MONTHLY[["KO", "PEP"]], 3), "k must be a whole number of components"),
        (lambda: solutions.pca_factors(MONTHLY["KO"], 1), "returns must be a pandas DataFrame"),
    ],
)
def test_bad_input_raises_one_line_value_error(call, match):
    with pytest.raises(ValueError, match=match) as info:
        call()
    assert "\n" not in str(info.value)


def test_hedge_to_risk_share_with_several_legs():
    fit = solutions.fit_factor_model(MONTHLY["BAC"], FACTORS)
    S, b, var_e = fit.factor_cov, fit.betas, fit.var_e

    def share(h):
        x = (b + h).to_numpy()
        return x @ S.to_numpy() @ x / (x @ S.to_numpy() @ x + var_e)

    h_all = solutions.hedge_for_risk_share(0.2, b, S, var_e)
    assert close(share(h_all), 0.2) and close(h_all / b, np.full(3, h_all.iloc[0] / b.iloc[0]))
    h_m = solutions.hedge_for_risk_share(0.3, b, S, var_e, legs="Mkt-RF")
    assert close(share(h_m), 0.3) and (h_m[["SMB", "HML"]] == 0).all()
    with pytest.raises(ValueError, match="cannot be met by hedging only"):  # BAC's value tilt
        solutions.hedge_for_risk_share(0.2, b, S, var_e, legs="Mkt-RF")
    assert solutions.hedge_for_risk_share(0.99, b, S, var_e).abs().sum() == 0
    # with one factor the matrix form gives the scalar formula
    one = solutions.fit_factor_model(MONTHLY["BAC"], FACTORS["Mkt-RF"])
    scalar = solutions.hedge_for_risk_share(0.2, one.beta, one.var_f, one.var_e)
    matrix = solutions.hedge_for_risk_share(0.2, one.betas, one.factor_cov, one.var_e)
    assert close(matrix.iloc[0], scalar)
    # a leg that cannot do it alone is refused with a message that says so
    with pytest.raises(ValueError, match="cannot be met by hedging only"):
        solutions.hedge_for_risk_share(0.01, b, S, var_e, legs=["SMB"])


# ------------------------------------------------------------------ covariance, counts, PCA
def test_implied_covariance_with_three_factors():
    names = ["KO", "PEP", "XOM", "CVX", "MSFT"]
    fits = {t: solutions.fit_factor_model(MONTHLY[t], FACTORS) for t in names}
    B = pd.DataFrame({t: fits[t].betas for t in names}).T
    var_e = pd.Series({t: fits[t].var_e for t in names})
    S_f = FACTORS.cov()
    implied = solutions.implied_covariance(B, S_f, var_e)
    ref = B.to_numpy() @ S_f.to_numpy() @ B.to_numpy().T + np.diag(var_e.to_numpy())
    assert close(implied, ref) and (implied.to_numpy() == implied.to_numpy().T).all()
    assert list(implied.index) == names
    # the diagonal equals the sample variances; off the diagonal the gap is the residual covariance
    sample = MONTHLY[names].cov()
    assert close(np.diag(implied), np.diag(sample))
    resid_cov = pd.DataFrame({t: fits[t].resid for t in names}).cov().to_numpy()
    off = ~np.eye(5, dtype=bool)
    assert close((sample.to_numpy() - implied.to_numpy())[off], resid_cov[off])
    # columns in another order and a var_e array work the same
    again = solutions.implied_covariance(B[["HML", "SMB", "Mkt-RF"]], S_f, var_e.to_numpy())
    assert close(again, ref)
    # with one factor the matrix form equals the scalar form
    one = solutions.implied_covariance(B[["Mkt-RF"]], S_f.loc[["Mkt-RF"], ["Mkt-RF"]], var_e)
    assert close(one, solutions.implied_covariance(B["Mkt-RF"], S_f.loc["Mkt-RF", "Mkt-RF"], var_e))


@pytest.mark.parametrize("n, k", [(1, 1), (5, 1), (5, 3), (19, 3), (500, 10), (3000, 50)])
def test_parameter_counts_with_k_factors(n, k):
    counts = solutions.parameter_counts(n, k)
    betas, factor_cov = n * k, len(list(zip(*np.triu_indices(k))))
    assert counts == {"factor_model": betas + factor_cov + n, "unrestricted": n * (n + 1) // 2}
    if k == 1:
        assert counts == solutions.parameter_counts(n)


def test_pca_factors_against_numpy():
    R = MONTHLY[factordata.tickers()]
    pca = solutions.pca_factors(R, 3)
    S = np.cov(R.to_numpy(), rowvar=False)
    values, vectors = np.linalg.eigh(S)
    assert close(pca.eigenvalues, values[::-1][:3])
    for j in range(3):  # same directions up to sign; signs make loadings sum positive
        v = vectors[:, -1 - j]
        assert close(np.abs(pca.loadings.iloc[:, j] @ v), 1.0)
        assert pca.loadings.iloc[:, j].sum() > 0
    assert close(pca.factors.cov(), np.diag(pca.eigenvalues))
    assert close(pca.explained, values[::-1][:3] / np.trace(S))
    assert close(pca.factors, R.to_numpy() @ pca.loadings.to_numpy())


def test_monthly_mistakes():
    assert mistakes.annualize_monthly_with_252(0.01, "vol") == pytest.approx(0.01 * np.sqrt(252))
    assert mistakes.annualize_monthly_with_252(0.01, "variance") == pytest.approx(2.52)
    wrong = mistakes.fit_on_raw_market(MONTHLY["KO"], FACTORS, FF["RF"])
    raw = FACTORS.assign(**{"Mkt-RF": FACTORS["Mkt-RF"] + FF["RF"]})
    assert close(wrong.betas, lstsq_fit(MONTHLY["KO"], raw)["coef"][1:])
    with pytest.raises(ValueError, match="market must be one of"):
        mistakes.fit_on_raw_market(MONTHLY["KO"], FACTORS, FF["RF"], market="MKT")


# ------------------------------------------------------------------ property tests
@st.composite
def factor_samples(draw):
    """K correlated factors, an asset loading on them, and noise: simulated from a seed."""
    seed = draw(st.integers(0, 2**32 - 1))
    k = draw(st.integers(1, 4))
    n = draw(st.integers(k + 3, 200))
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(k, k)) + np.eye(k) * draw(st.floats(0.2, 3))
    f = rng.normal(size=(n, k)) @ mix * draw(st.floats(0.005, 0.06))
    b = rng.normal(0, 1, k)
    r = draw(st.floats(-0.01, 0.01)) + f @ b + rng.normal(0, draw(st.floats(1e-4, 0.08)), n)
    idx = pd.date_range("2000-01-31", periods=n, freq="ME")
    frame = pd.DataFrame(f, idx, columns=[f"F{i}" for i in range(k)])
    assume(np.linalg.cond(np.column_stack([np.ones(n), f])) < 1e6)
    return pd.Series(r, idx, name="R"), frame


@SETTINGS
@given(factor_samples())
def test_identities_hold_for_any_factors(sample):
    r, f = sample
    fit = solutions.fit_factor_model(r, f)
    ref = lstsq_fit(r, f)
    scale = max(1.0, float(np.abs(ref["coef"]).max()))
    assert np.abs(fit.betas.to_numpy() - ref["coef"][1:]).max() <= 1e-8 * scale
    hedged = solutions.hedged_returns(r, f, fit.betas)
    assert abs(hedged.mean() - fit.alpha) <= 1e-10 * max(1.0, abs(r).max())
    d = solutions.variance_decomposition(fit.betas, fit.factor_cov, fit.var_e)
    assert d.total == pytest.approx(r.var(), rel=1e-8)
    assert 0 <= d.factor_share <= 1 + 1e-12
    c = solutions.factor_contributions(fit.betas, fit.factor_cov, fit.var_e)
    assert c.sum() == pytest.approx(d.factor_share, rel=1e-9, abs=1e-12)


@SETTINGS
@given(st.integers(1, 30), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_implied_covariance_is_positive_definite(n, k, seed):
    rng = np.random.default_rng(seed)
    B = pd.DataFrame(rng.normal(size=(n, k)), index=[f"A{i}" for i in range(n)], columns=[f"F{j}" for j in range(k)])
    L = rng.normal(size=(k, k))
    S_f = pd.DataFrame(L @ L.T + np.eye(k) * 1e-3, index=B.columns, columns=B.columns)
    var_e = rng.uniform(1e-4, 1e-2, n)
    sigma = solutions.implied_covariance(B, S_f, var_e).to_numpy()
    assert np.allclose(sigma, B.to_numpy() @ S_f.to_numpy() @ B.to_numpy().T + np.diag(var_e), rtol=1e-12, atol=0)
    assert np.linalg.eigvalsh(sigma).min() > 0
    counts = solutions.parameter_counts(n, k)
    assert counts["factor_model"] == n * k + k * (k + 1) // 2 + n


def test_ledoit_wolf_and_min_variance_against_sklearn_and_numpy():
    from sklearn.covariance import LedoitWolf

    R = MONTHLY[factordata.tickers()].to_numpy()
    for rows in (R[-24:], R[-120:], R):
        assert close(solutions.ledoit_wolf_covariance(rows), LedoitWolf().fit(rows).covariance_)
    S = np.cov(R, rowvar=False)
    w = solutions.min_variance_weights(S)
    inv = np.linalg.inv(S)
    assert close(w, inv.sum(axis=1) / inv.sum()) and close(w.sum(), 1.0)
    with pytest.raises(ValueError, match="cov must be invertible"):
        solutions.min_variance_weights(np.ones((3, 3)))
