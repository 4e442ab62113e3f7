"""Two scenarios (or two run directories) side by side: outcome and red-line rates and their differences.

`compare("precision-weapons", "lethal-aid", runs=100_000, seed=1)` runs both scenarios with
the same root seed. `sim.api.run` gives every scenario the block seeds of point 0, so the two
share common random numbers (docs/design.md, "Seeding"): the same draws drive both, and a
difference between them is the scenarios' doing rather than noise. Two run directories share
them only when their seeds, block sizes and run counts match, and the comparison says which is
the case. Then run i of A and run i of B are a pair, and B − A of an outcome, a crossing or a
measure gets the paired interval (`paired_difference`), much tighter than the independent one;
enforcement | crossed, a share of different runs on each side, keeps the independent interval.

Sides that measure different things are refused before anything runs (`check_comparable`):
different rounds, outcome classes, actors or red lines would make a "significant" difference
out of the mismatch itself.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .figure_data import Meta, ResultsDirError, load_run_scenario, meta_from_manifest, outcome_table, read_manifest
from ..engine.model import resolve_scenario
from ..scenario import Scenario
from .figure_data import read_table, red_line_rates
from ..experiments.questions import evaluate as evaluate_questions, trajectory_columns
from ..experiments.summary import rate_text, wilson
from ..scenario.questions import Measure, question_problems

FIGURE_FORMATS = ("png", "svg", "pdf")


def newcombe_difference(xa: int, na: int, xb: int, nb: int) -> tuple[float, float, float]:
    """B − A for two proportions xa/na and xb/nb, with a 95% interval: (difference, low, high).

    Newcombe's hybrid score interval (method 10 of Newcombe 1998, "Interval estimation for the
    difference between independent proportions", Statistics in Medicine 17:873-890), built
    from each proportion's Wilson interval (la, ua), (lb, ub):

        low  = d − sqrt((pb − lb)² + (ua − pa)²)
        high = d + sqrt((ub − pb)² + (pa − la)²)

    It treats the two samples as independent. Under common random numbers the runs of A and
    B are positively correlated, which narrows the true sampling spread of the difference, so
    this interval is conservative (wider than it need be), never too narrow. NaN when either
    sample is empty.
    """
    if na <= 0 or nb <= 0:
        return float("nan"), float("nan"), float("nan")
    pa, pb = xa / na, xb / nb
    la, ua = wilson(xa, na)
    lb, ub = wilson(xb, nb)
    d = pb - pa
    low = d - math.sqrt((pb - lb) ** 2 + (ua - pa) ** 2)
    high = d + math.sqrt((ub - pb) ** 2 + (pa - la) ** 2)
    return d, max(-1.0, low), min(1.0, high)


def paired_difference(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """B − A for two yes/no answers observed on the same runs (a[i] and b[i] come from run i
    under common random numbers), with a 95% interval: (difference, low, high).

    Newcombe's score interval for paired proportions (method 10 of Newcombe 1998, "Improved
    confidence intervals for the difference between binomial proportions based on paired
    data", Statistics in Medicine 17:2635-2650): the hybrid of the two Wilson intervals above,
    corrected by phi, the correlation between the paired answers:

        low  = d − sqrt((pb − lb)² − 2φ(pb − lb)(ua − pa) + (ua − pa)²)
        high = d + sqrt((ub − pb)² − 2φ(ub − pb)(pa − la) + (pa − la)²)

    With φ = 0 it is the independent interval; the more the runs agree (φ near 1), the
    narrower it is. NaN without runs.
    """
    a, b = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    n = len(a)
    if n == 0 or len(b) != n:
        return float("nan"), float("nan"), float("nan")
    both, a_only, b_only = int((a & b).sum()), int((a & ~b).sum()), int((~a & b).sum())
    neither = n - both - a_only - b_only
    xa, xb = both + a_only, both + b_only
    pa, pb = xa / n, xb / n
    la, ua = wilson(xa, n)
    lb, ub = wilson(xb, n)
    margins = float(xa) * (n - xa) * xb * (n - xb)
    phi = (both * neither - a_only * b_only) / math.sqrt(margins) if margins > 0 else 0.0
    d = pb - pa
    low = d - math.sqrt(max(0.0, (pb - lb) ** 2 - 2 * phi * (pb - lb) * (ua - pa) + (ua - pa) ** 2))
    high = d + math.sqrt(max(0.0, (ub - pb) ** 2 - 2 * phi * (ub - pb) * (pa - la) + (pa - la) ** 2))
    return d, max(-1.0, low), min(1.0, high)


@dataclass
class Side:
    """One side of a comparison: its identity and its counts (the runs themselves are not kept)."""

    name: str
    path: Path | None
    meta: Meta
    outcomes: pd.DataFrame
    red_lines: pd.DataFrame
    block_size: int | None = None
    version: str | None = None
    answers: pd.DataFrame | None = None  # per run (index: run id): outcome.<class>, crossed.<line>, measure.<id>
    measures: dict[str, str] | None = None  # measure id -> its question


def read_side(path: str | Path, keep: bool = True, measures: Mapping[str, Measure] | None = None) -> Side:
    """Counts and per-run answers from a run directory: outcome classes, red-line rates, and
    `measures` (default: its scenario's own), evaluated from its tables where it did not record them."""
    path = Path(path)
    manifest = read_manifest(path)
    if manifest["kind"] not in ("run", "backtest"):  # a backtest directory is a run with its scores
        raise ResultsDirError(f"{path}: a {manifest['kind']} directory (expected a run directory from sim run)")
    scenario = load_run_scenario(path)
    lines = list(scenario.red_lines)
    measures = dict(scenario.measures if measures is None else measures)
    runs = pd.read_parquet(path / "runs.parquet")
    classes = {cid: c.label or cid for cid, c in scenario.outcomes.classes.items()}
    answers = pd.DataFrame(index=runs["run"].to_numpy())
    outcome = runs["outcome"].astype(str).to_numpy()
    for cid in classes:
        answers[f"outcome.{cid}"] = outcome == cid
    for lid in lines:
        answers[f"crossed.{lid}"] = runs[f"crossed.{lid}"].fillna(False).astype(bool).to_numpy()
    for mid, answer in measure_answers(path, runs, scenario, measures).items():
        answers[f"measure.{mid}"] = answer
    return Side(scenario.name, path if keep else None, meta_from_manifest(manifest),
                outcome_table(runs, list(classes), classes), red_line_rates(runs, lines),
                manifest.get("block_size"), manifest.get("version"), answers,
                {mid: m.question for mid, m in measures.items()})


def measure_answers(path: Path, runs: pd.DataFrame, scenario: Scenario,
                    measures: Mapping[str, Measure]) -> dict[str, np.ndarray]:
    """Each measure's answer per run: the recorded `measure.<id>` column, else evaluated from the
    tables (a measure the other side declared); NaN where this side's world cannot ask it."""
    out: dict[str, np.ndarray] = {}
    pending = {}
    for mid, measure in measures.items():
        if f"measure.{mid}" in runs.columns and mid in scenario.measures and scenario.measures[mid] == measure:
            out[mid] = runs[f"measure.{mid}"].to_numpy(dtype=bool)
        elif list(question_problems({mid: measure}, scenario)):
            out[mid] = np.full(len(runs), np.nan)
        else:
            pending[mid] = measure
    if pending:
        columns = trajectory_columns(pending, scenario)
        trajectories = read_table(path / "trajectories.parquet", columns) if columns else None
        answered = evaluate_questions(pending, runs, trajectories, scenario)
        out.update({mid: answered[mid].to_numpy(dtype=bool) for mid in pending})
    return {mid: out[mid] for mid in measures}


def check_comparable(a: Scenario, rounds_a: int | None, b: Scenario, rounds_b: int | None,
                     names: tuple[str, str] = ("A", "B")) -> None:
    """Refuse (ResultsDirError) two sides whose outcome rates do not measure the same thing."""
    na, nb = names

    def differ(what: str, xs: list[str], ys: list[str], why: str) -> None:
        only_a, only_b = [x for x in xs if x not in ys], [y for y in ys if y not in xs]
        detail = "; ".join(part for part in (f"only in {na}: {', '.join(only_a)}" if only_a else "",
                                             f"only in {nb}: {', '.join(only_b)}" if only_b else "") if part)
        raise ResultsDirError(f"{na} and {nb} have different {what} ({detail or 'the same ids, defined differently'}): "
                              f"{why} (expected two scenarios of the same world)")

    if rounds_a != rounds_b:
        raise ResultsDirError(f"{na} runs {rounds_a} rounds and {nb} {rounds_b}: outcomes over different horizons "
                              "differ for that reason alone (expected the same rounds; rerun one with --rounds)")
    if a.outcomes.model_dump(mode="json") != b.outcomes.model_dump(mode="json"):
        differ("outcome classes", list(a.outcomes.classes), list(b.outcomes.classes),
               "their outcome probabilities measure different things")
    # Different actors are allowed: a world that grows by an actor (with-china) asks exactly how
    # that changes the odds, and the outcome classes still measure the same thing.
    if sorted(a.red_lines) != sorted(b.red_lines):
        differ("red lines", list(a.red_lines), list(b.red_lines), "their crossing rates cannot be set side by side")


def common_random_numbers(a: Side, b: Side) -> str | None:
    """Why A and B do not share random numbers, or None when they do (same seed, blocks and runs)."""
    reasons = []
    if a.meta.seed != b.meta.seed:
        reasons.append(f"different seeds ({a.meta.seed}, {b.meta.seed})")
    if a.block_size is None or b.block_size is None:
        reasons.append("a block size not recorded")
    elif a.block_size != b.block_size:
        reasons.append(f"different block sizes ({a.block_size:,}, {b.block_size:,})")
    if a.meta.runs != b.meta.runs:
        reasons.append(f"different run counts ({a.meta.runs:,}, {b.meta.runs:,})")
    if a.version != b.version:
        reasons.append(f"made by different versions of sim ({a.version}, {b.version})")
    return "; ".join(reasons) or None


def _row(kind: str, key: str, label: str, a: tuple[float, float] | None, b: tuple[float, float] | None,
         pairs: tuple[np.ndarray, np.ndarray] | None = None) -> dict:
    row: dict = {"kind": kind, "id": key, "label": label}
    for side, counts in (("a", a), ("b", b)):
        x, n = counts if counts is not None else (float("nan"), float("nan"))
        low, high = wilson(int(x), int(n)) if counts is not None else (float("nan"), float("nan"))
        row.update({f"{side}_count": x, f"{side}_n": n, f"{side}_p": x / n if n else float("nan"),
                    f"{side}_low": low, f"{side}_high": high})
    if pairs is not None:
        (d, low, high), interval = paired_difference(*pairs), "paired"
    elif a is not None and b is not None:
        (d, low, high), interval = newcombe_difference(int(a[0]), int(a[1]), int(b[0]), int(b[1])), "independent"
    else:
        (d, low, high), interval = (float("nan"), float("nan"), float("nan")), "-"
    row.update({"diff": d, "diff_low": low, "diff_high": high, "interval": interval,
                "significant": bool(np.isfinite(low) and (low > 0 or high < 0))})
    return row


def paired(a: Side, b: Side) -> bool:
    """Whether run i of A and run i of B share their random numbers, so their answers pair up."""
    return (common_random_numbers(a, b) is None and a.answers is not None and b.answers is not None
            and a.answers.index.equals(b.answers.index))


def comparison_table(a: Side, b: Side) -> pd.DataFrame:
    """One row per outcome class, then per red line its crossing and enforcement rates, then per
    measure, in A and B.

    Columns: kind (outcome, crossed, enforced, measure), id, label, then for each side a_/b_
    count, n, p, low, high (Wilson 95%), and diff = B − A with diff_low, diff_high (95%),
    `interval` (paired: Newcombe's paired score interval over runs that share common random
    numbers; independent: Newcombe's hybrid score interval) and `significant` (the interval
    excludes 0). Enforcement is a share of the runs that crossed the line, so always
    independent. A class, red line or measure only one side has gets NaN on the other.
    """

    def index(frame: pd.DataFrame, key: str) -> Mapping[str, pd.Series]:
        return {row[key]: row for _, row in frame.iterrows()}

    pair = paired(a, b)

    def pairs(column: str) -> tuple[np.ndarray, np.ndarray] | None:
        if not pair or column not in a.answers or column not in b.answers:  # type: ignore[operator]
            return None
        xs, ys = a.answers[column].to_numpy(), b.answers[column].to_numpy()  # type: ignore[index]
        if pd.isna(xs).any() or pd.isna(ys).any():
            return None
        return xs.astype(bool), ys.astype(bool)

    rows = []
    ao, bo = index(a.outcomes, "outcome"), index(b.outcomes, "outcome")
    for cid in dict.fromkeys([*ao, *bo]):
        label = (ao.get(cid) if cid in ao else bo[cid])["label"]
        rows.append(_row("outcome", cid, label, _counts(ao.get(cid), "count", "n"), _counts(bo.get(cid), "count", "n"),
                         pairs(f"outcome.{cid}")))
    ar, br = index(a.red_lines, "red_line"), index(b.red_lines, "red_line")
    for lid in dict.fromkeys([*ar, *br]):
        rows.append(_row("crossed", lid, f"crossed: {lid}", _counts(ar.get(lid), "crossed_count", "n"),
                         _counts(br.get(lid), "crossed_count", "n"), pairs(f"crossed.{lid}")))
        rows.append(_row("enforced", lid, f"enforced | crossed: {lid}",
                         _counts(ar.get(lid), "enforced_count", "crossed_count"),
                         _counts(br.get(lid), "enforced_count", "crossed_count")))
    questions = {**(a.measures or {}), **(b.measures or {})}
    for mid, question in questions.items():
        rows.append(_row("measure", mid, question, _measure_counts(a, mid), _measure_counts(b, mid),
                         pairs(f"measure.{mid}")))
    return pd.DataFrame(rows)


def _measure_counts(side: Side, mid: str) -> tuple[float, float] | None:
    if side.answers is None or f"measure.{mid}" not in side.answers:
        return None
    values = side.answers[f"measure.{mid}"]
    if values.isna().any():
        return None
    return float(values.astype(bool).sum()), float(len(values))


def _counts(row: pd.Series | None, x: str, n: str) -> tuple[float, float] | None:
    return None if row is None else (float(row[x]), float(row[n]))


@dataclass
class Comparison:
    """Two sides and their comparison table; `figure()` draws it."""

    a: Side
    b: Side
    table: pd.DataFrame

    def figure(self) -> Figure:
        from .plots import comparison_figure

        return comparison_figure(self.table, a=f"A: {self.a.name}", b=f"B: {self.b.name}", meta=self.caption())

    def caption(self) -> str:
        return f"A: {self.a.meta.caption()}    B: {self.b.meta.caption()}"

    def summary(self) -> str:
        """The table `sim compare` prints."""
        return format_comparison(self)

    def __repr__(self) -> str:
        intervals = ", ".join(sorted(set(self.table["interval"]) - {"-"}))
        return f"<Comparison A={self.a.name!r} B={self.b.name!r}: {len(self.table)} rows, {intervals} intervals>"

    def save_figure(self, file: str | Path) -> Path:
        """Write the figure; the file's suffix (.png, .svg or .pdf) picks the format."""
        file = Path(file)
        suffix = file.suffix.lower().lstrip(".")
        if suffix not in FIGURE_FORMATS:
            raise ValueError(f"{file}: unknown figure format (expected a .png, .svg or .pdf file, got '{file.suffix}')")
        file.parent.mkdir(parents=True, exist_ok=True)
        self.figure().savefig(file, format=suffix, metadata={"Date": None} if suffix != "png" else None)
        return file


def compare(a: str | Path, b: str | Path, runs: int | None = None, seed: int | None = None,
            rounds: int | None = None, out: str | Path | None = None, workers: int | None = None) -> Comparison:
    """Compare A and B, each a run directory or a scenario (name or file) to run now.

    Scenarios are run with the same seed (common random numbers). Unset runs, seed and
    rounds come from a run directory given as the other side, else 10,000 runs, seed 0 and
    the scenario's rounds. Results of scenarios run here go under `out` (as A-<name> and
    B-<name>) or are discarded.
    """
    refs = {"A": a, "B": b}
    dirs = {k: Path(v) for k, v in refs.items() if Path(v).is_dir()}
    if len(dirs) == 2 and any(v is not None for v in (runs, seed, rounds)):
        raise ValueError("--runs, --seed and --rounds apply to scenarios run now (expected a scenario as A or B, "
                         "got two results directories)")
    manifests = {k: read_manifest(p) for k, p in dirs.items()}
    metas = {k: meta_from_manifest(m) for k, m in manifests.items()}
    if dirs:
        first = metas["A" if "A" in metas else "B"]
        runs = first.runs if runs is None else runs
        seed = first.seed if seed is None else seed
        rounds = first.rounds if rounds is None else rounds
    runs = 10_000 if runs is None else runs
    seed = 0 if seed is None else seed
    pending = {k: v for k, v in refs.items() if k not in dirs}
    # Both sides as they will be compared, checked before anything runs.
    scenarios = {k: load_run_scenario(p) for k, p in dirs.items()}
    scenarios.update({k: resolve_scenario(v, {"rounds": rounds} if rounds is not None else None)
                      for k, v in pending.items()})
    horizon = {k: metas[k].rounds if k in metas else scenarios[k].rounds for k in refs}
    check_comparable(scenarios["A"], horizon["A"], scenarios["B"], horizon["B"])
    measures = {**scenarios["A"].measures, **scenarios["B"].measures}
    sides = {k: read_side(p, measures=measures) for k, p in dirs.items()}
    if pending:
        from ..experiments.runner import run_scenario

        with tempfile.TemporaryDirectory(prefix="sim-compare-") as scratch:
            base = Path(out) if out is not None else Path(scratch)
            for key, ref in pending.items():
                target = base / f"{key}-{_slug(Path(str(ref)).stem)}"
                result = run_scenario(ref, runs=runs, seed=seed, rounds=rounds, out=target, workers=workers)
                sides[key] = read_side(result.path, keep=out is not None, measures=measures)
    return Comparison(sides["A"], sides["B"], comparison_table(sides["A"], sides["B"]))


def read_sides(a: str | Path, b: str | Path) -> tuple[Side, Side]:
    """Two run directories as sides of a comparison, each asked both sides' measures."""
    scenarios = [load_run_scenario(a), load_run_scenario(b)]
    measures = {**scenarios[0].measures, **scenarios[1].measures}
    return read_side(a, measures=measures), read_side(b, measures=measures)


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text).strip("-") or "scenario"


