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

import copy
from pathlib import Path

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
    daily = factordata.excess_returns("daily")[factordata.tickers()].to_numpy()
    # monthly windows, and the daily ones chapter 5 checks its own numpy version on
    for rows in (R[-24:], R[-120:], R, daily[-21:], daily[-504:]):
        assert close(solutions.ledoit_wolf_covariance(rows), LedoitWolf().fit(rows).covariance_)
    S = np.cov(R, rowvar=False)
    w = solutions.min_variance_weights(S)
    inv = np.linalg.inv(S)
    assert close(w, inv.sum(axis=1) / inv.sum()) and close(w.sum(), 1.0)
    with pytest.raises(ValueError, match="cov must be invertible"):
        solutions.min_variance_weights(np.ones((3, 3)))


# ------------------------------------------------------------------ autograder.checks.many_factors
from test_checks import assert_no_leak, fails, fails_with  # noqa: E402

from autograder import checks  # noqa: E402

MF = checks.many_factors
CHOICES = [("MSFT", ["KO", "PEP", "XOM", "CVX", "MSFT"]),
           ("KO", ["JPM", "BAC", "AAPL", "AMD", "UNH"]),
           ("XOM", ["JNJ", "LLY", "MRK", "PFE", "GE"])]


def student_answers(ticker, tickers, factors=FACTORS):
    """The source solution's answers, computed independently with numpy (lstsq)."""
    r = MONTHLY[ticker]
    one = lstsq_fit(r, factors[["Mkt-RF"]])
    three = lstsq_fit(r, factors)
    betas = pd.Series(three["coef"][1:], index=FF3)
    hedged = r - factors.to_numpy() @ betas.to_numpy()
    exposures = pd.Series(lstsq_fit(hedged, factors)["coef"][1:], index=FF3)
    S = np.cov(factors.to_numpy(), rowvar=False)
    b = betas.to_numpy()
    B, var_e = [], []
    for t in tickers:
        fit = lstsq_fit(MONTHLY[t], factors)
        B.append(fit["coef"][1:])
        var_e.append(np.var(fit["resid"], ddof=1))
    B = np.array(B)
    return {
        "factors": factors, "alpha_capm": one["coef"][0], "beta_capm": one["coef"][1],
        "alpha_ff3": three["coef"][0], "betas": betas,
        "alpha_capm_annual": one["coef"][0] * 12, "alpha_ff3_annual": three["coef"][0] * 12,
        "hedged": hedged, "exposures": exposures, "legs": -1e6 * betas,
        "factor_var": float(b @ S @ b),
        "contributions": pd.Series(b * (S @ b) / r.var(), index=FF3),
        "implied_cov": pd.DataFrame(B @ S @ B.T + np.diag(var_e), index=tickers, columns=tickers),
        "params_factor": 5 * 3 + 6 + 5, "params_unrestricted": 15,
    }


def run_checks(ans, ticker, tickers):
    MF.ticker(ticker)
    MF.tickers(tickers)
    MF.factors(ans["factors"])
    for name in ("alpha_capm", "beta_capm", "alpha_ff3", "betas"):
        getattr(MF, name)(ans[name], ticker=ticker, factors=ans["factors"])
    MF.alpha_capm_annual(ans["alpha_capm_annual"], ticker=ticker, alpha_capm=ans["alpha_capm"])
    MF.alpha_ff3_annual(ans["alpha_ff3_annual"], ticker=ticker, alpha_ff3=ans["alpha_ff3"])
    MF.hedged(ans["hedged"], ticker=ticker, betas=ans["betas"])
    MF.exposures(ans["exposures"], ticker=ticker, hedged=ans["hedged"])
    MF.legs(ans["legs"], ticker=ticker, betas=ans["betas"])
    MF.factor_var(ans["factor_var"], ticker=ticker, betas=ans["betas"])
    MF.contributions(ans["contributions"], ticker=ticker, betas=ans["betas"])
    MF.implied_cov(ans["implied_cov"], tickers=tickers)
    MF.params_factor(ans["params_factor"], tickers=tickers)
    MF.params_unrestricted(ans["params_unrestricted"], tickers=tickers)


@pytest.mark.parametrize("ticker, tickers", CHOICES, ids=[c[0] for c in CHOICES])
def test_checks_accept_the_solution(ticker, tickers):
    run_checks(student_answers(ticker, tickers), ticker, tickers)


def test_checks_validate_choices():
    assert "chapter" in fails(MF.ticker, "BAC")
    assert "not one of" in fails(MF.ticker, "ZZZ")
    assert "five" in fails(MF.tickers, ["KO"]) or "5" in fails(MF.tickers, ["KO"])
    assert "Series" in fails(MF.betas, 1.0, ticker="KO")
    assert "single number" in fails(MF.alpha_ff3, FACTORS["SMB"], ticker="KO")


