"""Checks for the ``many-factors`` assignment (chapter 6).

The student picks ``TICKER`` (one stock, not the chapter's BAC) and
``TICKERS`` (five distinct stocks); everything is monthly: the stocks'
excess returns ``factordata.excess_returns("monthly")`` and the Fama-French
factors ``Mkt-RF``, ``SMB``, ``HML`` on the same 346 months.

Each check takes plain data (numbers, Series, DataFrames) exported from the
student's kernel and judges it against :mod:`solutions` on the student's
choices. Where a question builds on an earlier answer (the betas build on
the factors, the hedged returns on the betas, ...), the earlier answer is a
keyword argument: when it was wrong, the later answer is judged against the
reference computed from it (error carried forward), and a message says so.
"Show it" answers are judged by recomputing the property from the student's
own series.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

import factordata

from . import _data
from ._core import Mistake, _close, _default_atol, as_frame, as_int, as_number, as_series, compare, percent, solutions_module

FREQ = "monthly"
#: Months per year: monthly figures annualize with 12.
H = factordata.periods_per_year(FREQ)
FF3 = ("Mkt-RF", "SMB", "HML")
#: The chapter's worked example; students pick another stock.
FORBIDDEN = ("BAC",)
SIZE = 1_000_000.0
DATES_DESC = "the 346 month-ends of factordata.excess_returns('monthly')"
QUESTION = {"factors": 1, "alpha_ff3": 2, "betas": 2, "alpha_capm": 2, "hedged": 4}


# --------------------------------------------------------------------------
# Reference data
# --------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _monthly() -> pd.DataFrame:
    return factordata.excess_returns(FREQ)


@functools.lru_cache(maxsize=1)
def _ff() -> pd.DataFrame:
    return factordata.fama_french().loc[_monthly().index]


def _factors() -> pd.DataFrame:
    return _ff()[list(FF3)].copy()


def _excess(ticker: str) -> pd.Series:
    return _monthly()[ticker].copy()


def _dates() -> pd.DatetimeIndex:
    return _monthly().index


def _ticker(ticker) -> str:
    return _data.check_ticker(ticker, forbidden=FORBIDDEN)


def _tickers(tickers) -> tuple:
    return _data.check_tickers(tickers)


def _fit(ticker: str, frame: pd.DataFrame):
    return solutions_module().fit_factor_model(_excess(ticker), frame)


# --------------------------------------------------------------------------
# Error carried forward: use the student's earlier answer when it was wrong
# --------------------------------------------------------------------------
def _earlier(value, want, coerce):
    """The student's earlier answer if it is usable and wrong, else None."""
    if value is None:
        return None
    try:
        got = coerce(value)
    except AssertionError:
        return None
    if _close(got, want, 1e-6, _default_atol(want)):
        return None
    if not np.all(np.isfinite(np.asarray(got, dtype=float))):
        return None
    return got


def _student_factors(value):
    return _earlier(value, _factors(), lambda v: as_frame(v, "factors", _dates(), FF3, index_desc=DATES_DESC))


def _student_betas(value, ticker):
    want = _fit(ticker, _factors()).betas
    return _earlier(value, want, lambda v: as_series(v, "betas", pd.Index(FF3), index_desc="the factor names"))


def _judge(got, want, name, *, what, mistakes, checklist, carried=None, rtol=1e-6, atol=None):
    """Pass if ``got`` matches ``want``; with an earlier wrong answer also if it matches what follows from it.

    ``carried`` is ``(reference from the earlier answer, question number, mistakes on that basis)``.
    """
    if carried is None:
        compare(got, want, name, what=what, rtol=rtol, atol=atol, mistakes=mistakes, checklist=checklist)
        return
    ecf, question, ecf_mistakes = carried
    tol = _default_atol(want) if atol is None else atol
    if _close(got, want, rtol, tol):
        return
    compare(got, ecf, name, rtol=rtol, atol=atol, mistakes=ecf_mistakes, checklist=checklist,
            what=f"{what}, computed from your own earlier answer (this follows from your answer to question {question})")


