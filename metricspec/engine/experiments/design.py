"""The covariate matrix of an adjusted comparison: numbers and booleans as they are, categories as indicators.

A category column (text) becomes one 0/1 column per value but the most common one (the reference
level; ties by value), named ``column=value``. Rows with a missing covariate are left out (and
counted). Columns that are constant, or a linear combination of the others, cannot be estimated and
are left out with their names, so the propensity and outcome models stay identifiable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import scipy.linalg

MAX_LEVELS = 50
"""A category column with more values than this is refused: an indicator per value would overfit."""


@dataclass(frozen=True)
class Design:
    """Covariates as a float matrix (no intercept), one name per column; ``keep`` marks the frame's rows used."""

    matrix: np.ndarray
    names: list[str]
    keep: np.ndarray  # bool per row of the frame: every covariate present
    dropped: list[str]  # columns left out: constant or collinear


class DesignError(ValueError):
    """A covariate cannot be used (wrong type, too many categories)."""


def _columns(frame: pl.DataFrame, column: str) -> tuple[list[np.ndarray], list[str], np.ndarray]:
    series = frame.get_column(column)
    dtype = series.dtype
    if dtype.is_numeric() or dtype == pl.Boolean:
        values = series.cast(pl.Float64).to_numpy().astype(np.float64)
        return [values], [column], np.isfinite(values)
    if dtype in (pl.String, pl.Categorical, pl.Enum):
        text = series.cast(pl.String)
        present = text.is_not_null().to_numpy()
        counts = text.drop_nulls().value_counts(sort=False)
        levels = sorted(zip(counts.get_column("count").to_list(), counts.get_column(column).to_list(), strict=True),
                        key=lambda c: (-c[0], c[1]))
        if len(levels) > MAX_LEVELS:
            raise DesignError(f"covariate {column} has {len(levels)} values (at most {MAX_LEVELS}): group them in "
                              f"fewer categories")
        values = text.to_numpy()
        return ([(values == level).astype(np.float64) for _, level in sorted(levels[1:], key=lambda c: c[1])],
                [f"{column}={level}" for _, level in sorted(levels[1:], key=lambda c: c[1])], present)
    raise DesignError(f"covariate {column} must be a number, a boolean or a category, got {dtype}")


def build_design(frame: pl.DataFrame, covariates: list[str]) -> Design:
    """The covariate matrix of ``frame`` (rows with a missing covariate marked in ``keep``)."""
    cols: list[np.ndarray] = []
    names: list[str] = []
    keep = np.ones(frame.height, dtype=bool)
    for column in covariates:
        c, n, present = _columns(frame, column)
        cols += c
        names += n
        keep &= present
    matrix = np.column_stack(cols)[keep] if cols else np.empty((int(keep.sum()), 0))
    return _identifiable(matrix, names, keep)


def _identifiable(matrix: np.ndarray, names: list[str], keep: np.ndarray) -> Design:
    """Leave out constant columns, then columns that are linear combinations of earlier ones (pivoted QR)."""
    dropped: list[str] = []
    if matrix.shape[0] == 0:
        return Design(matrix, names, keep, dropped)
    varying = [j for j in range(matrix.shape[1]) if np.ptp(matrix[:, j]) > 0.0]
    dropped += [names[j] for j in range(matrix.shape[1]) if j not in varying]
    matrix, names = matrix[:, varying], [names[j] for j in varying]
    if matrix.shape[1] == 0:
        return Design(matrix, names, keep, dropped)
    centred = matrix - matrix.mean(axis=0)
    scaled = centred / np.linalg.norm(centred, axis=0)
    _, r, pivot = scipy.linalg.qr(scaled, mode="economic", pivoting=True)
    diag = np.abs(np.diag(r))
    rank = int((diag > 1e-8 * diag[0]).sum())
    chosen = sorted(int(j) for j in pivot[:rank])
    dropped += [names[j] for j in range(len(names)) if j not in chosen]
    return Design(matrix[:, chosen], [names[j] for j in chosen], keep, dropped)
