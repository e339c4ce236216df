"""Deterministic numeric helpers: grouped float sums, contiguous runs and exact distinct integer sequences.

polars' ``group_by(...).agg(pl.col(x).sum())`` adds a group's values with compensated (Kahan) summation per
partition of rows and then merges the partial sums, so with several threads the last bits of a sum can
change from one run to the next. A window sum, ``pl.col(x).sum().over(key)``, adds each group's values with
the same compensated summation in row order, in one piece: the result depends only on the row order, which
the attribution code makes canonical (conversion, then path position).
"""

from __future__ import annotations

import numpy as np
import polars as pl


def sums_by(frame: pl.DataFrame, key: str, columns: dict[str, pl.Expr]) -> pl.DataFrame:
    """``key`` and the per-key sums of ``columns`` (name -> expression), one row per key, sorted by key."""
    # mapping_strategy="explode": one row per group, in the same group order for every expression
    return frame.select(pl.col(key).first().over(key, mapping_strategy="explode"),
                        *[e.sum().over(key, mapping_strategy="explode").alias(n) for n, e in columns.items()]
                        ).sort(key)


def group_sums(keys: np.ndarray, n_groups: int, values: np.ndarray) -> np.ndarray:
    """Sum of ``values`` per integer key in ``[0, n_groups)`` (0 for absent keys), reproducibly (see above)."""
    out = np.zeros(n_groups)
    if len(keys):
        s = sums_by(pl.DataFrame({"k": keys, "v": values}), "k", {"v": pl.col("v")})
        out[s["k"].to_numpy()] = s["v"].to_numpy()
    return out


def runs(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For rows grouped in contiguous runs of equal ``ids``: run starts, run lengths and each row's run number."""
    n = len(ids)
    new = np.ones(n, dtype=bool)
    if n:
        np.not_equal(ids[1:], ids[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    lengths = np.diff(np.append(starts, n))
    return starts, lengths, np.cumsum(new) - 1


def expand(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Row indices of the runs ``[start, start + length)`` one after the other (the inverse of :func:`runs`)."""
    total = int(lengths.sum())
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(starts - offsets, lengths) + np.arange(total, dtype=np.int64)


_P = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit multiplier (golden ratio); hashing only, equality is verified


def sequence_hash(digits: np.ndarray, pos: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Polynomial hash (mod 2**64) of each run of ``digits`` (>= 1), mixed with the run length."""
    if len(starts) == 0:
        return np.zeros(0, dtype=np.uint64)
    powers = np.cumprod(np.full(int(lengths.max()), _P, dtype=np.uint64))
    with np.errstate(over="ignore"):
        terms = digits.astype(np.uint64) * powers[pos]
        mixed: np.ndarray = np.add.reduceat(terms, starts) ^ (lengths.astype(np.uint64) * np.uint64(0xFF51AFD7ED558CCD))
    return mixed


def distinct_sequences(digits: np.ndarray, starts: np.ndarray, lengths: np.ndarray,
                       run_of_row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group equal runs of ``digits`` (non-negative ints; runs are contiguous): each run's group and each group's
    first run. Exact: candidate groups come from a 64-bit hash, and every run is then compared element-wise with
    its group's first run; on a hash collision the groups are rebuilt from the runs' full text.
    """
    pos = np.arange(len(digits), dtype=np.int64) - starts[run_of_row]
    h = sequence_hash(digits + 1, pos, starts, lengths)
    _, first, group = np.unique(h, return_index=True, return_inverse=True)
    group = group.reshape(-1)
    rep = first[group]  # each run's candidate twin: the first run with its hash
    same = bool(np.array_equal(lengths[rep], lengths)) and bool(
        np.array_equal(digits[starts[rep][run_of_row] + pos], digits))
    if not same:  # a hash collision: exact (slower) grouping on the runs' text
        text = (pl.DataFrame({"run": run_of_row, "d": digits}).select("run", pl.col("d").cast(pl.String))
                .group_by("run", maintain_order=True).agg(pl.col("d").str.join(",")))["d"]
        _, first, group = np.unique(text.to_numpy().astype(object), return_index=True, return_inverse=True)
        group = group.reshape(-1)
    # number groups by first appearance so the result does not depend on hash values
    order = np.argsort(first, kind="stable")
    renumber = np.empty_like(order)
    renumber[order] = np.arange(len(order))
    return renumber[group], first[order]
