"""Answer checks called by the hidden tests of the five assignments.

One module per assignment (``alpha_beta``, ``hedging``, ``risk_budgets``,
``variance_shares``, ``five_tickers``, ``many_factors``); each public function takes the
student's value plus their choice (``ticker=TICKER`` or ``tickers=TICKERS``),
computes the reference with :mod:`solutions` on the same data, and raises
``AssertionError`` with a message that teaches when the value is wrong:

* wrong type or shape: what was expected ("beta should be a single number
  (float), got Series.");
* wrong value: which common mistake it matches ("This matches a regression on
  raw returns instead of excess returns"), else a checklist for the question.

Messages never contain the reference value. The checks run in the trusted
judge (:mod:`autograder.judge`) on the student's answers rebuilt as plain
data, never in the student's process.

Examples
--------
A hidden test cell holds one short call per variable::

    from autograder import checks
    checks.alpha_beta.beta(beta, ticker=TICKER)
"""

from . import alpha_beta, five_tickers, hedging, many_factors, risk_budgets, variance_shares

__all__ = ["alpha_beta", "five_tickers", "hedging", "many_factors", "risk_budgets", "variance_shares"]