def test_checks_name_each_planted_mistake():
    t, names = "MSFT", CHOICES[0][1]
    ans = student_answers(t, names)
    raw_market = FACTORS.assign(**{"Mkt-RF": FACTORS["Mkt-RF"] + FF["RF"]})
    # Mkt-RF plus RF (raw market) as a factor
    fails_with(MF.factors, raw_market, "raw market return", FACTORS)
    wrong = student_answers(t, names, factors=raw_market)
    fails_with(MF.betas, wrong["betas"], "raw market return", ans["betas"], ticker=t)
    fails_with(MF.alpha_ff3, wrong["alpha_ff3"], "raw market return", ans["alpha_ff3"], ticker=t)
    assert "RF is the risk-free rate" in fails(MF.factors, FF.loc[:, ["Mkt-RF", "SMB", "HML", "RF"]])
    # monthly figures annualized with 252
    fails_with(MF.alpha_ff3_annual, ans["alpha_ff3"] * 252, "annualized with 252", ans["alpha_ff3_annual"],
               ticker=t, alpha_ff3=ans["alpha_ff3"])
    fails_with(MF.factor_var, ans["factor_var"] * 252, "annualized with 252", ans["factor_var"], ticker=t)
    fails_with(MF.implied_cov, ans["implied_cov"] * 252, "annualized with 252", ans["implied_cov"], tickers=names)
    # forgetting the factor covariances (diagonal Sigma_f)
    S = FACTORS.cov().to_numpy()
    b = ans["betas"].to_numpy()
    fails_with(MF.factor_var, float(b @ np.diag(np.diag(S)) @ b), "diagonal factor covariance", ans["factor_var"], ticker=t)
    B = np.array([lstsq_fit(MONTHLY[n], FACTORS)["coef"][1:] for n in names])
    D = np.diag(np.diag(ans["implied_cov"].to_numpy() - B @ S @ B.T))
    diag_implied = pd.DataFrame(B @ np.diag(np.diag(S)) @ B.T + D, index=names, columns=names)
    fails_with(MF.implied_cov, diag_implied, "diagonal factor covariance", ans["implied_cov"], tickers=names)
    # Euler contributions without the cross terms
    own = pd.Series(b**2 * np.diag(S) / MONTHLY[t].var(), index=FF3)
    fails_with(MF.contributions, own, "without the cross terms", ans["contributions"], ticker=t)
    # more named slips
    fails_with(MF.hedged, MONTHLY[t] + FACTORS @ ans["betas"], "adding the tracking", ans["hedged"], ticker=t)
    fails_with(MF.hedged, MONTHLY[t] - ans["betas"]["Mkt-RF"] * FACTORS["Mkt-RF"], "market leg only", ans["hedged"], ticker=t)
    fails_with(MF.legs, 1e6 * ans["betas"], "opposite sign", ans["legs"], ticker=t)
    fails_with(MF.betas, pd.Series({k: lstsq_fit(MONTHLY[t], FACTORS[[k]])["coef"][1] for k in FF3}),
               "separate one-factor regressions", ans["betas"], ticker=t)
    fails_with(MF.alpha_ff3, ans["alpha_capm"], "the CAPM alpha", ans["alpha_ff3"], ticker=t)
    for wrong_count, phrase in [(23, "not the factor covariances"), (29, "every entry of Sigma_f"), (20, "forgetting the factor covariance matrix"), (11, "one-factor"),
                                (21, "residual variances")]:
        assert phrase in fails(MF.params_factor, wrong_count, tickers=names)
    assert "only the covariances" in fails(MF.params_unrestricted, 10, tickers=names)
    assert "every entry" in fails(MF.params_unrestricted, 25, tickers=names)