# --------------------------------------------------------------------------
# Question 1: the factors
# --------------------------------------------------------------------------
def factors(value, *, ticker=None) -> None:
    """DataFrame of the three Fama-French factors on the stocks' monthly dates."""
    if isinstance(value, pd.DataFrame) and "RF" in value.columns:
        raise AssertionError("factors should hold the three factors Mkt-RF, SMB and HML only: RF is the "
                             "risk-free rate, not a factor (drop the column).")
    if isinstance(value, pd.DataFrame) and factordata.MARKET in value.columns:
        raise AssertionError("factors should use French's Mkt-RF as the market factor, not the S&P 500's MKT.")
    got = as_frame(value, "factors", _dates(), FF3, index_desc=DATES_DESC)
    want = _factors()
    ff = _ff()
    compare(got, want, "factors", what="French's monthly factors on the stocks' dates", mistakes=[
        Mistake("the raw market return (Mkt-RF plus RF) as the market factor; every factor must be an excess "
                "or long-short return, so use Mkt-RF as it is", want.assign(**{"Mkt-RF": ff["Mkt-RF"] + ff["RF"]})),
        Mistake("SMB and HML minus RF: they are long-short portfolios, already excess returns",
                want.assign(SMB=ff["SMB"] - ff["RF"], HML=ff["HML"] - ff["RF"])),
        Mistake("factors in percent (the data are decimals)", percent(want)),
    ], checklist="take the columns Mkt-RF, SMB and HML of factordata.fama_french() on the dates of the monthly "
                 "excess returns, unchanged.")


# --------------------------------------------------------------------------
# Question 2: CAPM and three-factor fits
# --------------------------------------------------------------------------
def _fit_mistakes(ticker, frame, attr, *, capm: bool):
    """Mistake variants of a fit's ``attr`` (alpha, beta or betas) on the basis ``frame``."""
    cols = ["Mkt-RF"] if capm else list(FF3)
    ff = _ff()

    def value(fit):
        return fit.betas[cols] if attr == "betas" else getattr(fit, attr)

    def fit_on(x, y=None):
        y = _excess(ticker) if y is None else y
        x = x[cols[0]] if capm else x[cols]
        return solutions_module().fit_factor_model(y, x)

    raw_market = frame.assign(**{"Mkt-RF": frame["Mkt-RF"] + ff["RF"]})
    out = [
        Mistake("a regression with the raw market return (Mkt-RF plus RF) as a factor; use Mkt-RF",
                lambda: value(fit_on(raw_market))),
        Mistake("a regression of the raw (not excess) stock return", lambda: value(fit_on(frame, _excess(ticker) + ff["RF"]))),
        Mistake("a regression on the S&P 500's MKT instead of French's Mkt-RF",
                lambda: value(fit_on(frame.assign(**{"Mkt-RF": _monthly()[factordata.MARKET]})))),
    ]
    if attr == "alpha":
        out += [
            Mistake("an annualized alpha; the question asks for the monthly one", lambda: value(fit_on(frame)) * H),
            Mistake("an alpha annualized with 252, and a monthly one was asked for", lambda: value(fit_on(frame)) * 252),
            Mistake("an alpha in percent (answers are decimals)", lambda: percent(value(fit_on(frame)))),
        ]
        if not capm:
            out.append(Mistake("the CAPM alpha: the three-factor alpha comes from the regression on all three factors",
                               lambda: solutions_module().fit_factor_model(_excess(ticker), frame["Mkt-RF"]).alpha))
    if attr == "betas":
        out.append(Mistake("slopes of three separate one-factor regressions; the betas come from one regression "
                           "on all three factors together",
                           lambda: pd.Series({k: solutions_module().fit_factor_model(_excess(ticker), frame[k]).beta
                                              for k in FF3})))
    return out


