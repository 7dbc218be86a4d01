"""Model answers to the written questions, for the worked-solution pages.

Each entry is the code of a cell that the worked solution runs right after
the question's mark scheme: it writes a model answer from the notebook's own
variables (the stock and numbers of the worked solution), so every number in
it is computed when the book is built, never typed in, and the wording
follows the numbers (a beta below one reads "defensive", a t-statistic below
two "not significant"). ``export_assignments.py`` inserts these cells with
the tag ``remove-input``: readers see the answer, not the code.
"""

HEADER = "from IPython.display import Markdown\n"

MODEL_ANSWERS = {
    "w1-interpretation": HEADER + '''Markdown(
    f"**Model answer** (for {TICKER}, from this notebook's numbers). "
    f"{TICKER}'s beta is {beta:.2f}: "
    + ("below one, so on average it moves less than the market (defensive). " if beta < 1
       else "above one, so on average it amplifies the market's moves (cyclical). ")
    + f"The market explains {r2:.0%} of its daily variance; the other {1 - r2:.0%} is specific to the stock. "
    f"Its alpha is {alpha_annual:.1%} a year with a t-statistic of {tstat_alpha:.2f}, "
    + ("so it is statistically different from zero at about the 5% level. " if abs(tstat_alpha) > 2
       else "so it is not statistically different from zero. ")
    + "That alpha is biased upwards: `MKT` is the S&P 500's *price* return, without the index's dividends, "
    "so the factor's average is too low by the index's dividend yield and alpha absorbs about beta times that "
    f"yield a year ({beta:.2f} times the yield here), whether or not {TICKER} itself pays dividends. "
    "The choice of stocks by their 2022 index membership (survivorship) flatters alpha further."
)''',
    "w1-zero-exposure": HEADER + '''Markdown(
    f"**Model answer** (for {TICKER}, from this notebook's numbers). "
    "In sample the hedged return is alpha plus the OLS residual, and OLS makes the residual uncorrelated "
    f"with the factor, so the slope of `hedged` on `f` is zero up to rounding (here {hedged_beta:.1e}). "
    "Because the regression has a constant, the residuals average zero, so the mean of `hedged` is alpha "
    f"({hedged_mean:.6f} a day, alpha {alpha:.6f}), and its variance is the residual variance "
    f"({hedged_var:.3e}, against {model.resid.var():.3e}) because alpha is a constant. "
    "Out of sample none of this is exact: beta is estimated with error and drifts, so a hedge sized on past "
    "data leaves some factor exposure, and the hedged return's mean is the future alpha plus that leftover "
    "beta times the factor's mean, not the in-sample alpha."
)''',
    "w1-compare": HEADER + '''Markdown(
    f"**Model answer** (for {TICKER}, from this notebook's numbers). "
    f"Hedging removes the factor variance, so the daily volatility falls from {sigma_r:.2%} to {sigma_e:.2%} "
    f"and the same budget buys {sigma_r / sigma_e:.2f} times as much stock at every horizon. "
    f"Over a year the unhedged position expects ${pnl_unhedged:,.0f} of excess PnL, of which "
    f"${pnl_alpha_unhedged:,.0f} is alpha; the hedged one expects ${pnl_hedged:,.0f}, all of it alpha. "
    + ("A manager paid on alpha prefers the hedged position: it earns more alpha for the same risk, and the "
       "rest of the unhedged PnL is the market premium, which an index fund gives anyone. " if alpha > 0 else
       "With a negative alpha the hedge scales up a losing bet: the unhedged PnL is carried by the market "
       "premium, which an index fund gives anyone, and a manager paid on alpha would not take the position. ")
    + f"The Sharpe ratios are {sharpe_unhedged:.2f} unhedged and {sharpe_hedged:.2f} hedged (the information "
    "ratio alpha / residual volatility, annualized); as chapter 3 shows, hedging raises the Sharpe ratio only "
    "when the information ratio times (1 - sqrt(1 - R-squared)) exceeds the stock's correlation with the "
    "market times the market's Sharpe ratio. Sizes shrink with the square root of the horizon "
    "because, with roughly independent daily returns, variances add over days: the n-day standard deviation "
    "is the daily one times the square root of n."
)''',
    "w1-turmoil": HEADER + '''_calm, _crisis = period_table.index[0], period_table.index[-1]
_p = period_table
_drivers = []
if abs(_p.loc[_crisis, "beta"] - _p.loc[_calm, "beta"]) > 0.05:
    _drivers.append(f"beta moved from {_p.loc[_calm, 'beta']:.2f} to {_p.loc[_crisis, 'beta']:.2f}")
_drivers.append(f"the factor variance was {_p.loc[_crisis, 'var_f'] / _p.loc[_calm, 'var_f']:.1f} times its calm level")
_drivers.append(f"the residual variance {_p.loc[_crisis, 'var_e'] / _p.loc[_calm, 'var_e']:.1f} times its calm level")
_h0, _h1 = period_hedges[_calm], period_hedges[_crisis]
Markdown(
    f"**Model answer** (for {TICKER}, from this notebook's numbers). "
    f"The factor share went from {_p.loc[_calm, 'factor_share']:.1%} in {_calm} to "
    f"{_p.loc[_crisis, 'factor_share']:.1%} in {_crisis}: " + "; ".join(_drivers) + ". "
    "The share rises with beta and with the factor variance relative to the residual variance. "
    f"The hedge the limit requires is {_h0:.3f} in calm times and {_h1:.3f} in the crisis: "
    + ("no hedge was needed in either period. " if _h0 == 0 and _h1 == 0 else
       "the required short grew, so a hedge sized in calm times is too small exactly when the limit matters. "
       if _h1 < _h0 else
       "the required short shrank here, so the calm hedge over-hedges and still meets the limit; that is "
       "luck of this stock, not a rule. ")
    + "A risk manager must monitor the share on rolling windows and resize the hedge, since a fixed hedge "
    "is right only by chance."
)''',
    "w1-judgement": HEADER + '''if "ff3" in dir():  # many factors
    _t = ff3.tvalues[["SMB", "HML"]]
    _sig = [k for k in ("SMB", "HML") if abs(_t[k]) > 2]
    _answer = (
        f"**Model answer** (for {TICKER}, from this notebook's numbers). "
        f"The SMB and HML betas are {betas['SMB']:.2f} (t = {_t['SMB']:.1f}) and {betas['HML']:.2f} "
        f"(t = {_t['HML']:.1f}); " + (f"{' and '.join(_sig)} {'is' if len(_sig) == 1 else 'are'} significant. "
                                      if _sig else "neither is significant. ")
        + f"R-squared rises from {capm.rsquared:.3f} to {ff3.rsquared:.3f}, a rise that proves little alone, "
        "since adding regressors can never lower it in sample. "
        f"Alpha moves from {alpha_capm_annual:.1%} to {alpha_ff3_annual:.1%} a year: the change is the "
        "part of the CAPM alpha that was a size or value tilt, which anyone can buy, not skill. "
        f"The market's contribution to the variance is {contributions['Mkt-RF']:.1%}, SMB's "
        f"{contributions['SMB']:.1%} and HML's {contributions['HML']:.1%} (they can be negative, and the "
        "cross terms matter because the factors are correlated). "
        f"For five stocks the three-factor model needs {params_factor} parameters against "
        f"{params_unrestricted} unrestricted, so it saves nothing there; for hundreds of stocks NK + K(K+1)/2 + N "
        "is far below N(N+1)/2. Before deciding, estimate the betas on one period and judge the hedge or a "
        "minimum-variance portfolio on the next."
    )
else:  # five tickers
    _off = resid_corr.where(~np.eye(len(TICKERS), dtype=bool)).stack()
    _pair = _off.abs().idxmax()
    _gap = (implied_cov - sample_cov).where(~np.eye(len(TICKERS), dtype=bool)).stack()
    _gpair = _gap.abs().idxmax()
    _r2 = 1 - fits["var_e"] / np.diag(sample_cov)
    _answer = (
        f"**Model answer** (for {', '.join(TICKERS)}, from this notebook's numbers). "
        "The diagonals of the two matrices agree exactly (the in-sample variance decomposition), so only the "
        "covariances test the model. "
        f"The market explains between {_r2.min():.0%} and {_r2.max():.0%} of the stocks' daily variance. "
        f"The largest gap is for {_gpair[0]}-{_gpair[1]}, where the implied covariance is "
        + ("below" if _gap[_gpair] < 0 else "above") + " the sample one, and the largest residual correlation "
        f"is {_off[_pair]:.2f}, for {_pair[0]}-{_pair[1]}: "
        + ("a sizeable shared risk the one factor leaves out, as for peers in one industry. "
           if abs(_off[_pair]) > 0.2 else "small, so the factor captures most of the co-movement. ")
        + f"The model needs {counts['factor_model']} parameters against {counts['unrestricted']} "
        f"unrestricted, and {counts_universe['factor_model']} against {counts_universe['unrestricted']} for "
        "the whole universe: fewer parameters mean less estimation noise when N is large next to the sample. "
        "Good for diversified portfolios of stocks from different industries; add industry factors or shrink "
        "the sample matrix when peers share risk, and compare out of sample before choosing."
    )
Markdown(_answer)''',
}
