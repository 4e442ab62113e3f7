"""The data behind each figure, computed from a results directory: pure functions, no drawing.

Every figure in `sim.plots` draws a DataFrame made here, so tests can check the numbers a
reader sees (a crossing curve ends at the crossing rate, bands are nested, transition rows
sum to one) without looking at pixels. Trajectories are read in batches of whole runs, so a
100,000-run directory costs the same memory as a 10,000-run one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..scenario import Scenario, load_scenario
from ..experiments.summary import wilson

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
QUANTILE_COLUMNS = ("q05", "q25", "q50", "q75", "q95")
SWEEP_RESERVED = ("point", "status", "error")
RESPONSE_COLUMNS = ("parameter", "value", "point", "metric", "p", "low", "high", "n")
ALL = "all actors"
EXPECTED = "expected a results directory (from sim run, sweep, backtest, calibrate, sensitivity or robust) with manifest.json"


class ResultsDirError(ValueError):
    """A path that is not a readable run or sweep results directory."""


# --- the directory ------------------------------------------------------------------------


@dataclass(frozen=True)
class Meta:
    """What every figure's caption says: scenario, seed, runs (per point for sweeps), rounds."""

    scenario: str
    seed: int | None
    runs: int | None
    rounds: int | None = None
    kind: str = "run"
    points: int | None = None
    overrides: tuple[str, ...] = ()
    round_dates: tuple[str, ...] = ()  # the first day of each round, for date axes

    def caption(self) -> str:
        runs = f"{self.runs:,} runs" if self.runs is not None else "? runs"
        parts = [self.scenario, f"seed {self.seed}"]
        if self.kind in ("sweep", "robust"):
            parts.append(f"{self.points} points × {runs} each" if self.points is not None else f"{runs} per point")
        else:
            parts.append(runs)
        if self.rounds is not None:
            parts.append(f"{self.rounds} round{'s' * (self.rounds != 1)}")
        if self.overrides:
            parts.append("--set " + ", ".join(self.overrides))
        return " · ".join(parts)


