"""Distribution functions straight from :mod:`scipy.special`.

They are exactly what scipy.stats' norm, t, chi2 and binom compute (tests/test_experiments.py checks),
without the second scipy.stats takes to import.
"""

from __future__ import annotations

import math

from scipy import special


def norm_cdf(x: float) -> float:
    return float(special.ndtr(x))


def norm_sf(x: float) -> float:
    return float(special.ndtr(-x))


def norm_pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def norm_isf(q: float) -> float:
    return float(-special.ndtri(q))


def norm_ppf(q: float) -> float:
    return float(special.ndtri(q))


def t_sf(x: float, df: float) -> float:
    return float(special.stdtr(df, -x))


def t_isf(q: float, df: float) -> float:
    return float(-special.stdtrit(df, q))


def chi2_sf(x: float, df: float) -> float:
    return float(special.chdtrc(df, x))


#: relative slack when comparing a binomial tail with its target: bdtr's last digits must not decide an exact
#: tie (P(X <= 111) = 0.5 for n = 223, p = 0.5) the other way than scipy.stats' (Boost's) exact arithmetic does
_TIE = 1e-12


def _start(q: float, n: int, p: float) -> int:
    k = float(special.bdtrik(q, n, p))
    return min(max(math.ceil(k), 0), n) if math.isfinite(k) else (0 if q < 0.5 else n)


def binom_ppf(q: float, n: int, p: float) -> int:
    """Smallest ``k`` with ``P(X <= k) >= q`` for X ~ Binomial(n, p), ``0 < q < 1`` (scipy.stats.binom.ppf)."""
    k = _start(q, n, p)
    while k > 0 and special.bdtr(k - 1, n, p) >= q * (1.0 - _TIE):
        k -= 1
    while k < n and special.bdtr(k, n, p) < q * (1.0 - _TIE):
        k += 1
    return k


def binom_isf(q: float, n: int, p: float) -> int:
    """Smallest ``k`` with ``P(X > k) <= q`` (scipy.stats.binom.isf), from the upper tail itself so that a
    tiny ``q`` keeps its precision."""
    k = _start(1.0 - q, n, p)
    while k > 0 and special.bdtrc(k - 1, n, p) <= q * (1.0 + _TIE):
        k -= 1
    while k < n and special.bdtrc(k, n, p) > q * (1.0 + _TIE):
        k += 1
    return k
