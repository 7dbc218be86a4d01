"""Checks for the ``variance-shares`` assignment.

Variance decomposition Var(r_e) = beta^2 Var(f) + Var(eps) of the student's
``TICKER`` on daily data, the factor risk share, the hedge per unit of the
stock that brings the share down to ``VBAR``, and the same figures in two
fixed periods, a calm one and a crisis.
"""

from __future__ import annotations

import math

import pandas as pd

from . import _data, _params
from ._core import (COEF, SMALL, Carried, Mistake, as_frame, as_number, as_series, compare, differs,
                    number_or_none, percent, require_computed, solutions_module)

#: The two periods compared: label -> (first year, last year), both included.
PERIODS = {"2005-2006": ("2005", "2006"), "2008-2009": ("2008", "2009")}
PERIOD_COLUMNS = ("beta", "var_f", "var_e", "factor_share")
_PERIOD_INDEX = pd.Index(list(PERIODS))
_PERIOD_DESC = "the period labels '2005-2006' and '2008-2009'"


def _vbar() -> float:
    """Limit on the factor risk share in the check in progress: ``P["vbar"]``

    (the student's own with per-student variants; else the default of
    ``factordata.variants.DEFAULTS``, 0.1, the number the text uses).
    """
    return _params.value("vbar")


def _setup(ticker):
    ticker = _data.check_ticker(ticker)
    return ticker, _ref(ticker), f"{ticker}'s daily excess returns"


def ticker(value) -> None:
    """``TICKER`` is one of the bundled stocks."""
    _data.check_ticker(value)


def _share(beta, var_f, var_e):
    return beta**2 * var_f / (beta**2 * var_f + var_e)


@_params.cached
def _ref(ticker: str) -> dict:
    sol = solutions_module()
    fit = _data.fit(ticker)
    dec = sol.variance_decomposition(fit.beta, fit.var_f, fit.var_e)
    hedge = sol.hedge_for_risk_share(_vbar(), fit.beta, fit.var_f, fit.var_e)
    rows, full_rows, ddof0_rows = {}, {}, {}
    for label, (start, end) in PERIODS.items():
        pf = _data.fit(ticker, start, end)
        rows[label] = {"beta": pf.beta, "var_f": pf.var_f, "var_e": pf.var_e,
                       "factor_share": sol.variance_decomposition(pf.beta, pf.var_f, pf.var_e).factor_share}
        # Mistake: keeping the full-sample beta inside each period.
        r, f = _data.excess(ticker, start, end), _data.factor(start, end)
        e = r - fit.beta * f
        full_rows[label] = {"beta": fit.beta, "var_f": f.var(), "var_e": e.var(),
                            "factor_share": _share(fit.beta, f.var(), e.var())}
        n = pf.nobs
        ddof0_rows[label] = {"beta": pf.beta, "var_f": pf.var_f * (n - 1) / n, "var_e": pf.var_e * (n - 1) / n,
                             "factor_share": rows[label]["factor_share"]}
    table = pd.DataFrame.from_dict(rows, orient="index").loc[_PERIOD_INDEX, list(PERIOD_COLUMNS)]
    hedges = pd.Series({label: sol.hedge_for_risk_share(_vbar(), row["beta"], row["var_f"], row["var_e"])
                        for label, row in rows.items()}).loc[_PERIOD_INDEX]
    return {
        "fit": fit, "dec": dec, "hedge": hedge, "table": table, "hedges": hedges,
        "table_full_beta": pd.DataFrame.from_dict(full_rows, orient="index").loc[_PERIOD_INDEX, list(PERIOD_COLUMNS)],
        "table_ddof0": pd.DataFrame.from_dict(ddof0_rows, orient="index").loc[_PERIOD_INDEX, list(PERIOD_COLUMNS)],
    }


def _ddof0(value, n):
    return value * (n - 1) / n