# The files each kind of results directory must hold (a new kind of directory adds a line).
KIND_FILES: dict[str, list[str]] = {
    "run": ["runs.parquet"],
    "sweep": ["points.parquet", "summary.parquet"],
    "robust": ["robust.parquet", "options.parquet"],
    "backtest": ["runs.parquet", "backtest.parquet"],  # a run with its scores
    "sensitivity": ["points.parquet", "summary.parquet", "sensitivity.parquet"],  # a sweep with its indices
    "calibration": ["posterior.parquet"],
    "forecast": ["runs.parquet", "outcomes.parquet"],  # its surviving runs and their weighted shares
}


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest of a results directory of any kind; ResultsDirError says what was found instead."""
    path = Path(path)
    if not path.exists():
        raise ResultsDirError(f"{path}: not found ({EXPECTED}, got no such file or directory)")
    if not path.is_dir():
        raise ResultsDirError(f"{path}: not a results directory ({EXPECTED}, got a file)")
    manifest = path / "manifest.json"
    if not manifest.is_file():
        raise ResultsDirError(f"{path}: not a results directory ({EXPECTED}, got a directory without manifest.json)")
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ResultsDirError(f"{path}: unreadable manifest.json ({EXPECTED}, got {err})") from None
    if not isinstance(data, dict):
        raise ResultsDirError(f"{path}: unreadable manifest.json ({EXPECTED}, got {type(data).__name__})")
    for key in ("seed", "runs", "rounds", "points"):
        value = data.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ResultsDirError(f"{path}: unreadable manifest.json ({EXPECTED}; '{key}' should be a whole "
                                  f"number, got {value!r})")
    kind = data.get("kind", "run")
    if not isinstance(kind, str) or kind not in KIND_FILES:
        raise ResultsDirError(f"{path}: unknown kind in manifest.json ({EXPECTED}, got kind {kind!r})")
    needed = KIND_FILES[kind]
    missing = [name for name in needed if not (path / name).is_file()]
    if missing:
        raise ResultsDirError(f"{path}: incomplete {kind} directory ({EXPECTED} and {', '.join(needed)}, "
                              f"got no {', '.join(missing)})")
    return {**data, "kind": kind}


def read_table(file: str | Path, columns: Sequence[str] | None = None, *, missing_ok: bool = False) -> pd.DataFrame:
    """A Parquet table of a results directory (with `missing_ok`, the `columns` it has); ResultsDirError
    naming the file if it is unreadable."""
    try:
        if missing_ok and columns is not None:
            names = set(pq.read_schema(file).names)
            columns = [c for c in columns if c in names]
        return pd.read_parquet(file, columns=list(columns) if columns is not None else None)
    except (OSError, ValueError, KeyError, pa.ArrowException) as err:
        raise ResultsDirError(f"{file}: unreadable ({_first_line(err)}; expected the table sim wrote)") from None


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def meta_from_manifest(manifest: Mapping[str, Any], points: int | None = None) -> Meta:
    return Meta(
        scenario=str(manifest.get("scenario", "?")),
        seed=manifest.get("seed"),
        runs=manifest.get("runs"),
        rounds=manifest.get("rounds"),
        kind=str(manifest.get("kind", "run")),
        points=points,
        overrides=tuple(manifest.get("overrides") or ()),
        round_dates=tuple(manifest.get("round_dates") or ()),
    )


def load_run_scenario(path: str | Path) -> Scenario:
    """The resolved scenario exactly as run (scenario.yaml in the results directory)."""
    file = Path(path) / "scenario.yaml"
    if not file.is_file():
        raise ResultsDirError(f"{path}: no scenario.yaml (expected the resolved scenario beside manifest.json)")
    return load_scenario(file)


# --- outcomes -------------------------------------------------------------------------------


def outcome_table(runs: pd.DataFrame, classes: Sequence[str], labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Each outcome class's count and probability with a 95% Wilson interval, in ladder order."""
    n = len(runs)
    counts = runs["outcome"].astype(str).value_counts()
    rows = []
    for name in classes:
        count = int(counts.get(name, 0))
        low, high = wilson(count, n)
        label = (labels or {}).get(name) or name
        rows.append({"outcome": name, "label": label, "count": count, "n": n,
                     "p": count / n if n else float("nan"), "low": low, "high": high})
    return pd.DataFrame(rows)


def measure_table(path: str | Path, scenario: Scenario) -> pd.DataFrame:
    """The scenario's measures recorded in a run directory: label (the question), count, n, p,
    low, high (Wilson 95%); empty for runs made before the scenario declared any."""
    recorded = set(pq.read_schema(Path(path) / "runs.parquet").names)
    wanted = [m for m in scenario.measures if f"measure.{m}" in recorded]
    if not wanted:
        return pd.DataFrame(columns=["measure", "label", "count", "n", "p", "low", "high"])
    runs = read_table(Path(path) / "runs.parquet", [f"measure.{m}" for m in wanted])
    rows = []
    for mid in wanted:
        count, n = int(runs[f"measure.{mid}"].sum()), len(runs)
        low, high = wilson(count, n)
        rows.append({"measure": mid, "label": scenario.measures[mid].question, "count": count, "n": n,
                     "p": count / n if n else float("nan"), "low": low, "high": high})
    return pd.DataFrame(rows)


def forecast_outcomes(path: Path, labels: Mapping[str, str]) -> pd.DataFrame:
    """A forecast's outcome shares as it wrote them (outcomes.parquet: weighted, with intervals on
    the effective sample size), in the columns of `outcome_table`."""
    table = read_table(Path(path) / "outcomes.parquet")
    return table.assign(label=[labels.get(c) or c for c in table["outcome"].astype(str)])


