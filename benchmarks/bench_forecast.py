"""Calibration of goal forecasts: do the intervals cover, does the chance separate met from missed?

A backtest, in two parts (docs/goals.md#calibration holds the figures):

* **generated series** with known dynamics — daily counts and sums with a trend, a weekly cycle,
  noise (negative binomial, gamma amounts) and level shifts; follower-like levels that grow by
  noisy daily steps whose pace shifts; monthly conversion rates that drift and jump. For every series,
  goal windows of 3, 6 and 12 months are judged at 25, 50, 75 and 90 % of the way, through the same
  functions the engine calls (:func:`metricspec.engine.forecast.forecast` on a
  :class:`~metricspec.engine.forecast.GoalHistory` built as :mod:`metricspec.engine.goal_forecast`
  builds it);
* **the example data** (``specs/examples``): every goal of the examples, re-aimed at deadlines 1, 2
  and 3 months after month-ends inside the data, evaluated by ``metricspec`` itself at the month-end
  (the forecast) and at the deadline (the truth).

For each case it counts how often the truth falls inside the 80 % and the 95 % intervals, and scores
the chance of meeting targets at ±1, ±3 and ±10 % of the truth by the Brier score (mean squared
difference between the chance and 1 = met / 0 = missed; 0 is perfect, always answering 50 % scores
0.25) next to the rule metricspec used before (met or not by a point forecast: the run rate for
totals, a least-squares line through the last 8 periods for levels and rates, the current value for
rates over a window). Goals: 80 % intervals cover 75–85 %, and the Brier score beats the old rule.

Deterministic for a given ``--seed`` and sizes. Usage::

    python benchmarks/bench_forecast.py                      # 300 series a family + the examples
    python benchmarks/bench_forecast.py --series 40 --no-examples   # a quick run
    python benchmarks/bench_forecast.py --json forecast.json
    python benchmarks/bench_forecast.py --series 40 --no-examples --ets   # and ETS on short histories
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from metricspec.engine.forecast import Distribution, GoalHistory, chance_of, forecast

DAYS = 730  # two years a series
MONTH = 30  # generated months are 30 days
OFFSETS = (-0.10, -0.03, -0.01, 0.01, 0.03, 0.10)  # targets relative to the truth
WINDOWS = (91, 182, 364)  # goal windows (days) on daily series
SHARES = (0.25, 0.5, 0.75, 0.9)  # how far through the window the goal is judged
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Case:
    family: str
    history: GoalHistory
    truth: float
    old_forecast: float  # the previous engine's point forecast


# -- generated series ----------------------------------------------------------------------------

def _weekly(rng: np.random.Generator) -> np.ndarray:
    w = 1 + rng.uniform(0, 0.5) * np.sin(2 * np.pi * (np.arange(7) + rng.uniform(0, 7)) / 7)
    return w / w.mean()


def _shifts(rng: np.random.Generator, n: int, scale: float) -> np.ndarray:
    """Multiplicative level shifts: about 1.5 in two years, each a log-normal jump."""
    out = np.ones(n)
    for _ in range(rng.poisson(1.5)):
        out[rng.integers(30, n):] *= np.exp(rng.normal(0, scale))
    return out


def daily_counts(rng: np.random.Generator) -> np.ndarray:
    """Counts a day: a base rate of 2 to 300, a yearly trend of exp(N(0, 0.4)), a weekly cycle of up
    to ±50 %, shifts, and negative-binomial noise (dispersion 2, 10 or Poisson)."""
    t = np.arange(DAYS)
    base = rng.choice([2.0, 10.0, 50.0, 300.0]) * np.exp(rng.normal(0, 0.3))
    lam = base * np.exp(rng.normal(0, 0.4) * t / 365) * _weekly(rng)[t % 7] * _shifts(rng, DAYS, 0.25)
    k = rng.choice([2.0, 10.0, 1e6])
    return rng.negative_binomial(k, k / (k + lam)).astype(float)


def daily_amounts(rng: np.random.Generator) -> np.ndarray:
    """Sales a day: a count a day (as above), each sale a gamma amount (mean 80)."""
    counts = daily_counts(rng)
    return np.asarray([rng.gamma(2.0, 40.0, int(c)).sum() for c in counts])


def daily_level(rng: np.random.Generator) -> np.ndarray:
    """A follower count: daily steps of 1 to 30 whose pace shifts and drifts, with noise."""
    t = np.arange(DAYS)
    g = rng.choice([1.0, 5.0, 30.0]) * np.exp(rng.normal(0, 0.3))
    pace = g * _shifts(rng, DAYS, 0.5) * np.clip(1 + rng.normal(0, 0.3) * t / 365, 0.1, None)
    return np.asarray(1000 * g + np.cumsum(pace + rng.normal(0, g * rng.uniform(0.5, 3), DAYS)))


def daily_rate_parts(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Leads and conversions a day: conversions binomial with a rate that drifts and jumps."""
    leads = daily_counts(rng) + 1
    logit = rng.uniform(-3, 0) + rng.normal(0, 0.3) * np.arange(DAYS) / 365 + np.log(_shifts(rng, DAYS, 0.2))
    return rng.binomial(leads.astype(int), 1 / (1 + np.exp(-logit))).astype(float), leads


