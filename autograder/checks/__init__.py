"""Answer checks called by the hidden tests of the five assignments.

One module per assignment (``alpha_beta``, ``hedging``, ``risk_budgets``,
``variance_shares``, ``five_tickers``, ``many_factors``); each public function takes the
student's value plus their choice (``ticker=TICKER`` or ``tickers=TICKERS``),
computes the reference with :mod:`solutions` on the same data, and raises
``AssertionError`` with a message that teaches when the value is wrong:

* wrong type or shape: what was expected ("beta should be a single number
  (float), got Series.");
* wrong value: which common mistake it matches ("beta is wrong. This matches
  a regression on raw returns instead of excess returns"), else a checklist
  for the question;
* a rounded value passes when it is the reference rounded to at least the
  precision a person would report (``_core.Precision``: whole dollars,
  2 decimals for Sharpe ratios and t-statistics, 4 for betas, shares,
  hedges and correlations, 6 significant digits otherwise).

Messages never contain the reference value. The checks run in the trusted
judge (:mod:`autograder.judge`) on the student's answers rebuilt as plain
data, never in the student's process.

Examples
--------
A hidden test cell holds one short call per variable, each one item with
its points; an answer computed from an earlier one also gets the student's
earlier answer (error carried forward), read without failing when it is not
defined::

    from autograder import checks
    _beta = beta if "beta" in dir() else None  # your own beta: error carried forward
    checks.hedging.beta(beta, ticker=TICKER)  # 1 point
    checks.hedging.tracking(tracking, ticker=TICKER, beta=_beta)  # 1 point

The keyword arguments default to None, so stock ``nbgrader autograde`` runs
the same calls in the student's kernel.
"""

from . import alpha_beta, five_tickers, hedging, many_factors, risk_budgets, variance_shares

__all__ = ["alpha_beta", "five_tickers", "hedging", "many_factors", "risk_budgets", "variance_shares"]