def red_line_rates(runs: pd.DataFrame, red_lines: Sequence[str]) -> pd.DataFrame:
    """Per red line: share of runs that crossed it, and share of crossings enforced, with intervals."""
    n = len(runs)
    rows = []
    for lid in red_lines:
        crossings = runs[f"crossed.{lid}"].fillna(False).astype(bool)
        crossed = int(crossings.sum())
        # an owner may enforce a crossing it wrongly saw: count enforcement among the crossings
        enforced = int((crossings & runs[f"enforced.{lid}"].eq(True)).sum())
        c_low, c_high = wilson(crossed, n)
        e_low, e_high = wilson(enforced, crossed)
        rows.append({
            "red_line": lid, "n": n, "crossed_count": crossed, "crossed": crossed / n if n else float("nan"),
            "crossed_low": c_low, "crossed_high": c_high, "enforced_count": enforced,
            "enforced": enforced / crossed if crossed else float("nan"), "enforced_low": e_low, "enforced_high": e_high,
        })
    return pd.DataFrame(rows)


def weighted_share(hit: np.ndarray, weights: np.ndarray) -> tuple[float, float, float]:
    """The weighted share of runs where `hit`, with a 95% Wilson interval on the weights'
    effective sample size (Kish), as a forecast states its shares."""
    weights = np.asarray(weights, dtype=float)
    total = weights.sum()
    if total <= 0:
        return float("nan"), float("nan"), float("nan")
    p = float(weights @ np.asarray(hit, dtype=float) / total)
    ess = float(total**2 / (weights @ weights))
    return (p, *wilson(p * ess, ess))  # type: ignore[arg-type]  # successes and trials in ESS units