def _fit_check(value, ticker, factors_, attr, name, *, capm: bool):
    ticker = _ticker(ticker)
    cols = ["Mkt-RF"] if capm else list(FF3)
    if attr == "betas":
        got = as_series(value, name, pd.Index(FF3), index_desc="the factor names Mkt-RF, SMB, HML")
    else:
        got = as_number(value, name)

    def pick(fit):
        return fit.betas[list(FF3)] if attr == "betas" else getattr(fit, attr)

    def ref(frame):
        return pick(solutions_module().fit_factor_model(_excess(ticker), frame[cols[0]] if capm else frame[cols]))

    model = "CAPM (market only)" if capm else "three-factor"
    what = f"the {model} regression of {ticker}'s monthly excess return"
    checklist = (f"regress {ticker}'s monthly excess return on a constant and "
                 + ("Mkt-RF" if capm else "Mkt-RF, SMB and HML together") + f"; {name} is "
                 + {"alpha": "the intercept, per month", "beta": "the slope", "betas": "the three slopes, by factor name"}[attr] + ".")
    own = _student_factors(factors_)
    carried = None
    if own is not None:
        carried = (ref(own), QUESTION["factors"], _fit_mistakes(ticker, own, attr, capm=capm))
    _judge(got, ref(_factors()), name, what=what, checklist=checklist, carried=carried,
           mistakes=_fit_mistakes(ticker, _factors(), attr, capm=capm))


def alpha_capm(value, *, ticker, factors=None) -> None:
    """Monthly CAPM alpha: intercept of the regression on Mkt-RF."""
    _fit_check(value, ticker, factors, "alpha", "alpha_capm", capm=True)


def beta_capm(value, *, ticker, factors=None) -> None:
    """CAPM beta: slope of the regression on Mkt-RF."""
    _fit_check(value, ticker, factors, "beta", "beta_capm", capm=True)


def alpha_ff3(value, *, ticker, factors=None) -> None:
    """Monthly three-factor alpha."""
    _fit_check(value, ticker, factors, "alpha", "alpha_ff3", capm=False)


def betas(value, *, ticker, factors=None) -> None:
    """Series of the three-factor betas, indexed Mkt-RF, SMB, HML."""
    _fit_check(value, ticker, factors, "betas", "betas", capm=False)


# --------------------------------------------------------------------------
# Question 3: annualized alphas
# --------------------------------------------------------------------------
def _annual(value, ticker, monthly_alpha, name, which):
    ticker = _ticker(ticker)
    got = as_number(value, name)
    fit = _fit(ticker, _factors()["Mkt-RF"] if which == "alpha_capm" else _factors())
    m = solutions_module().mistakes

    def variants(alpha):
        return [
            Mistake("a monthly alpha annualized with 252 (that is for daily data); monthly data annualize with 12",
                    m.annualize_monthly_with_252(alpha, "mean")),
            Mistake("an annualized alpha in percent (answers are decimals)", percent(alpha * H)),
            Mistake("the monthly alpha, not annualized", alpha),
            Mistake("compounding, (1 + alpha)**12 - 1; the course annualizes means by multiplying by 12",
                    (1 + alpha) ** H - 1),
        ]

    carried = None
    if monthly_alpha is not None:
        try:
            own = as_number(monthly_alpha, which)
        except AssertionError:
            own = None
        if own is not None and not _close(own, fit.alpha, 1e-6, _default_atol(fit.alpha)):
            carried = (own * H, QUESTION[which], variants(own))
    _judge(got, fit.alpha * H, name, what=f"{ticker}'s monthly {'CAPM' if which == 'alpha_capm' else 'three-factor'} alpha times 12",
           mistakes=variants(fit.alpha), carried=carried,
           checklist="multiply the monthly alpha by 12 (decimals per year).")


def alpha_capm_annual(value, *, ticker, alpha_capm=None) -> None:
    """CAPM alpha per year (decimals): monthly alpha times 12."""
    _annual(value, ticker, alpha_capm, "alpha_capm_annual", "alpha_capm")


def alpha_ff3_annual(value, *, ticker, alpha_ff3=None) -> None:
    """Three-factor alpha per year (decimals): monthly alpha times 12."""
    _annual(value, ticker, alpha_ff3, "alpha_ff3_annual", "alpha_ff3")