def var_factor(value, *, ticker) -> None:
    """Factor part of the daily variance, beta^2 Var(f) (ddof=1), decimals squared."""
    ticker, ref, what = _setup(ticker)
    got = as_number(value, "var_factor")
    fit = ref["fit"]
    compare(got, ref["dec"].factor, "var_factor", what=what, mistakes=[
        Mistake("beta x Var(f): the factor variance is beta squared times Var(f)", fit.beta * fit.var_f),
        Mistake("beta x std(f), a volatility, not a variance", abs(fit.beta) * math.sqrt(fit.var_f)),
        Mistake("a variance with ddof=0 (numpy's default); the question asks for ddof=1", _ddof0(ref["dec"].factor, fit.nobs)),
        Mistake("an annualized variance; the question asks for the daily one", ref["dec"].factor * _data.H),
        Mistake("the factor's own variance Var(f), without beta squared", fit.var_f),
        _data.subsample_finder(ticker, "var_factor"),
    ], checklist="var_factor = beta**2 x Var(f), with the sample variance (ddof=1) of the daily factor.", precision=SMALL)


def var_idio(value, *, ticker) -> None:
    """Idiosyncratic part, Var(eps) (ddof=1), decimals squared per day."""
    ticker, ref, what = _setup(ticker)
    got = as_number(value, "var_idio")
    fit = ref["fit"]
    n = fit.nobs
    compare(got, fit.var_e, "var_idio", what=what, mistakes=[
        Mistake("a variance with ddof=0 (numpy's default); the question asks for ddof=1", _ddof0(fit.var_e, n)),
        Mistake("a variance with ddof=2 (statsmodels' mse_resid or scale); the question asks for ddof=1",
                fit.var_e * (n - 1) / (n - 2)),
        Mistake("a volatility (std) instead of a variance", math.sqrt(fit.var_e)),
        Mistake("the total variance of the excess return, not the residual's", ref["dec"].total),
        Mistake("an annualized variance; the question asks for the daily one", fit.var_e * _data.H),
        _data.subsample_finder(ticker, "var_e"),
    ], checklist="var_idio is the sample variance (ddof=1) of the regression residuals.", precision=SMALL)


def var_total(value, *, ticker) -> None:
    """Total daily variance Var(r_e) (ddof=1) = var_factor + var_idio."""
    ticker, ref, what = _setup(ticker)
    got = as_number(value, "var_total")
    total = ref["dec"].total
    compare(got, total, "var_total", what=what, mistakes=[
        Mistake("a variance with ddof=0 (numpy's default); the question asks for ddof=1", _ddof0(total, ref["fit"].nobs)),
        Mistake("a volatility (std) instead of a variance", math.sqrt(total)),
        Mistake("an annualized variance; the question asks for the daily one", total * _data.H),
        Mistake("beta x Var(f) + Var(eps): beta must be squared", ref["fit"].beta * ref["fit"].var_f + ref["fit"].var_e),
        _data.subsample_finder(ticker, "var_r"),
    ], checklist="var_total is the sample variance (ddof=1) of the daily excess return; it equals var_factor + var_idio.",
       precision=SMALL)


def factor_share(value, *, ticker, var_factor=None, var_idio=None, var_total=None) -> None:
    """Factor risk share beta^2 Var(f) / Var(r_e): a decimal between 0 and 1.

    ``var_factor``, ``var_idio``, ``var_total``: the student's parts of the
    decomposition (same question), for error carried forward.
    """
    ticker, ref, what = _setup(ticker)
    got = as_number(value, "factor_share")
    fit = ref["fit"]
    m = solutions_module().mistakes
    share = ref["dec"].factor_share
    compare(got, share, "factor_share", what=what, mistakes=[
        Mistake("a share in percent (answers are decimals)", percent(share)),
        Mistake("a share of volatilities, |beta| std(f) / std(r_e): shares are of variances", m.factor_share_of_vols(fit.beta, fit.var_f, fit.var_e)),
        Mistake("the idiosyncratic share, 1 - factor share", 1 - share),
        Mistake("beta x Var(f) / Var(r_e): beta must be squared", fit.beta * fit.var_f / ref["dec"].total),
        Mistake("the wrong denominator: var_factor / var_idio divides by the idiosyncratic variance; "
                "a share divides by the total variance, var_total", ref["dec"].factor / fit.var_e),
        Mistake("the wrong denominator: var_factor / (var_factor + var_total) counts the factor part twice; "
                "divide by var_total", ref["dec"].factor / (ref["dec"].factor + ref["dec"].total)),
        _data.subsample_finder(ticker, "factor_share"),
    ], checklist="factor_share = var_factor / var_total.", precision=COEF,
       carried=_share_carried(ref, var_factor, var_idio, var_total))