def red_line_curves(runs: pd.DataFrame, red_lines: Sequence[str], rounds: int,
                    weights: np.ndarray | None = None) -> pd.DataFrame:
    """Cumulative share of all runs that had crossed each red line, and had it enforced, by round
    (`weights`: each run's, as a forecast weighs its survivors).

    `enforced.<id>` records the owner's answer to the first crossing, so a run counts as
    enforced from the round of its first crossing. The crossed share has a pointwise 95%
    Wilson interval.
    """
    n = len(runs)
    frames = []
    for lid in red_lines:
        first = pd.to_numeric(runs[f"round.{lid}"], errors="coerce").to_numpy(dtype=float)
        crossed = np.isfinite(first) & runs[f"crossed.{lid}"].fillna(False).astype(bool).to_numpy()
        enforced = crossed & runs[f"enforced.{lid}"].eq(True).to_numpy()
        by_round = np.arange(1, rounds + 1)
        if weights is None:
            crossed_counts = np.array([(crossed & (first <= r)).sum() for r in by_round])
            enforced_share = np.array([(enforced & (first <= r)).sum() for r in by_round]) / n
            shares = crossed_counts / n
            bounds = np.array([wilson(int(c), n) for c in crossed_counts]).reshape(-1, 2)
        else:
            shown = np.array([weighted_share(crossed & (first <= r), weights) for r in by_round]).reshape(-1, 3)
            shares, bounds = shown[:, 0], shown[:, 1:]
            enforced_share = np.array([weighted_share(enforced & (first <= r), weights)[0] for r in by_round])
        frames.append(pd.DataFrame({
            "red_line": lid, "round": by_round,
            "crossed": shares, "crossed_low": bounds[:, 0], "crossed_high": bounds[:, 1],
            "enforced": enforced_share,
        }))
    columns = ["red_line", "round", "crossed", "crossed_low", "crossed_high", "enforced"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def describe_red_lines(scenario: Scenario) -> dict[str, str]:
    """A one-line reading of each red line's trigger, for panel titles: 'Owner: actor action → target'."""
    out = {}
    for lid, line in scenario.red_lines.items():
        actor = scenario.actors[line.trigger.actor].label if line.trigger.actor in scenario.actors else line.trigger.actor
        owner = scenario.actors[line.owner].label if line.owner in scenario.actors else line.owner
        target = scenario.actors[line.trigger.target].label if line.trigger.target in scenario.actors else line.trigger.target
        actions = " or ".join(scenario.actions[a].label if a in scenario.actions else a for a in line.trigger.actions)
        out[lid] = f"{owner}'s line: {actor}, {actions.lower()} to {target}"
    return out


# --- distributions --------------------------------------------------------------------------


def outcome_of_rung(scenario: Scenario, rung: int) -> str:
    """The outcome class a run whose peak is `rung` falls into (first class whose max_rung covers it)."""
    for name, cls in scenario.outcomes.classes.items():
        if rung <= cls.max_rung:
            return name
    return list(scenario.outcomes.classes)[-1]


def ladder_labels(scenario: Scenario) -> dict[int, str]:
    """Rung -> the ids of the actions on that rung ('a/b' when several share a rung)."""
    labels: dict[int, list[str]] = {}
    for aid, action in scenario.actions.items():
        labels.setdefault(action.rung, []).append(aid)
    return {rung: "/".join(ids) for rung, ids in sorted(labels.items())}


def peak_rung_distribution(runs: pd.DataFrame, scenario: Scenario, weights: np.ndarray | None = None) -> pd.DataFrame:
    """Share of runs (weighted by `weights` if given) whose highest new rung (the one that sets the
    outcome class) was each rung of the ladder, with its outcome class."""
    rungs = sorted({a.rung for a in scenario.actions.values()})
    peak = runs["new_rung"].astype(int)
    counts = peak.value_counts()
    labels = ladder_labels(scenario)
    n = len(runs)

    def share(r: int) -> float:
        if weights is not None:
            return weighted_share((peak == r).to_numpy(), weights)[0]
        return int(counts.get(r, 0)) / n if n else float("nan")

    rows = [{"rung": r, "action": labels[r], "outcome": outcome_of_rung(scenario, r),
             "count": int(counts.get(r, 0)), "share": share(r)}
            for r in range(rungs[0], rungs[-1] + 1) if r in labels]
    return pd.DataFrame(rows)


def _scores(runs: pd.DataFrame, weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    scores = runs["escalation_score"].to_numpy(dtype=float)
    finite = np.isfinite(scores)
    return scores[finite], None if weights is None else np.asarray(weights, dtype=float)[finite]


def score_histogram(runs: pd.DataFrame, bins: int = 40, weights: np.ndarray | None = None) -> pd.DataFrame:
    """Histogram of the escalation score (mean escalation points per round): bin edges, counts,
    shares (of the weights, if given)."""
    scores, w = _scores(runs, weights)
    counts, edges = np.histogram(scores, bins=bins)
    mass = counts if w is None else np.histogram(scores, bins=edges, weights=w)[0]
    total = mass.sum()
    return pd.DataFrame({"left": edges[:-1], "right": edges[1:], "count": counts,
                         "share": mass / total if total else np.full(len(counts), np.nan)})


def score_summary(runs: pd.DataFrame, weights: np.ndarray | None = None) -> dict[str, float]:
    """Median and mean escalation score (weighted, if weights are given), for marking on the histogram."""
    scores, w = _scores(runs, weights)
    if not len(scores):
        return {}
    if w is None:
        return {"median": float(np.median(scores)), "mean": float(scores.mean())}
    order = np.argsort(scores, kind="stable")
    cumulative = np.cumsum(w[order])
    median = float(scores[order][np.searchsorted(cumulative, cumulative[-1] / 2)])
    return {"median": median, "mean": float(w @ scores / w.sum())}


# --- trajectories ---------------------------------------------------------------------------


@dataclass
class TrajectorySummary:
    """Everything the trajectory figures need, gathered in one pass over trajectories.parquet.

    `peak[s, r, k]` counts runs whose highest rung so far, at round r + 1, is k, for series s
    (0 = all actors together, then one per actor); `current[s, r, k]` the same for the rung
    taken in that round. `transitions[actor]` counts (action in round r, action in round r + 1)
    pairs, rows the earlier action, over all runs and rounds.
    """

    series: list[str]
    rounds: int
    runs: int
    peak: np.ndarray
    current: np.ndarray
    transitions: dict[str, pd.DataFrame]


def _whole_runs(path: Path, columns: list[str], rounds: int, index: Mapping[str, int],
                batch_runs: int) -> Iterator[dict[str, np.ndarray]]:
    """Batches of whole runs as {column: (runs, rounds) array of action indices}; rows come run by run."""
    try:
        batches = pq.ParquetFile(path).iter_batches(batch_size=batch_runs * rounds, columns=["round", *columns])
    except (OSError, ValueError, pa.ArrowException) as err:
        raise ResultsDirError(f"{path}: unreadable ({_first_line(err)}; expected the table sim wrote)") from None
    carry: dict[str, np.ndarray] | None = None
    for batch in _checked(batches, path):
        arrays = {"round": batch.column("round").to_numpy(zero_copy_only=False).astype(np.int64)}
        for name in columns:
            arrays[name] = _codes(batch.column(name), index, path)
        if carry is not None:
            arrays = {k: np.concatenate([carry[k], v]) for k, v in arrays.items()}
        whole = len(arrays["round"]) // rounds * rounds
        carry = {k: v[whole:] for k, v in arrays.items()}
        if whole:
            chunk = {k: v[:whole] for k, v in arrays.items()}
            expected = np.tile(np.arange(1, rounds + 1), whole // rounds)
            if not np.array_equal(chunk["round"], expected):
                raise ResultsDirError(f"{path}: rows are not run by run, rounds 1 to {rounds} "
                                      "(expected the layout sim run writes)")
            yield {k: v.reshape(-1, rounds) for k, v in chunk.items() if k != "round"}
    if carry is not None and len(carry["round"]):
        raise ResultsDirError(f"{path}: the last run has {len(carry['round'])} of {rounds} rounds (expected whole runs)")


def _checked(batches: Iterator[pa.RecordBatch], path: Path) -> Iterator[pa.RecordBatch]:
    """The batches, with a read error partway (a damaged file) named as the file's."""
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (OSError, ValueError, pa.ArrowException) as err:
            raise ResultsDirError(f"{path}: unreadable ({_first_line(err)}; expected the table sim wrote)") from None
        yield batch


def _codes(column: pa.Array | pa.ChunkedArray, index: Mapping[str, int], path: Path) -> np.ndarray:
    """A dictionary (or plain string) column of action ids as indices into the scenario's actions."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if not pa.types.is_dictionary(column.type):
        column = column.dictionary_encode()
    names = column.dictionary.to_pylist()
    used = set(np.unique(column.indices.to_numpy(zero_copy_only=False)).tolist())
    unknown = [name for i, name in enumerate(names) if name not in index and i in used]
    if unknown:
        raise ResultsDirError(f"{path}: actions {unknown} are not in scenario.yaml (expected the scenario as run)")
    lookup = np.array([index.get(name, -1) for name in names], dtype=np.int64)
    return lookup[column.indices.to_numpy(zero_copy_only=False)]


def summarise_trajectories(path: str | Path, scenario: Scenario, batch_runs: int = 5_000) -> TrajectorySummary:
    """One memory-flat pass over a run directory's trajectories.parquet (see TrajectorySummary)."""
    file = Path(path)
    if file.is_dir():
        file = file / "trajectories.parquet"
    actors = list(scenario.actors)
    actions = list(scenario.actions)
    index = {a: i for i, a in enumerate(actions)}
    rung_of = np.array([scenario.actions[a].rung for a in actions])
    top = int(rung_of.max())
    rounds = scenario.rounds
    series = [ALL, *actors]
    peak = np.zeros((len(series), rounds, top + 1), dtype=np.int64)
    current = np.zeros_like(peak)
    pairs = {actor: np.zeros((len(actions), len(actions)), dtype=np.int64) for actor in actors}
    offsets = np.arange(rounds)[None, :] * (top + 1)
    size = rounds * (top + 1)
    n = 0
    for chunk in _whole_runs(file, [f"action.{a}" for a in actors], rounds, index, batch_runs):
        codes = {a: chunk[f"action.{a}"] for a in actors}
        rungs = np.stack([rung_of[codes[a]] for a in actors])  # (actors, runs, rounds)
        highest = rungs.max(axis=0)
        for s, taken in enumerate([highest, *rungs]):
            current[s] += np.bincount((offsets + taken).ravel(), minlength=size).reshape(rounds, top + 1)
            so_far = np.maximum.accumulate(taken, axis=1)
            peak[s] += np.bincount((offsets + so_far).ravel(), minlength=size).reshape(rounds, top + 1)
        for a in actors:
            c = codes[a]
            flat = (c[:, :-1] * len(actions) + c[:, 1:]).ravel()
            pairs[a] += np.bincount(flat, minlength=len(actions) ** 2).reshape(len(actions), len(actions))
        n += highest.shape[0]
    transitions = {a: pd.DataFrame(m, index=pd.Index(actions, name="from"), columns=pd.Index(actions, name="to"))
                   for a, m in pairs.items()}
    return TrajectorySummary(series, rounds, n, peak, current, transitions)


def histogram_quantiles(counts: np.ndarray, quantiles: Sequence[float] = QUANTILES) -> np.ndarray:
    """Quantiles of integer values 0..K-1 from their counts: the smallest k with CDF(k) >= q.

    This is numpy's 'inverted_cdf' quantile, computed exactly from a histogram, so fan charts
    over any number of runs need only the per-round histograms in memory. NaN with no counts.
    """
    counts = np.asarray(counts, dtype=float)
    total = counts.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        cdf = np.cumsum(counts, axis=-1) / total
    out = np.stack([np.argmax(cdf >= q - 1e-12, axis=-1).astype(float) for q in quantiles], axis=-1)
    out[np.broadcast_to(total == 0, out.shape)] = np.nan
    return out


def fan_data(summary: TrajectorySummary, cumulative: bool = True) -> pd.DataFrame:
    """Long table: series (all actors or an actor), round, and the 5/25/50/75/95% quantiles of the rung.

    `cumulative` takes the highest rung reached so far; otherwise the rung taken in that round.
    """
    counts = summary.peak if cumulative else summary.current
    frames = []
    for s, name in enumerate(summary.series):
        q = histogram_quantiles(counts[s])
        frame = pd.DataFrame(q, columns=list(QUANTILE_COLUMNS))
        frame.insert(0, "round", np.arange(1, summary.rounds + 1))
        frame.insert(0, "series", name)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def transition_matrix(counts: pd.DataFrame, scenario: Scenario | None = None) -> pd.DataFrame:
    """Row-normalised action transitions of one actor, restricted to actions it ever took.

    Rows are the earlier action, columns the next; each row sums to 1 (rows of actions never
    followed by another round are NaN). Actions are in ladder order when a scenario is given.
    """
    used = [a for a in counts.index if counts.loc[a].sum() > 0 or counts[a].sum() > 0]
    if scenario is not None:
        used.sort(key=lambda a: (scenario.actions[a].rung, list(scenario.actions).index(a)))
    sub = counts.loc[used, used].astype(float)
    totals = sub.sum(axis=1)
    return sub.div(totals.where(totals > 0), axis=0)


# --- sweeps ---------------------------------------------------------------------------------


def read_sweep(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """points.parquet and summary.parquet of a sweep directory."""
    path = Path(path)
    return read_table(path / "points.parquet"), read_table(path / "summary.parquet")


def parameter_columns(points: pd.DataFrame) -> list[str]:
    """Every parameter column of points.parquet (all but point, status, error)."""
    return [c for c in points.columns if c not in SWEEP_RESERVED and not c.startswith("_")]


def varied_parameters(points: pd.DataFrame) -> list[str]:
    """Parameters that take more than one value over the points that finished."""
    ok = _ok(points)
    return [c for c in parameter_columns(points) if ok[c].nunique(dropna=True) > 1]


def _ok(points: pd.DataFrame) -> pd.DataFrame:
    return points[points["status"].astype(str) == "ok"] if "status" in points else points


def metric_order(summary: pd.DataFrame, classes: Sequence[str] | None = None) -> list[str]:
    """Metrics in reading order: outcomes (ladder order when classes are known), crossings, enforcement."""
    seen = list(dict.fromkeys(summary["metric"].astype(str)))
    outcomes = [m for m in seen if m.startswith("outcome.")]
    if classes:
        rank = {f"outcome.{c}": i for i, c in enumerate(classes)}
        outcomes.sort(key=lambda m: rank.get(m, len(rank)))
    rest = [m for p in ("crossed.", "enforced.") for m in seen if m.startswith(p)]
    other = [m for m in seen if m not in outcomes and m not in rest]
    return outcomes + rest + other


def response_curves(points: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """Long table: one row per varied parameter, finished point and metric, with p and its interval.

    Columns: parameter, value (that parameter's value at the point), point, metric, p, low,
    high, n, and every varied parameter's value, so curves can be split by another parameter.
    """
    ok = _ok(points)
    params = varied_parameters(points) or parameter_columns(points)
    merged = summary.merge(ok[["point", *params]], on="point", how="inner")
    frames = []
    for param in params:
        frame = merged[["point", "metric", "p", "low", "high", *(["n"] if "n" in merged else []), *params]].copy()
        frame.insert(0, "value", merged[param].to_numpy())
        frame.insert(0, "parameter", param)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=list(RESPONSE_COLUMNS))
    out = pd.concat(frames, ignore_index=True)
    out["metric"] = out["metric"].astype(str)
    return out.sort_values(["parameter", "metric", "value", "point"], kind="stable").reset_index(drop=True)


def heatmap_data(points: pd.DataFrame, summary: pd.DataFrame, metric: str, x: str, y: str) -> pd.DataFrame:
    """`metric`'s probability on a grid of two parameters: rows y values, columns x values.

    Cells with no point (a design that is not a full grid) are NaN; several points in one
    cell (repeated values) are averaged.
    """
    ok = _ok(points)
    rows = summary[summary["metric"].astype(str) == metric].merge(ok[["point", x, y]], on="point")
    return rows.pivot_table(index=y, columns=x, values="p", aggfunc="mean").sort_index().sort_index(axis=1)


def is_grid(points: pd.DataFrame, x: str, y: str) -> bool:
    """True when the finished points lie on a grid of the two parameters' values.

    No combination may appear twice, and at least half the grid's cells must be filled: a
    grid with failed points still counts (its holes are NaN in `heatmap_data`), while Latin
    hypercube or Sobol points, whose values rarely repeat, do not.
    """
    ok = _ok(points)
    pairs = ok[[x, y]].drop_duplicates()
    cells = ok[x].nunique() * ok[y].nunique()
    return len(pairs) == len(ok) and 2 * len(ok) >= cells


__all__ = [
    "ALL", "Meta", "QUANTILES", "RESPONSE_COLUMNS", "ResultsDirError", "TrajectorySummary", "describe_red_lines", "fan_data",
    "heatmap_data", "histogram_quantiles", "is_grid", "ladder_labels", "load_run_scenario", "meta_from_manifest",
    "metric_order", "outcome_of_rung", "outcome_table", "parameter_columns", "peak_rung_distribution", "read_manifest",
    "read_table",
    "read_sweep", "red_line_curves", "red_line_rates", "response_curves", "score_histogram", "score_summary", "summarise_trajectories",
    "transition_matrix", "varied_parameters",
]