# --------------------------------------------------------------------------
# Questions 4 to 6: hedge, exposures, legs, variance and contributions
# --------------------------------------------------------------------------
def _carried_basis(ticker, betas, factors_):
    """``(factors, betas, question)`` built from the student's earlier answers when one was wrong, else None."""
    own_f = _student_factors(factors_)
    own_b = _student_betas(betas, ticker)
    if own_f is None and own_b is None:
        return None
    F = _factors() if own_f is None else own_f
    b = _fit(ticker, _factors()).betas[list(FF3)] if own_b is None else own_b[list(FF3)]
    return F, b, QUESTION["factors"] if own_f is not None else QUESTION["betas"]


def _judge_on(got, name, ticker, betas, factors_, build, *, what, checklist):
    """Judge ``got`` against ``build(F, b)`` = (reference, mistakes), with error carried forward."""
    want, mistakes = build(_factors(), _fit(ticker, _factors()).betas[list(FF3)])
    basis = _carried_basis(ticker, betas, factors_)
    carried = None
    if basis is not None:
        F, b, question = basis
        ecf_want, ecf_mistakes = build(F, b)
        carried = (ecf_want, question, ecf_mistakes)
    _judge(got, want, name, what=what, mistakes=mistakes, carried=carried, checklist=checklist)


def hedged(value, *, ticker, betas=None, factors=None) -> None:
    """Monthly hedged returns r_e - b' f (a Series on the monthly dates)."""
    ticker = _ticker(ticker)
    got = as_series(value, "hedged", _dates(), index_desc=DATES_DESC)
    r, alpha = _excess(ticker), _fit(ticker, _factors()).alpha
    capm_beta = _fit(ticker, _factors()["Mkt-RF"]).beta

    def build(F, b):
        want = r - F @ b
        return want, [
            Mistake("adding the tracking portfolio instead of subtracting it (r_e + b' f)", r + F @ b),
            Mistake("a hedge of the market leg only (r_e - b_Mkt Mkt-RF); hedge all three factors",
                    r - b["Mkt-RF"] * F["Mkt-RF"]),
            Mistake("a hedge with the CAPM beta on the market only", r - capm_beta * F["Mkt-RF"]),
            Mistake("the residuals (hedged minus alpha): the hedged portfolio keeps its alpha", want - alpha),
        ]

    _judge_on(got, "hedged", ticker, betas, factors, build, what=f"{ticker}'s monthly excess return minus b' f",
              checklist="hedged = r_e - (b_Mkt Mkt-RF + b_SMB SMB + b_HML HML), month by month, with the betas of "
                        "question 2.")


def exposures(value, *, ticker, hedged=None, factors=None) -> None:
    """Slopes of the hedged series on the three factors: recomputed from the student's own ``hedged``."""
    ticker = _ticker(ticker)
    got = as_series(value, "exposures", pd.Index(FF3), index_desc="the factor names Mkt-RF, SMB, HML")
    if hedged is None:
        raise AssertionError("exposures is judged on your hedged series, which is missing (define hedged in question 4).")
    series = as_series(hedged, "hedged", _dates(), index_desc=DATES_DESC)
    own_f = _student_factors(factors)
    F = _factors() if own_f is None else own_f   # the factors the student hedged against
    slopes = solutions_module().fit_factor_model(series, F).betas[list(FF3)]
    if not _close(got, slopes, 1e-6, 1e-8):
        raise AssertionError("exposures are not the slopes of the regression of your hedged series on a constant "
                             "and Mkt-RF, SMB, HML: compute them from hedged (do not type them in).")
    scale = max(1.0, float(np.abs(_fit(ticker, _factors()).betas).max()))
    left = [k for k in FF3 if abs(slopes[k]) > 1e-8 * scale]
    if left:
        raise AssertionError(f"Your hedged series still has exposure to {', '.join(left)}: with the in-sample "
                             "three-factor betas the hedged portfolio has zero slope on every factor.")