def _windows(rng: np.random.Generator) -> Iterator[tuple[int, int, int]]:
    """(start, last day, as-of day) of the goals judged on one daily series."""
    start = 365 + int(rng.integers(0, 7))
    for days in WINDOWS:
        for share in SHARES:
            yield start, min(start + days - 1, DAYS - 1), start + int(share * days) - 1


def _old_run_rate(y: np.ndarray, asof: int, current: float, left: int) -> float:
    return current + y[max(0, asof - 27):asof + 1].mean() * left


def _first_nonzero(y: np.ndarray, until: int) -> int:
    nz = np.flatnonzero(y[:until + 1])
    return int(nz[0]) if len(nz) else until


def total_cases(rng: np.random.Generator, n: int, counts: bool) -> list[Case]:
    out = []
    for _ in range(n):
        y = daily_counts(rng) if counts else daily_amounts(rng)
        for start, last, asof in _windows(rng):
            current, left = float(y[start:asof + 1].sum()), last - asof
            first = _first_nonzero(y, asof)
            h = GoalHistory("running_total", current, daily=y[first:asof + 1], days_left=left, offset=current,
                            counts=counts, floor=current)
            out.append(Case("counts total" if counts else "sales total", h, float(y[start:last + 1].sum()),
                            _old_run_rate(y, asof, current, left)))
    return out


def _old_linear(values: np.ndarray, ahead: int) -> float:
    """The previous rule: a least-squares line through the last (up to) 8 periods, at the deadline's period."""
    pts = values[-8:]
    if len(pts) < 3:
        return float(values[-1])
    x = np.arange(len(pts), dtype=float)
    slope, intercept = np.polyfit(x, pts, 1)
    return float(intercept + slope * (len(pts) - 1 + ahead))