def _fmt(p: float, low: float, high: float, signed: bool = False) -> str:
    if not np.isfinite(p):
        return "-"
    sign = "+" if signed else ""
    return f"{p:{sign}.4f} [{low:{sign}.4f}, {high:{sign}.4f}]"


INTERVALS = {
    "paired": "paired (Newcombe's score interval for paired proportions: run i of A and of B share their "
              "random numbers)",
    "independent": "independent (Newcombe's hybrid score interval)",
}


def interval_note(table: pd.DataFrame) -> str:
    """Which interval the B − A column uses, for the lines that use it."""
    used = {kind: sorted(set(table.loc[table["interval"] == kind, "kind"])) for kind in INTERVALS}
    parts = [f"{INTERVALS[kind]} for {', '.join(kinds)}" for kind, kinds in used.items() if kinds]
    return "B − A 95% intervals: " + "; ".join(parts) + "." if parts else ""


def _side_text(row: pd.Series, side: str) -> str:
    count, n = row[f"{side}_count"], row[f"{side}_n"]
    return rate_text(int(count), int(n)) if np.isfinite(count) and np.isfinite(n) else "-"


def format_comparison(comparison: Comparison) -> str:
    """The table `sim compare` prints: A, B and B − A for each outcome, red-line rate and
    measure, each difference marked * (its 95% interval excludes 0) or n.s. (it does not)."""
    a, b, table = comparison.a, comparison.b, comparison.table
    lines = [f"A: {a.meta.caption()}" + (f"  ({a.path})" if a.path else ""),
             f"B: {b.meta.caption()}" + (f"  ({b.path})" if b.path else "")]
    unshared = common_random_numbers(a, b)
    if unshared is None:
        lines.append(f"Both use seed {a.meta.seed} and the same blocks of runs: common random numbers.")
    else:
        lines.append(f"note: no common random numbers: {unshared}.")
    lines.append(interval_note(table))
    width = max([len("outcome"), *(len(_name(r)) for _, r in table.iterrows())]) + 2
    header = f"{'':<{width}}{'A':<27}{'B':<27}B − A  (95% interval)"
    sections = [("outcome", table[table["kind"] == "outcome"]),
                ("red line", table[table["kind"].isin(["crossed", "enforced"])]),
                ("measure", table[table["kind"] == "measure"])]
    for title, rows in sections:
        if rows.empty:
            continue
        lines += ["", title + header[len(title):]]
        for _, r in rows.iterrows():
            marker = "" if not np.isfinite(r["diff"]) else (" *" if r["significant"] else " n.s.")
            lines.append(f"{_name(r):<{width}}{_side_text(r, 'a'):<27}{_side_text(r, 'b'):<27}"
                         f"{_fmt(r['diff'], r['diff_low'], r['diff_high'], signed=True)}{marker}")
            if r["kind"] == "measure":
                lines.append(f"{'':<{width}}  ({r['label']})")
    lines += ["", "* the 95% interval of B − A excludes zero; n.s.: it does not (not significant). Enforcement is "
                  "a share of the runs that crossed."]
    return "\n".join(lines)


def _name(row: pd.Series) -> str:
    return {"outcome": row["id"], "crossed": f"crossed {row['id']}", "enforced": f"enforced|crossed {row['id']}",
            "measure": row["id"]}[row["kind"]]


__all__ = ["Comparison", "Side", "check_comparable", "common_random_numbers", "compare", "comparison_table",
           "format_comparison", "newcombe_difference", "paired_difference", "read_side", "read_sides"]