def test_error_carried_forward():
    """Later answers computed correctly from a wrong earlier answer pass; a later slip names the earlier question."""
    t, names = "KO", CHOICES[1][1]
    raw_market = FACTORS.assign(**{"Mkt-RF": FACTORS["Mkt-RF"] + FF["RF"]})
    wrong = student_answers(t, names, factors=raw_market)
    for name in ("alpha_capm", "beta_capm", "alpha_ff3", "betas"):   # consistent with their factors: credited
        getattr(MF, name)(wrong[name], ticker=t, factors=raw_market)
    MF.alpha_ff3_annual(wrong["alpha_ff3"] * 12, ticker=t, alpha_ff3=wrong["alpha_ff3"])
    b_wrong = wrong["betas"]
    hedged_wrong = MONTHLY[t] - FACTORS @ b_wrong                       # with the real factors, their betas
    MF.hedged(hedged_wrong, ticker=t, betas=b_wrong)
    MF.legs(-1e6 * b_wrong, ticker=t, betas=b_wrong)
    S = FACTORS.cov()
    MF.factor_var(float(b_wrong @ S @ b_wrong), ticker=t, betas=b_wrong)
    MF.contributions(b_wrong * (S @ b_wrong) / MONTHLY[t].var(), ticker=t, betas=b_wrong)
    # a slip on top of the carried error is judged on their basis and says so
    message = fails(MF.legs, 1e6 * b_wrong, ticker=t, betas=b_wrong)
    assert "follows from your answer to question 2" in message and "opposite sign" in message
    message = fails(MF.alpha_ff3_annual, wrong["alpha_ff3"] * 252, ticker=t, alpha_ff3=wrong["alpha_ff3"])
    assert "follows from your answer to question 2" in message and "252" in message
    # the whole chain on the student's own (wrong) factors is credited too
    hedged_own = MONTHLY[t] - raw_market @ b_wrong
    MF.hedged(hedged_own, ticker=t, betas=b_wrong, factors=raw_market)
    MF.exposures(pd.Series(0.0, index=FF3), ticker=t, hedged=hedged_own, factors=raw_market)
    S_own = raw_market.cov()
    MF.factor_var(float(b_wrong @ S_own @ b_wrong), ticker=t, betas=b_wrong, factors=raw_market)
    MF.contributions(b_wrong * (S_own @ b_wrong) / MONTHLY[t].var(), ticker=t, betas=b_wrong, factors=raw_market)
    message = fails(MF.factor_var, float(b_wrong @ np.diag(np.diag(S_own)) @ b_wrong), ticker=t, betas=b_wrong,
                    factors=raw_market)
    assert "follows from your answer to question 1" in message and "diagonal factor covariance" in message
    # the right answer passes whatever the earlier answer was
    right = student_answers(t, names)
    MF.hedged(right["hedged"], ticker=t, betas=b_wrong)


def test_exposures_are_recomputed_from_the_students_series():
    t, names = "XOM", CHOICES[2][1]
    ans = student_answers(t, names)
    zeros = pd.Series(0.0, index=FF3)
    MF.exposures(zeros, ticker=t, hedged=ans["hedged"])                 # zero to rounding: accepted
    market_only = MONTHLY[t] - ans["betas"]["Mkt-RF"] * FACTORS["Mkt-RF"]
    message = fails(MF.exposures, zeros, ticker=t, hedged=market_only)  # typed-in zeros for a series that is not hedged
    assert "not the slopes" in message and "type" in message
    slopes = pd.Series(lstsq_fit(market_only, FACTORS)["coef"][1:], index=FF3)
    message = fails(MF.exposures, slopes, ticker=t, hedged=market_only)
    assert "still has exposure to SMB, HML" in message
    assert_no_leak(message, slopes)
    assert "missing" in fails(MF.exposures, zeros, ticker=t)


# ------------------------------------------------------------------ the assignment notebook
import ast  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "exercises" / "source" / "many-factors" / "many-factors.ipynb"
PLAIN_TYPES = (float, int, str, list, pd.Series, pd.DataFrame, np.ndarray, np.floating, np.integer)


def hidden_blocks():
    nb = json.loads(SOURCE.read_text())
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        if "### BEGIN HIDDEN TESTS" in text:
            yield cell["metadata"]["nbgrader"]["grade_id"], text.split("### BEGIN HIDDEN TESTS")[1].split(
                "### END HIDDEN TESTS")[0]


def hidden_call_names() -> set:
    """Check every hidden block's shape; return the student variables the calls name."""
    names = set()
    blocks = list(hidden_blocks())
    assert 4 <= len(blocks) <= 8
    for grade_id, block in blocks:
        tree = ast.parse(block)
        assert isinstance(tree.body[0], ast.ImportFrom) and ast.unparse(tree.body[0]) == "from autograder import checks"
        for stmt in tree.body[1:]:
            call = stmt.value
            assert isinstance(stmt, ast.Expr) and isinstance(call, ast.Call), grade_id
            assert ast.unparse(call.func).startswith("checks.many_factors."), grade_id
            assert callable(getattr(MF, call.func.attr)), call.func.attr
            for arg in [*call.args, *(k.value for k in call.keywords)]:
                assert isinstance(arg, (ast.Name, ast.Constant)), ast.unparse(arg)
                if isinstance(arg, ast.Name):
                    names.add(arg.id)
    return names


def test_hidden_tests_follow_the_grading_contract():
    """Only `from autograder import checks` and checks.many_factors.<name>(bare names or literals)."""
    assert {"TICKER", "TICKERS", "factors", "betas", "hedged"} <= hidden_call_names()