def legs(value, *, ticker, betas=None) -> None:
    """Dollar positions in each factor that hedge $1,000,000 long in the stock."""
    ticker = _ticker(ticker)
    got = as_series(value, "legs", pd.Index(FF3), index_desc="the factor names Mkt-RF, SMB, HML")

    def build(F, b):
        return -SIZE * b, [
            Mistake("the tracking portfolio's positions (+$1M times the betas): hedge legs have the opposite sign", SIZE * b),
            Mistake("legs per dollar of the stock (or in millions); the question asks for dollars on $1,000,000", -b),
        ]

    _judge_on(got, "legs", ticker, betas, None, build, what="the hedge of $1,000,000 long in " + ticker,
              checklist="each leg is minus $1,000,000 times that factor's beta.")


def factor_var(value, *, ticker, betas=None, factors=None) -> None:
    """Monthly factor variance b' Sigma_f b (Sigma_f with its covariances, ddof=1)."""
    ticker = _ticker(ticker)
    got = as_number(value, "factor_var")
    n = len(_dates())
    total = float(_excess(ticker).var())
    m = solutions_module().mistakes

    def build(F, b):
        S = F.cov(ddof=1)
        fv = float(b @ S @ b)
        return fv, [
            Mistake("a diagonal factor covariance matrix (the factors' covariances forgotten); Sigma_f is the full "
                    "covariance matrix of Mkt-RF, SMB and HML", float(b @ m.diagonal_factor_cov(S) @ b)),
            Mistake("an annualized variance (times 12); the question asks for the monthly one", fv * H),
            Mistake("a monthly variance annualized with 252 (that is for daily data)", fv * 252),
            Mistake("Sigma_f with ddof=0; the course uses ddof=1", fv * (n - 1) / n),
            Mistake("a volatility (square root) instead of a variance", np.sqrt(fv)),
            Mistake("the factor share instead of the factor variance", fv / total),
        ]

    _judge_on(got, "factor_var", ticker, betas, factors, build, what=f"{ticker}'s three-factor betas",
              checklist="factor_var = b' Sigma_f b, with Sigma_f = the 3 x 3 covariance matrix (ddof=1) of the factors.")


def contributions(value, *, ticker, betas=None, factors=None) -> None:
    """Euler contributions b_k (Sigma_f b)_k / Var(r_e), a Series by factor."""
    ticker = _ticker(ticker)
    got = as_series(value, "contributions", pd.Index(FF3), index_desc="the factor names Mkt-RF, SMB, HML")
    total = float(_excess(ticker).var())

    def build(F, b):
        S = F.cov(ddof=1)
        euler = b * (S @ b) / total
        own_only = b**2 * pd.Series(np.diag(S), index=list(FF3)) / total
        return euler, [
            Mistake("contributions without the cross terms (b_k**2 Var(f_k) / Var(r_e)): they leave out the factors' "
                    "covariances and do not add up to the factor share", own_only),
            Mistake("contributions as shares of the factor variance (they should be shares of Var(r_e))",
                    euler * total / float(b @ S @ b)),
            Mistake("contributions not divided by Var(r_e): the question asks for shares of the total variance",
                    euler * total),
            Mistake("contributions in percent (shares are decimals)", percent(euler)),
        ]

    _judge_on(got, "contributions", ticker, betas, factors, build, what=f"{ticker}'s three-factor betas",
              checklist="contribution_k = b_k (Sigma_f b)_k / Var(r_e), with Var(r_e) the sample variance (ddof=1) "
                        "of the monthly excess return.")


# --------------------------------------------------------------------------
# Question 6: five tickers
# --------------------------------------------------------------------------
def _five(names: tuple, F: pd.DataFrame):
    """Three-factor betas and residual variances of the five on the factors ``F``, and their CAPM fits."""
    sol = solutions_module()
    fits = {t: sol.fit_factor_model(_excess(t), F) for t in names}
    B = pd.DataFrame({t: fits[t].betas for t in names}).T.loc[list(names), list(FF3)]
    var_e = pd.Series({t: fits[t].var_e for t in names})
    one = {t: sol.fit_factor_model(_excess(t), F["Mkt-RF"]) for t in names}
    return B, var_e, one


