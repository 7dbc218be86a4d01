"""Checks for the ``hedging`` assignment.

Tracking portfolio beta*f, hedged portfolio r_e - beta*f, their in-sample
properties, the dollar long-short trade (long NOTIONAL dollars of the stock,
$1M by default, short beta x NOTIONAL of the market) and the cash that trade
frees. Any bundled ticker; daily data over the full sample, or over the
student's own window and notional with per-student variants.
"""

from __future__ import annotations

import math

from . import _data, _params
from . import alpha_beta as _ab
from ._core import (COEF, DOLLARS, SMALL, Carried, Mistake, as_number, as_series, compare, differs,
                    number_or_none, percent, require_computed)

def _notional() -> float:
    """Dollars held long in the stock in the check in progress: ``P["notional"]``.

    The student's own with per-student variants; else the default of
    ``factordata.variants.DEFAULTS`` ($1,000,000), the number the text uses.
    """
    return _params.value("notional")


def _setup(ticker):
    ticker = _data.check_ticker(ticker)
    return ticker, _data.fit(ticker), f"{ticker}'s daily excess returns"


def ticker(value) -> None:
    """``TICKER`` is one of the bundled stocks."""
    _data.check_ticker(value)


def beta(value, *, ticker) -> None:
    """Full-sample daily beta of the stock (as in the alpha-beta assignment)."""
    _ab.beta(value, ticker=ticker, _forbidden=())


def _index_desc():
    return "the dates of the daily data"


def _own(value):
    return _ab._series_or_none(value, _data.dates())


def _beta_s(beta, fit):
    b = number_or_none(beta)
    return b, differs(b, fit.beta)


def tracking(value, *, ticker, beta=None) -> None:
    """Tracking return Series beta * f, decimals per day (``beta``: the student's, for ECF)."""
    ticker, fit, what = _setup(ticker)
    f = _data.factor()
    want = _solutions().tracking_returns(f, fit.beta)
    got = as_series(value, "tracking", want.index, index_desc=_index_desc())
    b_s, wrong = _beta_s(beta, fit)
    compare(got, want, "tracking", what=what, mistakes=[
        Mistake("the factor itself (beta = 1): scale it by the stock's beta", f),
        Mistake("the negative of the tracking portfolio (that is the hedging portfolio)", -want),
        Mistake("alpha + beta * f (the fitted values); the tracking portfolio holds no alpha", fit.fitted),
        Mistake(_ab._ABOUT_RAW, lambda: _data.raw_fit(ticker).beta * f),
    ], checklist="tracking is beta times the market's daily excess return, on every date.", precision=SMALL,
       carried=[Carried("question 1", "beta", wrong, lambda: b_s * f, lambda: [
           Mistake("the negative of the tracking portfolio (that is the hedging portfolio)", -b_s * f)])])


def hedged(value, *, ticker, beta=None, tracking=None) -> None:
    """Hedged return Series r_e - beta * f, decimals per day (``beta``, ``tracking``: question 1's answers)."""
    ticker, fit, what = _setup(ticker)
    r, f = _data.excess(ticker), _data.factor()
    want = _solutions().hedged_returns(r, f, fit.beta)
    got = as_series(value, "hedged", want.index, index_desc=_index_desc())
    b_s, wrong = _beta_s(beta, fit)
    t_s = _own(tracking)
    carried = [Carried("question 1", "beta", wrong, lambda: r - b_s * f, lambda: [
        Mistake("the wrong sign of the hedge, r_e + beta * f", r + b_s * f)])]
    carried.append(Carried("question 1", "tracking", differs(t_s, fit.beta * f), lambda: r - t_s))
    compare(got, want, "hedged", what=what, mistakes=[
        Mistake("the wrong sign of the hedge, r_e + beta * f: the hedge sells beta units of the factor", r + fit.beta * f),
        Mistake("a hedge of one unit of the factor, r_e - f: sell beta units, not one", r - f),
        Mistake("the residual (r_e - alpha - beta * f): the hedged portfolio keeps its alpha", fit.resid),
        Mistake(_ab._ABOUT_RAW, lambda: r - _data.raw_fit(ticker).beta * f),
    ], checklist="hedged is the stock's daily excess return minus beta times the factor's, on every date.",
       precision=SMALL, carried=carried)