def _share_carried(ref, var_factor, var_idio, var_total):
    vf, vi, vt = (number_or_none(v) for v in (var_factor, var_idio, var_total))
    dec, fit = ref["dec"], ref["fit"]
    out = []
    if vf is not None and vt is not None and vt != 0:
        out.append(Carried("question 1", "var_factor and var_total", differs(vf, dec.factor) or differs(vt, dec.total),
                           lambda: vf / vt, lambda: [
                               Mistake("a share in percent (answers are decimals)", 100 * vf / vt),
                               Mistake("the wrong denominator: divide by var_total, not var_idio", vf / vi if vi else None)]))
    if vf is not None and vi is not None and vf + vi != 0:
        out.append(Carried("question 1", "var_factor and var_idio", differs(vf, dec.factor) or differs(vi, fit.var_e),
                           lambda: vf / (vf + vi)))
    return out


def hedge(value, *, ticker, var_idio=None) -> None:
    """Factor position per unit of the stock that brings the share down to VBAR.

    ``var_idio``: the student's residual variance (question 1), for error
    carried forward.
    """
    ticker, ref, what = _setup(ticker)
    got = as_number(value, "hedge")
    fit = ref["fit"]
    vi = number_or_none(var_idio)
    vi = vi if vi is not None and vi > 0 else None
    m = solutions_module().mistakes
    args = (_vbar(), fit.beta, fit.var_f, fit.var_e)
    compare(got, ref["hedge"], "hedge", what=f"{what} and the limit VBAR", mistakes=[
        Mistake("the right size with the wrong sign: a hedge of a long, positive-beta stock sells the factor (negative)",
                m.hedge_sign_flipped(*args)),
        Mistake("a full hedge, -beta: it meets the limit but sells more of the factor than needed", m.hedge_full_beta(*args)),
        Mistake("a formula without the square root: |beta + hedge| = sqrt(VBAR var_e / ((1 - VBAR) var_f))", m.hedge_without_sqrt(*args)),
        Mistake("a formula without the (1 - VBAR) factor in the denominator",
                math.sqrt(_vbar() * fit.var_e / fit.var_f) - fit.beta),
        Mistake("the target beta itself, not the hedge: the hedge is target beta minus beta",
                math.sqrt(_vbar() * fit.var_e / ((1 - _vbar()) * fit.var_f))),
        Mistake(_LARGER_ROOT, _larger_root(_vbar(), fit.beta, fit.var_f, fit.var_e)),
    ], checklist="the share of 1 stock plus `hedge` units of the factor is (beta + hedge)**2 var_f / ((beta + hedge)**2 var_f + var_e); solve share = VBAR for the smallest short.",
       precision=COEF, carried=[Carried("question 1", "var_idio", differs(vi, fit.var_e),
                                        lambda: solutions_module().hedge_for_risk_share(_vbar(), fit.beta, fit.var_f, vi),
                                        lambda: [Mistake(_LARGER_ROOT, _larger_root(_vbar(), fit.beta, fit.var_f, vi))])])


_LARGER_ROOT = ("the larger root: beta + hedge = -sqrt(VBAR var_e / ((1 - VBAR) var_f)) also meets the limit, "
                "but sells more of the factor than needed; take the smallest short, +sqrt(...) - beta")


def _larger_root(vbar, beta, var_f, var_e):
    return -math.sqrt(vbar * var_e / ((1 - vbar) * var_f)) - beta


