"""What a forecast knows about a goal's value at its deadline: a probability distribution.

Two shapes cover every model (docs/goals.md#chance-of-success):

* :class:`ScaledT` — ``loc + scale · T`` with ``T`` Student's t with ``df`` degrees of freedom
  (``df = inf`` is the normal distribution, ``scale = 0`` a point mass at ``loc``), held between a
  floor and a ceiling where the value cannot go (a running total of non-negative values cannot fall
  below today's total, a share cannot pass 1): the probability of a tail beyond one sits on it.
* :class:`ShiftedNegativeBinomial` — ``offset + N`` with ``N`` a negative binomial count: the future
  count of a count KPI with a short history (Poisson counts whose rate is known only from the few
  days seen).

Both answer the three questions a goal asks — the chance of ending at least (or at most) at a value,
and the value a given share of outcomes stays under — with scipy.special's distribution functions
(Student's t: ``stdtr``/``stdtrit``, the normal: ``ndtr``/``ndtri``, the negative binomial through
the regularised incomplete beta function); tests/test_forecast.py checks them against scipy.stats.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import ModuleType
from typing import Protocol

DIGITS = 9
"""A target that is a whole count up to float noise (``10.000000001``) is that count."""
TINY = 1e-12
"""A spread below this share of the value is float noise (the spread of a constant series): a point mass."""


def _special() -> ModuleType:
    # scipy.special (the t and incomplete-beta functions; about a second to import on a loaded machine,
    # and scipy.stats several): imported on the first forecast, so runs without goals never pay for it
    from scipy import special  # heavy: on the first forecast only (see above)

    return special  # type: ignore[no-any-return]


class Distribution(Protocol):
    """The value at the deadline."""

    def quantile(self, q: float) -> float:
        """The smallest value ``v`` with ``P(V <= v) >= q`` (0 < q < 1)."""

    def at_most(self, x: float) -> float:
        """``P(V <= x)``."""

    def at_least(self, x: float) -> float:
        """``P(V >= x)``."""


@dataclass(frozen=True)
class ScaledT:
    """``loc + scale · T_df`` clipped to ``[floor, ceiling]``; ``scale == 0``: a point mass at ``loc``
    (clipped)."""

    loc: float
    scale: float
    df: float = math.inf
    floor: float | None = None
    ceiling: float | None = None

    def _cdf(self, z: float) -> float:
        sp = _special()
        return float(sp.ndtr(z) if math.isinf(self.df) else sp.stdtr(self.df, z))

    def _ppf(self, q: float) -> float:
        sp = _special()
        return float(sp.ndtri(q) if math.isinf(self.df) else sp.stdtrit(self.df, q))

    def _clip(self, value: float) -> float:
        if self.floor is not None:
            value = max(self.floor, value)
        if self.ceiling is not None:
            value = min(self.ceiling, value)
        return value

    def _point(self) -> bool:
        return self.scale <= TINY * max(1.0, abs(self.loc))

    def quantile(self, q: float) -> float:
        return self._clip(self.loc if self._point() else self.loc + self.scale * self._ppf(q))

    def at_most(self, x: float) -> float:
        if self.floor is not None and x < self.floor:
            return 0.0
        if self.ceiling is not None and x >= self.ceiling:
            return 1.0
        if self._point():
            return 1.0 if self._clip(self.loc) <= x else 0.0
        return self._cdf((x - self.loc) / self.scale)

    def at_least(self, x: float) -> float:
        if self.floor is not None and x <= self.floor:
            return 1.0
        if self.ceiling is not None and x > self.ceiling:
            return 0.0
        if self._point():
            return 1.0 if self._clip(self.loc) >= x else 0.0
        return self._cdf((self.loc - x) / self.scale)  # symmetric: P(T >= z) = P(T <= -z)


@dataclass(frozen=True)
class ShiftedNegativeBinomial:
    """``offset + N``, ``N`` negative binomial with ``n`` successes and success probability ``p``
    (scipy's parametrisation: mean ``n (1 - p) / p``)."""

    offset: float
    n: float
    p: float

    def cdf(self, k: int) -> float:
        """``P(N <= k)`` = I_p(n, k + 1), the regularised incomplete beta function."""
        return 0.0 if k < 0 else float(_special().betainc(self.n, k + 1, self.p))

    def sf(self, k: int) -> float:
        """``P(N > k)`` = I_{1-p}(k + 1, n)."""
        return 1.0 if k < 0 else float(_special().betainc(k + 1, self.n, 1 - self.p))

    def quantile(self, q: float) -> float:
        k = max(0, math.floor(float(_special().nbdtrik(q, self.n, self.p))))  # near the answer; then exact
        while k > 0 and self.cdf(k - 1) >= q:
            k -= 1
        while self.cdf(k) < q:
            k += 1
        return self.offset + k

    def at_most(self, x: float) -> float:
        return self.cdf(math.floor(round(x - self.offset, DIGITS)))

    def at_least(self, x: float) -> float:
        k = math.ceil(round(x - self.offset, DIGITS))
        return 1.0 if k <= 0 else self.sf(k - 1)

def chance_of(dist: Distribution, target: float, direction: str) -> float:
    """The probability that the value at the deadline meets ``target`` (at least it for
    ``increase``, at most it for ``decrease``)."""
    return dist.at_least(target) if direction == "increase" else dist.at_most(target)


def target_with_chance(dist: Distribution, chance: float, direction: str) -> float:
    """The target that is met with probability ``chance``: the ``1 - chance`` quantile for
    ``increase``, the ``chance`` quantile for ``decrease``."""
    return dist.quantile(1 - chance) if direction == "increase" else dist.quantile(chance)