def hedged_mean(value, *, ticker, hedged=None) -> None:
    """Mean daily hedged return; equals alpha in sample (``hedged``: question 2's answer, for ECF)."""
    ticker, fit, what = _setup(ticker)
    got = as_number(value, "hedged_mean")
    r = _data.excess(ticker)
    own = _own(hedged)
    want_series = r - fit.beta * _data.factor()
    compare(got, fit.alpha, "hedged_mean", what=what, mistakes=[
        Mistake("a hedged return with the wrong sign of the hedge, r_e + beta * f (see question 2)",
                (r + fit.beta * _data.factor()).mean()),
        Mistake("an annualized mean; the question asks for the daily mean", fit.alpha * _data.H),
        Mistake("the mean of the stock's excess return (unhedged)", r.mean()),
        Mistake("a mean in percent (answers are decimals)", percent(fit.alpha)),
        Mistake("the mean of the residual, which is zero: the hedged return keeps alpha", 0.0),
    ], checklist="the daily mean of hedged (which in sample equals the regression's alpha).", precision=SMALL,
       carried=[Carried("question 2", "hedged", differs(own, want_series), lambda: own.mean(), lambda: [
           Mistake("an annualized mean; the question asks for the daily mean", own.mean() * _data.H)])])


def hedged_var(value, *, ticker, hedged=None) -> None:
    """Daily variance (ddof=1) of the hedged return; equals var_e in sample (``hedged``: for ECF)."""
    ticker, fit, what = _setup(ticker)
    got = as_number(value, "hedged_var")
    h = _data.excess(ticker) - fit.beta * _data.factor()
    own = _own(hedged)
    compare(got, fit.var_e, "hedged_var", what=what, mistakes=[
        Mistake("a hedged return with the wrong sign of the hedge, r_e + beta * f (see question 2)",
                (_data.excess(ticker) + fit.beta * _data.factor()).var()),
        Mistake("a variance with ddof=0 (numpy's default); the question asks for ddof=1", h.var(ddof=0)),
        Mistake("a standard deviation instead of a variance", math.sqrt(fit.var_e)),
        Mistake("the variance of the unhedged excess return", _data.excess(ticker).var()),
        Mistake("an annualized variance; the question asks for the daily one", fit.var_e * _data.H),
    ], checklist="the sample variance (ddof=1) of the daily hedged returns.", precision=SMALL,
       carried=[Carried("question 2", "hedged", differs(own, h), lambda: own.var(ddof=1), lambda: [
           Mistake("a variance with ddof=0 (numpy's default); the question asks for ddof=1", own.var(ddof=0))])])


def _slope(y, f):
    return float(y.cov(f) / f.var())


def hedged_beta(value, *, ticker, hedged=None) -> None:
    """Slope of the hedged return regressed on the factor: zero up to rounding.

    A "show it" answer: computed, never typed in (the judge knows), and judged
    on the student's own ``hedged`` (question 2) when given: it must be the
    OLS slope of that Series on the factor.
    """
    ticker, fit, _ = _setup(ticker)
    got = as_number(value, "hedged_beta")
    require_computed("hedged_beta")
    f = _data.factor()
    own = _own(hedged)
    expected = _slope(own, f) if own is not None else 0.0
    if own is None and abs(got - expected) <= 1e-8:  # shown on the student's own hedged returns, or not at all
        raise AssertionError("hedged_beta cannot be shown without your hedged returns: define hedged "
                             "(question 2) and regress it on the factor.")
    if abs(got - expected) <= 1e-8:
        return
    message = ("hedged_beta is wrong. It should be the slope of the OLS of your hedged on a constant and the factor, "
               "which is zero up to rounding (below 1e-8 in absolute value).")
    if math.isclose(got, fit.beta, rel_tol=1e-6):
        message = "hedged_beta is wrong. This matches the stock's own beta: regress the hedged return, not r_e."
    elif math.isclose(got, 1 - fit.beta, rel_tol=1e-6) or math.isclose(got, 2 * fit.beta, rel_tol=1e-6):
        message = "hedged_beta is wrong. This matches a hedge with the wrong size or sign: hedged = r_e - beta * f."
    raise AssertionError(message)