def hedged_share(value, *, ticker, hedge=None) -> None:
    """Factor share of the position 1 stock + ``hedge`` factor: VBAR.

    A "show it" answer: computed, never typed in, and judged on the
    student's own ``hedge`` (question 2) when given: it must be the factor
    share of 1 stock plus that many units of the factor.
    """
    ticker, ref, what = _setup(ticker)
    got = as_number(value, "hedged_share")
    require_computed("hedged_share")
    fit = ref["fit"]
    want = _share(fit.beta + ref["hedge"], fit.var_f, fit.var_e)
    h_s = number_or_none(hedge)
    if h_s is None and math.isclose(got, want, rel_tol=1e-4):  # shown with the student's own hedge, or not at all
        raise AssertionError("hedged_share cannot be shown without your hedge: define hedge (question 2) "
                             "and compute the share of 1 stock plus hedge units of the factor.")
    compare(got, want, "hedged_share", what=f"{what} and the limit VBAR", mistakes=[
        Mistake("a share in percent (answers are decimals)", percent(want)),
        Mistake("the share before hedging", ref["dec"].factor_share),
        Mistake("a hedge with the wrong sign (see the hedge question)",
                _share(fit.beta - ref["hedge"], fit.var_f, fit.var_e)),
        Mistake("a hedge without the square root (see the hedge question)",
                lambda: _share(fit.beta + solutions_module().mistakes.hedge_without_sqrt(_vbar(), fit.beta, fit.var_f, fit.var_e),
                               fit.var_f, fit.var_e)),
    ], checklist="recompute the share with the position's beta, beta + hedge.", precision=COEF,
       carried=[Carried("question 2", "hedge", differs(h_s, ref["hedge"]),
                        lambda: _share(fit.beta + h_s, fit.var_f, fit.var_e), lambda: [
                            Mistake("a share in percent (answers are decimals)", 100 * _share(fit.beta + h_s, fit.var_f, fit.var_e)),
                            Mistake("the hedge's sign flipped in the share", _share(fit.beta - h_s, fit.var_f, fit.var_e))])])


_TABLE_CHECKLIST = {
    "beta": "each period's beta comes from its own regression on that period's daily data.",
    "var_f": "the sample variance (ddof=1) of the daily factor within each period.",
    "var_e": "the sample variance (ddof=1) of each period's own regression residuals.",
    "factor_share": "beta**2 var_f / (beta**2 var_f + var_e) within each period.",
}


def _own_table(value):
    """The student's period table as floats on the expected labels, or None when unusable."""
    if not isinstance(value, pd.DataFrame):
        return None
    try:
        if not set(_PERIOD_INDEX) <= set(value.index) or not set(PERIOD_COLUMNS) <= set(value.columns):
            return None
        out = value.loc[list(_PERIOD_INDEX), list(PERIOD_COLUMNS)].astype(float)
    except (TypeError, ValueError, KeyError):
        return None
    return None if out.isna().to_numpy().any() else out


def period_table(value, *, ticker, column=None) -> None:
    """DataFrame: rows '2005-2006', '2008-2009'; columns beta, var_f, var_e, factor_share.

    ``column``: check that column only (the hidden test gives each column
    its own point); ``var_e`` and ``factor_share`` are judged on the
    student's own ``beta`` (and ``var_f``, ``var_e``) columns when those are
    wrong (error carried forward).
    """
    ticker, ref, what = _setup(ticker)
    columns = PERIOD_COLUMNS if column is None else (column,)
    got = as_frame(value, "period_table", _PERIOD_INDEX, columns, index_desc=_PERIOD_DESC, extra_columns_ok=True)
    table = ref["table"]
    for col in columns:
        if col not in PERIOD_COLUMNS:
            raise ValueError(f"unknown column {col!r}")
        mistakes = [
            Mistake("the full-sample beta used in each period: re-estimate beta on each period's data",
                    ref["table_full_beta"][col]),
        ]
        if col in ("var_f", "var_e"):
            mistakes += [
                Mistake("a variance with ddof=0 (numpy's default); the question asks for ddof=1", ref["table_ddof0"][col]),
                Mistake("a volatility (std) instead of a variance", table[col] ** 0.5),
                Mistake("an annualized variance; the question asks for daily figures", table[col] * _data.H),
                Mistake("a daily variance annualized with 12 (that is for monthly data); "
                        "the question asks for daily figures", table[col] * 12),
                Mistake("a variance in percent squared (returns are decimals)", table[col] * 1e4),
            ]
        if col == "factor_share":
            mistakes += [
                Mistake("a share in percent (answers are decimals)", percent(table[col])),
                Mistake("the wrong denominator: beta**2 var_f / var_e divides by the idiosyncratic variance; "
                        "a share divides by the total, beta**2 var_f + var_e",
                        table["beta"] ** 2 * table["var_f"] / table["var_e"]),
            ]
        if col == "beta":
            mistakes = [Mistake(_ab_raw(), _raw_betas(ticker))] + mistakes
        compare(got[col], table[col], f"period_table['{col}']", what=f"{what} within each period",
                mistakes=mistakes, checklist=_TABLE_CHECKLIST[col], precision=COEF if col in ("beta", "factor_share") else SMALL,
                carried=_table_carried(ticker, col, _own_table(value), table))