def level_cases(rng: np.random.Generator, n: int) -> list[Case]:
    """``latest`` goals on a snapshot: the value on the last day of the deadline's month."""
    out = []
    for _ in range(n):
        level = daily_level(rng)
        monthly = level[MONTH - 1::MONTH]
        for _start, last, asof in _windows(rng):
            target_day = (last + 1) // MONTH * MONTH - 1  # the last month complete by the deadline
            done = (asof + 1) // MONTH  # months complete by the as-of day
            if target_day <= asof or done < 2:
                continue
            current = float(monthly[done - 1])
            h = GoalHistory("level", current, daily=np.diff(level[:asof + 1]), days_left=target_day - asof,
                            offset=float(level[asof]), floor=0.0)
            out.append(Case("level (followers)", h, float(level[target_day]),
                            _old_linear(monthly[:done], (target_day + 1) // MONTH - done)))
    return out


def rate_cases(rng: np.random.Generator, n: int) -> list[Case]:
    """``latest`` goals on a monthly rate, and ``total`` goals on the rate over the goal window."""
    out = []
    for _ in range(n):
        conv, leads = daily_rate_parts(rng)
        months = DAYS // MONTH
        rate = conv[:months * MONTH].reshape(months, MONTH).sum(1) / leads[:months * MONTH].reshape(months, MONTH).sum(1)
        for start, last, asof in _windows(rng):
            done, target = (asof + 1) // MONTH, (last + 1) // MONTH - 1
            if target >= done and done >= 2:
                h = GoalHistory("period", float(rate[done - 1]), values=rate[:done], ahead=target - done + 1,
                                floor=0.0)
                out.append(Case("rate (latest month)", h, float(rate[target]), _old_linear(rate[:done], target - done + 1)))
            current = float(conv[start:asof + 1].sum() / leads[start:asof + 1].sum())
            seen = (asof - start + 1) / (last - start + 1)
            left = (last + 1 + MONTH - 1) // MONTH - (asof + 1) // MONTH
            if done >= 2 and left >= 1:
                h = GoalHistory("window", current, values=rate[:done], ahead=left, share=seen, floor=0.0)
                out.append(Case("rate (over the window)", h, float(conv[start:last + 1].sum() / leads[start:last + 1].sum()),
                                current))
    return out


# -- scoring --------------------------------------------------------------------------------------

@dataclass
class Tally:
    cases: int = 0
    no_forecast: int = 0
    in80: int = 0
    in95: int = 0
    brier: float = 0.0
    brier_old: float = 0.0
    targets: int = 0

    def add(self, dist: Distribution, truth: float, old: float) -> None:
        self.cases += 1
        self.in80 += int(dist.quantile(0.1) <= truth <= dist.quantile(0.9))
        self.in95 += int(dist.quantile(0.025) <= truth <= dist.quantile(0.975))
        for d in OFFSETS:
            target = truth + d * abs(truth) if truth else d
            met = float(truth >= target)
            self.brier += (chance_of(dist, target, "increase") - met) ** 2
            self.brier_old += (float(old >= target) - met) ** 2
            self.targets += 1

    def row(self, family: str) -> dict[str, object]:
        n, t = max(self.cases, 1), max(self.targets, 1)
        return {"family": family, "cases": self.cases, "no_forecast": self.no_forecast,
                "coverage_80": self.in80 / n, "coverage_95": self.in95 / n,
                "brier": self.brier / t, "brier_old_rule": self.brier_old / t}


def ets_tally(cases: list[Case]) -> Tally:
    """statsmodels' exponential smoothing on the same per-period cases, whatever their length (the
    engine uses it from 36 periods on): how its own intervals cover on short histories."""
    from metricspec.engine.forecast.exponential_smoothing import ets_forecast

    tally = Tally()
    for c in cases:
        h = c.history
        fit = ets_forecast(h.values, h.ahead) if h.measure == "period" and h.values is not None and h.ahead else None
        if fit is None:
            tally.no_forecast += h.measure == "period"
            continue
        tally.add(fit.distribution, c.truth, c.old_forecast)
    return tally


def score(cases: list[Case]) -> dict[str, Tally]:
    tallies: dict[str, Tally] = {}
    for c in cases:
        tally = tallies.setdefault(c.family, Tally())
        fc = forecast(c.history)
        if fc is None:
            tally.no_forecast += 1
            continue
        tally.add(fc.distribution, c.truth, c.old_forecast)
    return tallies


# -- the example data, through the engine ----------------------------------------------------------

@dataclass(frozen=True)
class ExampleCase:
    goal: object  # the spec's Goal, re-aimed
    family: str
    as_of: dt.date
    deadline: dt.date


def example_tallies(horizons: tuple[int, ...] = (1, 2, 3)) -> dict[str, Tally]:
    """Every example goal re-aimed at month-ends inside its data, judged by ``evaluate``: one run per
    deadline for the truths, one per as-of date for the forecasts (all of that date's goals and
    targets at once)."""
    from metricspec.engine.run import evaluate
    from metricspec.loader import load_spec
    from metricspec.plan.periods import add_periods, period_end, period_range

    os.chdir(ROOT)
    tallies: dict[str, Tally] = {}
    for path in sorted((ROOT / "specs" / "examples").glob("*.yaml")):
        loaded = load_spec(path.relative_to(ROOT))
        late = evaluate(loaded, as_of=dt.date(2015, 1, 1) if "2014" in path.read_text() else dt.date(2027, 1, 1))
        cases = []
        for g in late.goals():
            done = [p.period for p in g.trend if p.value is not None and not p.partial]
            if not done:
                continue
            last_day = period_end(done[-1], g.grain) - dt.timedelta(days=1)
            months = period_range(done[0].replace(day=1), last_day.replace(day=1), "month")
            if period_end(months[-1], "month") - dt.timedelta(days=1) > last_day:
                months = months[:-1]  # the data's last month is not complete
            goal = loaded.spec.objectives[g.objective].goals[g.id]
            for m in months[4:-1] if len(months) >= 6 else []:
                as_of = add_periods(m, "month", 1) - dt.timedelta(days=1)
                start = goal.start or (goal.period.start if goal.period else None) or dt.date(as_of.year, 1, 1)
                for h in horizons:
                    deadline = add_periods(m, "month", 1 + h) - dt.timedelta(days=1)
                    if start <= as_of and deadline.replace(day=1) <= months[-1]:
                        aimed = goal.model_copy(update={"deadline": deadline, "period": None, "start": start,
                                                        "campaign": None})
                        cases.append(ExampleCase(aimed, f"examples: {g.measure} {g.kpi}", as_of, deadline))
        _score_examples(loaded, evaluate, cases, tallies)
    return tallies


def _run(loaded: object, evaluate: Callable[..., object], goals: dict[str, object], at: dt.date) -> dict[str, object]:
    """Evaluate ``goals`` (id -> Goal) of the spec at ``at``; id -> GoalResult."""
    from metricspec.loader import LoadedSpec
    from metricspec.spec.models import Objective

    assert isinstance(loaded, LoadedSpec)
    spec = loaded.spec.model_copy(update={"objectives": {"bench": Objective(goals=goals)}})  # type: ignore[arg-type]
    results = evaluate(dataclasses.replace(loaded, spec=spec), as_of=at)
    return {g.id: g for g in results.goals()}  # type: ignore[attr-defined]


def _score_examples(loaded: object, evaluate: Callable[..., object], cases: list[ExampleCase],
                    tallies: dict[str, Tally]) -> None:
    truths: dict[int, float] = {}
    for deadline in sorted({c.deadline for c in cases}):
        ids = {f"c{i}": c.goal for i, c in enumerate(cases) if c.deadline == deadline}
        for gid, g in _run(loaded, evaluate, ids, deadline).items():
            if g.current is not None:  # type: ignore[attr-defined]
                truths[int(gid[1:])] = g.current  # type: ignore[attr-defined]
    for as_of in sorted({c.as_of for c in cases}):
        todo = [i for i, c in enumerate(cases) if c.as_of == as_of and i in truths]
        goals = {f"c{i}_{j}": cases[i].goal.model_copy(update={"target": _target(truths[i], d)})  # type: ignore[attr-defined]
                 for i in todo for j, d in enumerate((0.0, *OFFSETS))}
        judged = _run(loaded, evaluate, goals, as_of)
        for i in todo:
            _tally_example(cases[i], truths[i], [judged[f"c{i}_{j}"] for j in range(len(OFFSETS) + 1)],
                           tallies.setdefault(cases[i].family, Tally()))


def _target(truth: float, offset: float) -> float:
    return truth + offset * abs(truth) if truth else offset


def _tally_example(case: ExampleCase, truth: float, judged: list[object], tally: Tally) -> None:
    now = judged[0]
    if now.chance is None or now.final or not now.forecast_intervals:  # type: ignore[attr-defined]
        tally.no_forecast += 1
        return
    intervals = {i.level: (i.low, i.high) for i in now.forecast_intervals}  # type: ignore[attr-defined]
    tally.cases += 1
    tally.in80 += int(intervals[0.8][0] <= truth <= intervals[0.8][1])
    tally.in95 += int(intervals[0.95][0] <= truth <= intervals[0.95][1])
    increase = now.direction == "increase"  # type: ignore[attr-defined]
    old = _old_example_forecast(now)
    for d, g in zip(OFFSETS, judged[1:], strict=True):
        target = _target(truth, d)
        met = float(truth >= target if increase else truth <= target)
        tally.brier += (g.chance - met) ** 2  # type: ignore[attr-defined]
        tally.brier_old += (float(old >= target if increase else old <= target) - met) ** 2
        tally.targets += 1


def _old_example_forecast(g: object) -> float:
    """The previous engine's point forecast for an example goal judged by today's engine."""
    if g.measure == "total" and g.forecast_method_code == "forecast_model_run_rate":  # type: ignore[attr-defined]
        return float(g.forecast)  # type: ignore[attr-defined]  # the run rate, unchanged
    if g.measure == "total":  # type: ignore[attr-defined]
        return float(g.current)  # type: ignore[attr-defined]  # "the rate over the window holds"
    values = np.asarray([p.value for p in g.trend if p.value is not None and not p.partial],  # type: ignore[attr-defined]
                        dtype=float)
    ahead = g.periods_left or 1  # type: ignore[attr-defined]
    return _old_linear(values, ahead) if len(values) else float(g.current)  # type: ignore[attr-defined]


# -- main ---------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--series", type=int, default=300, help="generated series per family (default 300)")
    ap.add_argument("--seed", type=int, default=20261101)
    ap.add_argument("--no-examples", action="store_true", help="skip the backtest on specs/examples")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--ets", action="store_true",
                    help="also score statsmodels' exponential smoothing on the monthly rates, however short")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    cases = (total_cases(rng, args.series, counts=True) + total_cases(rng, args.series, counts=False)
             + level_cases(rng, args.series) + rate_cases(rng, args.series))
    tallies = score(cases)
    rows = [t.row(f) for f, t in tallies.items()] + [_sum(tallies.values()).row("all generated")]
    if args.ets:
        rows.append(ets_tally(cases).row("rate (latest month), statsmodels ETS"))
    if not args.no_examples:
        ex = example_tallies()
        rows += [t.row(f) for f, t in sorted(ex.items())] + [_sum(ex.values()).row("all examples")]
    print(f"bench_forecast: seed {args.seed}, {args.series} series a family, "
          f"{time.perf_counter() - started:.0f} s, load average {os.getloadavg()[0]:.2f}")
    print(f"{'family':34} {'cases':>6} {'none':>5} {'80% cover':>10} {'95% cover':>10} {'Brier':>7} {'old rule':>9}")
    for r in rows:
        print(f"{r['family']:34} {r['cases']:>6} {r['no_forecast']:>5} {r['coverage_80']:>10.1%} "
              f"{r['coverage_95']:>10.1%} {r['brier']:>7.3f} {r['brier_old_rule']:>9.3f}")
    if args.json:
        args.json.write_text(json.dumps({"seed": args.seed, "series": args.series, "rows": rows}, indent=2) + "\n")
    return 0


def _sum(tallies: object) -> Tally:
    out = Tally()
    for t in tallies:  # type: ignore[attr-defined]
        for f in dataclasses.fields(Tally):
            setattr(out, f.name, getattr(out, f.name) + getattr(t, f.name))
    return out


if __name__ == "__main__":
    sys.exit(main())