def implied_cov(value, *, tickers, factors=None) -> None:
    """5 x 5 three-factor implied covariance B Sigma_f B' + D (monthly), labelled by ticker."""
    names = _tickers(tickers)
    idx = pd.Index(list(names))
    got = as_frame(value, "implied_cov", idx, list(names), index_desc=f"the tickers {', '.join(names)}")
    sol = solutions_module()
    sample = _monthly()[list(names)].cov()

    def build(F):
        B, var_e, one = _five(names, F)
        S = F.cov(ddof=1)
        want = sol.implied_covariance(B, S, var_e).loc[list(names), list(names)]
        return want, [
            Mistake("a diagonal factor covariance matrix (the factors' covariances forgotten)",
                    lambda: sol.implied_covariance(B, sol.mistakes.diagonal_factor_cov(S), var_e)),
            Mistake("B Sigma_f B' without the residual variances D on the diagonal",
                    lambda: sol.implied_covariance(B, S, 0.0)),
            Mistake("the one-factor (CAPM) implied matrix; the question asks for three factors",
                    lambda: sol.implied_covariance(pd.Series({t: one[t].beta for t in names}), F["Mkt-RF"].var(),
                                                   pd.Series({t: one[t].var_e for t in names}))),
            Mistake("the sample covariance matrix, not the factor-implied one", sample),
            Mistake("an annualized matrix (times 12); the question asks for monthly figures", want * H),
            Mistake("a monthly matrix annualized with 252 (that is for daily data)", want * 252),
        ]

    want, mistakes = build(_factors())
    own = _student_factors(factors)
    carried = None
    if own is not None:
        ecf_want, ecf_mistakes = build(own)
        carried = (ecf_want, QUESTION["factors"], ecf_mistakes)
    _judge(got, want, "implied_cov", what=f"the monthly three-factor fits of {', '.join(names)}", mistakes=mistakes,
           carried=carried, checklist="implied_cov = B Sigma_f B' + diag(var_e): B the 5 x 3 betas, Sigma_f the "
                                      "factors' 3 x 3 covariance (ddof=1), var_e the residual variances (ddof=1).")


def _count(value, name, want, hints):
    got = as_int(value, name)
    if got == want:
        return
    message = f"{name} is not the right number of parameters."
    found = [text for wrong, text in hints if wrong == got and wrong != want]
    message += f" This matches {found[0]}." if found else (
        " Count each distinct parameter once: betas, factor variances and covariances, residual variances; "
        "for the unrestricted matrix the variances and the distinct covariances.")
    raise AssertionError(message)


def params_factor(value, *, tickers) -> None:
    """Parameters of the three-factor covariance model for the five tickers: NK + K(K+1)/2 + N."""
    n, k = len(_tickers(tickers)), len(FF3)
    want = solutions_module().parameter_counts(n, k)["factor_model"]
    _count(value, "params_factor", want, [
        (n * k + k + n, "counting the factor variances but not the factor covariances (Sigma_f has K(K+1)/2 "
                        "distinct entries)"),
        (n * k + k * k + n, "counting every entry of Sigma_f: Cov(f_j, f_k) = Cov(f_k, f_j) is one parameter"),
        (n * k + n, "forgetting the factor covariance matrix Sigma_f"),
        (n * k + k * (k + 1) // 2, "forgetting the N residual variances"),
        (2 * n + 1, "the one-factor count 2N + 1; the question asks for three factors"),
    ])


def params_unrestricted(value, *, tickers) -> None:
    """Parameters of the unrestricted covariance matrix of the five tickers: N(N+1)/2."""
    n = len(_tickers(tickers))
    _count(value, "params_unrestricted", n * (n + 1) // 2, [
        (n * n, "counting every entry of the symmetric matrix: Cov(i, j) = Cov(j, i) is one parameter"),
        (n * (n - 1) // 2, "counting only the covariances: the variances on the diagonal are parameters too"),
    ])


def ticker(value) -> None:
    """``TICKER`` is a bundled ticker other than the chapter's BAC."""
    _ticker(value)


def tickers(value) -> None:
    """``TICKERS`` lists five distinct bundled tickers."""
    _tickers(value)