def _table_carried(ticker, col, got, table):
    if got is None:  # the student's table is incomplete: nothing to carry forward
        return []
    if col == "factor_share":
        own = got[["beta", "var_f", "var_e"]]
        wrong = differs(own, table[["beta", "var_f", "var_e"]])
        return [Carried("question 3", "beta, var_f and var_e columns", wrong,
                        lambda: _share(own["beta"], own["var_f"], own["var_e"]))]
    if col == "var_e":
        def from_own_beta():
            out = {}
            for label, (start, end) in PERIODS.items():
                r, f = _data.excess(ticker, start, end), _data.factor(start, end)
                out[label] = float((r - got.loc[label, "beta"] * f).var())
            return pd.Series(out).loc[_PERIOD_INDEX]
        return [Carried("question 3", "beta column", differs(got["beta"], table["beta"]), from_own_beta)]
    return []


def _ab_raw():
    return "a regression on raw returns instead of excess returns"


def _raw_betas(ticker):
    return pd.Series({label: _data.raw_fit(ticker, start, end).beta for label, (start, end) in PERIODS.items()}).loc[_PERIOD_INDEX]


def period_hedges(value, *, ticker, period_table=None) -> None:
    """Series indexed by period label: the hedge per unit meeting VBAR in each period.

    ``period_table``: the student's table (question 3); hedges computed from
    its rows pass when the table is wrong (error carried forward).
    """
    ticker, ref, what = _setup(ticker)
    got = as_series(value, "period_hedges", _PERIOD_INDEX, index_desc=_PERIOD_DESC)
    m = solutions_module().mistakes
    t = ref["table"]
    per = lambda fn: pd.Series([fn(_vbar(), t.loc[p, "beta"], t.loc[p, "var_f"], t.loc[p, "var_e"]) for p in _PERIOD_INDEX],
                               index=_PERIOD_INDEX)
    own = _own_table(period_table)
    sol = solutions_module()
    per_own = lambda fn: pd.Series([fn(_vbar(), own.loc[p, "beta"], own.loc[p, "var_f"], own.loc[p, "var_e"])
                                    for p in _PERIOD_INDEX], index=_PERIOD_INDEX)
    compare(got, ref["hedges"], "period_hedges", what=f"{what} within each period and the limit VBAR", mistakes=[
        Mistake("the right size with the wrong sign: the hedge sells the factor (negative)", per(m.hedge_sign_flipped)),
        Mistake("a full hedge, -beta, in each period", per(m.hedge_full_beta)),
        Mistake("a formula without the square root", per(m.hedge_without_sqrt)),
        Mistake("the full-sample hedge in both periods: use each period's own beta, var_f and var_e",
                pd.Series(ref["hedge"], index=_PERIOD_INDEX)),
        Mistake(_LARGER_ROOT, per(_larger_root)),
    ], checklist="apply the hedge formula with each period's own beta, var_f and var_e.", precision=COEF,
       carried=[Carried("question 3", "period_table", differs(own, t), lambda: per_own(sol.hedge_for_risk_share),
                        lambda: [Mistake(_LARGER_ROOT, per_own(_larger_root)),
                                 Mistake("the right size with the wrong sign", per_own(m.hedge_sign_flipped))])])


# Every check above takes ``params=P`` (the notebook's per-student parameters).
_params.parametrize(globals(), "variance-shares")