def _raw_pnl(ticker, beta):
    r, f, rf = _data.excess(ticker), _data.factor(), _data.risk_free()
    return _notional() * ((r + rf) - beta * (f + rf)), _notional() * ((r + rf) - beta * f)


_RAW_PNL = ("raw returns instead of excess returns in the PnL (the excess PnL uses r_e and f, "
            "both net of the risk-free rate)")


def pnl(value, *, ticker, hedged=None) -> None:
    """Daily excess PnL in dollars of long NOTIONAL of stock / short beta*NOTIONAL market (``hedged``: for ECF)."""
    ticker, fit, what = _setup(ticker)
    r, f = _data.excess(ticker), _data.factor()
    hedged_ = _solutions().hedged_returns(r, f, fit.beta)
    want = _notional() * hedged_
    got = as_series(value, "pnl", want.index, index_desc=_index_desc())
    own = _own(hedged)
    raw1, raw2 = _raw_pnl(ticker, fit.beta)
    compare(got, want, "pnl", what=what, mistakes=[
        Mistake("returns, not dollars: multiply the hedged return by the notional (NOTIONAL dollars)", hedged_),
        Mistake("returns in percent (a PnL 100 times too large): returns are decimals", percent(want)),
        Mistake("the wrong sign of the hedge (long the market instead of short)", _notional() * (r + fit.beta * f)),
        Mistake("the unhedged PnL (no short position in the market)", _notional() * r),
        Mistake("a short of NOTIONAL of the market instead of beta x NOTIONAL", _notional() * (r - f)),
        Mistake(_RAW_PNL, raw1), Mistake(_RAW_PNL, raw2),
    ], checklist="pnl is NOTIONAL x (r_e - beta * f) dollars on every date.", precision=DOLLARS,
       carried=[Carried("question 2", "hedged", differs(own, hedged_), lambda: _notional() * own, lambda: [
           Mistake("returns in percent (a PnL 100 times too large): returns are decimals", percent(_notional() * own))])])


def pnl_annual(value, *, ticker, pnl=None) -> None:
    """Annualized mean excess PnL in dollars per year: mean(pnl) x 252 (``pnl``: for ECF)."""
    ticker, fit, what = _setup(ticker)
    got = as_number(value, "pnl_annual")
    want = _notional() * fit.alpha * _data.H
    own = _own(pnl)
    ref_pnl = _notional() * (_data.excess(ticker) - fit.beta * _data.factor())
    raw1, raw2 = _raw_pnl(ticker, fit.beta)
    compare(got, want, "pnl_annual", what=what, mistakes=[
        Mistake("the wrong sign of the hedge (long the market instead of short)",
                _notional() * (_data.excess(ticker) + fit.beta * _data.factor()).mean() * _data.H),
        Mistake("annualizing a daily mean with 12 (that is for monthly data); daily data annualizes with 252",
                _notional() * fit.alpha * 12),
        Mistake("the daily mean PnL, not annualized", _notional() * fit.alpha),
        Mistake("returns, not dollars: multiply by the notional (NOTIONAL dollars)", fit.alpha * _data.H),
        Mistake("returns in percent (a PnL 100 times too large): returns are decimals", percent(want)),
        Mistake("annualizing a mean with sqrt(252): means scale with 252", _notional() * fit.alpha * math.sqrt(_data.H)),
        Mistake("the total PnL over the whole sample, not the annual mean", _notional() * fit.alpha * fit.nobs),
        Mistake("the unhedged PnL (no short position in the market)", _notional() * _data.excess(ticker).mean() * _data.H),
        Mistake(_RAW_PNL, raw1.mean() * _data.H), Mistake(_RAW_PNL, raw2.mean() * _data.H),
    ], checklist="the mean daily dollar PnL times 252.", precision=DOLLARS,
       carried=[Carried("question 4", "pnl", differs(own, ref_pnl), lambda: own.mean() * _data.H, lambda: [
           Mistake("annualizing a daily mean with 12; daily data annualizes with 252", own.mean() * 12),
           Mistake("the daily mean PnL, not annualized", own.mean()),
           Mistake("the total PnL over the whole sample, not the annual mean", own.sum())])])