def test_source_notebook_executes_and_exports_plain_data(tmp_path):
    """Run the source notebook (hidden tests included) in a kernel of the course venv."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(SOURCE, as_version=4)
    names = sorted(hidden_call_names())
    probe = ("import pandas as _pd, numpy as _np\n"
             f"_types = {{n: type(globals()[n]).__name__ for n in {names!r}}}\n"
             "print(_types)")
    nb.cells.append(nbformat.v4.new_code_cell(probe))
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    types = ast.literal_eval(nb.cells[-1].outputs[0]["text"])
    allowed = {"float", "int", "str", "list", "Series", "DataFrame", "ndarray", "float64", "int64"}
    assert set(types.values()) <= allowed, types


def test_student_version_has_no_hidden_tests(tmp_path):
    from bad_submissions import run_autograder

    course = tmp_path / "course"
    (course / "source").mkdir(parents=True)
    shutil.copy2(ROOT / "exercises" / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(SOURCE.parent, course / "source" / "many-factors")
    proc = run_autograder("release", "many-factors", "--course", course)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    released = course / "release" / "many-factors" / "many-factors.ipynb"
    text = released.read_text()
    for marker in ("BEGIN HIDDEN TESTS", "checks.many_factors", "BEGIN SOLUTION", "Mark scheme"):
        assert marker not in text, marker
    nb = json.loads(text)
    assert sum("raise NotImplementedError()" in "".join(c["source"]) for c in nb["cells"]) >= 7
    points = sum(c["metadata"].get("nbgrader", {}).get("points", 0) for c in nb["cells"])
    assert points == 17 + 4


def test_implied_cov_carries_the_students_factors_forward():
    names = CHOICES[0][1]
    raw_market = FACTORS.assign(**{"Mkt-RF": FACTORS["Mkt-RF"] + FF["RF"]})
    wrong = student_answers("MSFT", names, factors=raw_market)
    MF.implied_cov(wrong["implied_cov"], tickers=names, factors=raw_market)
    message = fails(MF.implied_cov, wrong["implied_cov"] * 12, tickers=names, factors=raw_market)
    assert "follows from your answer to question 1" in message and "annualized" in message


# --------------------------------------------------------------------------
# End to end through the grading engine (the box and the judge), like the
# other assignments in tests/test_grading.py: source full marks, blank zero,
# three ticker choices graded on their own references, a planted mistake.
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def e2e(tmp_path_factory):
    import subprocess
    import sys

    import bad_submissions as bs

    root = tmp_path_factory.mktemp("mf-e2e")
    course = Path(__file__).resolve().parents[1] / "exercises"
    subprocess.run([sys.executable, "-m", "autograder", "release", "many-factors"], check=True,
                   capture_output=True)
    source = bs.read_nb(bs.source_path(course, "many-factors"))
    release = bs.read_nb(bs.release_path(course, "many-factors"))
    good = bs.solved(source, release)
    nbs = {"source": source, "blank": release}
    for i, (ticker, tickers) in enumerate([("KO", ["KO", "PEP", "XOM", "CVX", "MSFT"]),
                                           ("JPM", ["JPM", "WMT", "GE", "PFE", "AAPL"]),
                                           ("AMD", ["AMD", "HD", "LLY", "MRK", "UNH"])]):
        nb = bs.set_choice(bs.set_choice(copy.deepcopy(good), "TICKER", ticker), "TICKERS", tickers)
        nbs[f"choice-{i}"] = nb
    wrong = copy.deepcopy(good)
    q = next(q for q in bs.questions(source) if q.grade_id == "q3-annual")
    nbs["mistake-252"] = bs.plant_expr(wrong, q, "alpha_ff3_annual", "{v} / 12 * 252")
    out = {}
    for name, nb in nbs.items():
        path = root / f"{name}.ipynb"
        path.write_bytes(bs.nb_bytes(nb))
        out[name] = bs.check_json(path, "--timeout", 120)
    return out


def _scores(e2e, name):
    proc, data = e2e[name]
    assert proc.returncode == 0 and data is not None, proc.stderr[-2000:]
    return data


def test_many_factors_source_full_blank_zero(e2e):
    assert _scores(e2e, "source")["score"] == _scores(e2e, "source")["max_score"] == 17
    assert _scores(e2e, "blank")["score"] == 0


@pytest.mark.parametrize("i", range(3))
def test_many_factors_three_choices_graded_on_their_own_reference(e2e, i):
    data = _scores(e2e, f"choice-{i}")
    assert data["score"] == data["max_score"], data["questions"]


def test_many_factors_mistake_named_in_check(e2e):
    data = _scores(e2e, "mistake-252")
    q3 = next(q for q in data["questions"] if q["id"] == "q3-annual")
    assert q3["points"] < q3["max_points"] and "252" in q3["message"], q3
