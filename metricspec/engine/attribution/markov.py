"""Markov-chain removal-effect attribution, solved exactly as an absorbing chain.

States: ``start``, one transient state per channel (order 1) or per tuple of the last up-to-k channels
(order k; the first k-1 states of a path are the shorter prefixes), and the absorbing ``conversion`` and
``null`` states. Transition probabilities are the observed transition counts over all converting and
non-converting paths, normalised per source state.

P(conv) is the absorption probability into ``conversion`` from ``start``: x = (I - Q)^-1 r. Removing a
channel c redirects every transition into a state containing c to ``null``, which is the same as deleting
those states from the transient system. For order 1 one matrix inverse N = (I - Q)^-1 gives every removal
at once: P(conv without visiting c) = P(conv) - h_c x_c with h_c = N[start, c] / N[c, c] the probability
of ever visiting c (strong Markov property). Higher orders solve one reduced sparse system per channel.

Value removal effects use the same chain with a reward on absorption into ``conversion``: the mean value of
the conversions whose path ends in that state (this is what ChannelAttribution's simulation estimates):
E[value] = (I - Q)^-1 rv with rv_i = (value converted from state i) / (paths leaving state i).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from metricspec.engine.attribution.grouping import distinct_sequences, expand, group_sums, runs

START, CONV, NULL = "S", "C", "N"
DENSE_LIMIT = 2000


@dataclass(frozen=True)
class MarkovFit:
    """Removal effects by channel uid (on conversions and on value) and the base chain quantities."""

    removal_effects: dict[int, float]
    removal_effects_value: dict[int, float]
    conversion_probability: float
    expected_value: float
    n_states: int


def distinct_paths(touches: pl.DataFrame, null_touches: pl.DataFrame) -> pl.DataFrame:
    """Distinct paths as ``path`` (str of uids joined by '>'), conversions, value, nulls; sorted by path.

    ``touches`` are grouped in runs of ``conv_id`` and ``null_touches`` in runs of ``null_id``, each run in path
    order (as :func:`~metricspec.engine.attribution.journeys.prepare` returns them). Paths are compared as
    integer sequences (hash, then exact check); only the distinct ones are turned into strings.
    """
    conv_runs = runs(touches["conv_id"].to_numpy())
    null_runs = runs(null_touches["null_id"].to_numpy())
    n_conv = len(conv_runs[0])
    digits = np.concatenate([touches["uid"].to_numpy(), null_touches["uid"].to_numpy()]).astype(np.int64)
    starts = np.concatenate([conv_runs[0], null_runs[0] + touches.height])
    lengths = np.concatenate([conv_runs[1], null_runs[1]])
    run_of_row = np.concatenate([conv_runs[2], null_runs[2] + n_conv])
    group, first = distinct_sequences(digits, starts, lengths, run_of_row)
    n = len(first)
    conv_value = touches["value"].to_numpy()[conv_runs[0]]  # one value per conversion, in conv_id order
    text = (pl.DataFrame({"g": np.repeat(np.arange(n), lengths[first]), "uid": digits[expand(starts[first],
                                                                                          lengths[first])]})
            .group_by("g", maintain_order=True).agg(pl.col("uid").cast(pl.String).str.join(">").alias("path")))
    return pl.DataFrame({
        "path": text["path"],
        "conversions": np.bincount(group[:n_conv], minlength=n).astype(np.int64),
        "value": group_sums(group[:n_conv], n, conv_value),
        "nulls": np.bincount(group[n_conv:], minlength=n).astype(np.int64),
    }).sort("path")


def transitions(paths: pl.DataFrame, order: int) -> pl.DataFrame:
    """Transition counts (src, dst, count) between states; states are '|'-joined uid tuples."""
    ex = (paths.with_row_index("pid")
          .select("pid", pl.col("path").str.split(">").alias("step"), "conversions", "nulls")
          .explode("step"))
    shifted = [pl.col("step").shift(j).over("pid") for j in reversed(range(order))]
    ex = ex.with_columns(pl.concat_str(shifted, separator="|", ignore_nulls=True).alias("dst"))
    ex = ex.with_columns(pl.col("dst").shift(1).over("pid").fill_null(START).alias("src"),
                         (pl.col("conversions") + pl.col("nulls")).alias("count"), pl.lit(0.0).alias("value"))
    inner = ex.select("src", "dst", "count", "value")
    last = (ex.group_by("pid", maintain_order=True)
            .agg(pl.col("dst").last(), pl.col("conversions").first(), pl.col("nulls").first())
            .with_columns(paths["value"].alias("conv_value")))
    # value into conversion summed per exit state in path order (deterministic, unlike a parallel group_by sum)
    exits = last.filter(pl.col("conversions") > 0)
    state = exits["dst"].rank("dense").cast(pl.Int64).to_numpy() - 1
    n_exit = int(state.max()) + 1 if len(state) else 0
    to_conv = (pl.DataFrame({"s": state, "src": exits["dst"], "count": exits["conversions"]})
               .group_by("s", "src").agg(pl.col("count").sum()).sort("s")
               .select("src", pl.lit(CONV).alias("dst"), "count",
                       pl.Series("value", group_sums(state, n_exit, exits["conv_value"].to_numpy()))))
    to_null = last.select(pl.col("dst").alias("src"), pl.lit(NULL).alias("dst"), pl.col("nulls").alias("count"),
                          pl.lit(0.0).alias("value"))
    return (pl.concat([inner, to_conv, to_null]).filter(pl.col("count") > 0)
            .group_by("src", "dst").agg(pl.col("count").sum(), pl.col("value").sum()).sort("src", "dst"))


def fit_markov(paths: pl.DataFrame, order: int = 1) -> MarkovFit:
    """Exact removal effects of every channel (uid) appearing in ``paths``."""
    tr = transitions(paths, order)
    states = [START, *sorted(set(tr["src"].to_list()) - {START})]
    index = {s: i for i, s in enumerate(states)}
    n = len(states)
    src = np.array([index[s] for s in tr["src"].to_list()], dtype=np.int64)
    cnt = tr["count"].to_numpy().astype(np.float64)
    out_total = np.bincount(src, weights=cnt, minlength=n)
    prob = cnt / out_total[src]
    dst_list = tr["dst"].to_list()
    is_transient = np.array([d not in (CONV, NULL) for d in dst_list])
    dst = np.array([index[d] if t else -1 for d, t in zip(dst_list, is_transient, strict=True)], dtype=np.int64)
    to_conv = np.array([d == CONV for d in dst_list], dtype=bool)
    # r: one-step conversion probability; rv: expected converted value in one step (mean value per exit state)
    rhs = np.zeros((n, 2))
    rhs[:, 0] = np.bincount(src[to_conv], weights=prob[to_conv], minlength=n)
    rhs[:, 1] = np.bincount(src[to_conv], weights=tr["value"].to_numpy()[to_conv], minlength=n) / out_total
    q = sp.csr_matrix((prob[is_transient], (src[is_transient], dst[is_transient])), shape=(n, n))
    a = (sp.identity(n, format="csc") - q.tocsc()).tocsc()
    members: dict[int, list[int]] = {}
    for i, s in enumerate(states[1:], start=1):
        for u in {int(x) for x in s.split("|")}:
            members.setdefault(u, []).append(i)
    removed: dict[int, np.ndarray] = {}
    if order == 1 and n <= DENSE_LIMIT:
        inv = np.linalg.inv(a.toarray())
        xy = inv @ rhs
        for u, (i,) in members.items():
            removed[u] = xy[0] - inv[0, i] / inv[i, i] * xy[i]
    else:
        xy = spla.splu(a).solve(rhs)
        for u, idx in members.items():
            keep = np.setdiff1d(np.arange(n), np.asarray(idx))
            removed[u] = spla.splu(a[keep][:, keep].tocsc()).solve(rhs[keep])[0]
    base, base_value = float(xy[0, 0]), float(xy[0, 1])

    def effect(without: float, with_: float) -> float:
        return 0.0 if with_ <= 0 else max(0.0, min(1.0, 1.0 - without / with_))

    return MarkovFit({u: effect(float(v[0]), base) for u, v in removed.items()},
                     {u: effect(float(v[1]), base_value) for u, v in removed.items()}, base, base_value, n)