def cash_freed(value, *, ticker, beta=None) -> None:
    """Net cash the trade frees, in dollars: beta x NOTIONAL short proceeds - NOTIONAL long (``beta``: for ECF)."""
    ticker, fit, what = _setup(ticker)
    got = as_number(value, "cash_freed")
    want = (fit.beta - 1) * _notional()
    b_s, wrong = _beta_s(beta, fit)
    compare(got, want, "cash_freed", what=what, mistakes=[
        Mistake("the wrong sign: cash freed is the short's proceeds (beta x NOTIONAL) minus the NOTIONAL paid for the stock", -want),
        Mistake("the short's proceeds alone, without paying for the stock", fit.beta * _notional()),
        Mistake("a fraction, not dollars: multiply by the notional (NOTIONAL dollars)", fit.beta - 1),
    ], checklist="cash_freed = beta x NOTIONAL - NOTIONAL dollars.", precision=DOLLARS,
       carried=[Carried("question 1", "beta", wrong, lambda: (b_s - 1) * _notional(), lambda: [
           Mistake("the wrong sign: cash freed is the short's proceeds minus the NOTIONAL paid for the stock", (1 - b_s) * _notional())])])


def cash_income_annual(value, *, ticker, beta=None, cash_freed=None) -> None:
    """Annual interest on the cash freed: -(1 - beta) x mean daily rf x 252 x NOTIONAL (``beta``, ``cash_freed``: for ECF)."""
    ticker, fit, what = _setup(ticker)
    got = as_number(value, "cash_income_annual")
    rf = _data.risk_free().mean()
    want = -(1 - fit.beta) * rf * _data.H * _notional()
    b_s, wrong = _beta_s(beta, fit)
    c_s = number_or_none(cash_freed)
    compare(got, want, "cash_income_annual", what=f"{ticker}'s beta and the daily risk-free rate", mistakes=[
        Mistake("the wrong sign: -(1 - beta) x rf is what the freed cash earns (positive when beta > 1)", -want),
        Mistake("annualizing the daily rate with 12; daily data annualizes with 252", -(1 - fit.beta) * rf * 12 * _notional()),
        Mistake("a daily figure, not annualized", -(1 - fit.beta) * rf * _notional()),
        Mistake("a rate, not dollars: multiply by the notional (NOTIONAL dollars)", -(1 - fit.beta) * rf * _data.H),
        Mistake("interest on the whole short (beta x NOTIONAL) instead of on the net cash freed", fit.beta * rf * _data.H * _notional()),
        Mistake("a result in percent of a dollar amount (answers are dollars, rates are decimals)", percent(want)),
    ], checklist="multiply the cash freed by the average daily risk-free rate over the sample and by 252.",
       precision=DOLLARS, carried=[
           Carried("question 1", "beta", wrong, lambda: -(1 - b_s) * rf * _data.H * _notional()),
           Carried("question 5", "cash_freed", differs(c_s, (fit.beta - 1) * _notional()), lambda: c_s * rf * _data.H)])


def _solutions():
    from ._core import solutions_module

    return solutions_module()


# Every check above takes ``params=P`` (the notebook's per-student parameters).
_params.parametrize(globals(), "hedging")
