"""The ways runs reach an outcome class, ranked (sim paths): sequences of first events read from
runs.parquet, with counts, shares and Wilson intervals; and the runs a report traces.

Events are the first time in a run that
- an actor takes or starts an action above the posturing band: a rung above the `max_rung` of
  the lowest outcome class that needs no easing (the Korean world: above rung 5, missile tests;
  aid, transfers, troops, clashes, war), from `first.<actor>.<action>`; round 0 (in force at
  the start) is the status quo, not an event;
- a red line is crossed (`round.<line>`), a commitment invoked (`invoked.<commitment>`), an
  agreement signed during the run (`agreed.<agreement>` after round 0).
A run's path is its first LENGTH events in order of round. Within a round the order is fixed
by the engine's reading of one round: agreements signed, then acts (lower rung first, then by
actor and action id), then red lines crossed (the crossing is that round's act as the owner
saw it), then commitments invoked (an answer to an attack); ids break the remaining ties.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..experiments.summary import wilson
from ..scenario import Scenario

LENGTH = 3
NO_EVENT = "(no event above posturing)"
ARROW = " → "
AGREEMENT, ACT, CROSSING, INVOCATION = range(4)


@dataclass(frozen=True)
class EventColumn:
    column: str
    label: str
    kind: int
    rung: int


def posturing_ceiling(scenario: Scenario) -> int:
    """The highest rung that is still posturing: the `max_rung` of the lowest class without easing."""
    classes = list(scenario.outcomes.classes.values())
    return next((c.max_rung for c in classes if not c.easing), classes[0].max_rung)


def event_columns(runs: pd.DataFrame, scenario: Scenario) -> list[EventColumn]:
    """The columns of `runs` that date a first event, in tie order."""
    ceiling = posturing_ceiling(scenario)
    out = [EventColumn(f"agreed.{g}", f"{g} agreed", AGREEMENT, 0) for g in scenario.agreements]
    for column in runs.columns:
        if column.startswith("first."):
            actor, action = column.removeprefix("first.").split(".", 1)
            rung = scenario.actions[action].rung
            if rung > ceiling:
                out.append(EventColumn(column, f"{actor} {action}", ACT, rung))
    out += [EventColumn(f"round.{lid}", f"red line {lid} crossed", CROSSING, 0) for lid in scenario.red_lines]
    out += [EventColumn(f"invoked.{cid}", f"{cid} invoked", INVOCATION, 0) for cid in scenario.commitments]
    present = [e for e in out if e.column in runs.columns]
    return sorted(present, key=lambda e: (e.kind, e.rung, e.label))


def run_paths(runs: pd.DataFrame, scenario: Scenario, length: int = LENGTH) -> pd.Series:
    """Each run's path (index: the run id): its first `length` events joined by arrows."""
    events = event_columns(runs, scenario)
    if not len(runs):
        return pd.Series([], dtype=object, name="sequence")
    rounds = np.column_stack([pd.to_numeric(runs[e.column], errors="coerce").to_numpy(dtype=float)
                              for e in events]) if events else np.zeros((len(runs), 0))
    rounds[~(rounds > 0)] = np.inf  # never (null) and round 0 (the starting situation) are no events
    # stable sort by round keeps the tie order of `events` within a round
    order = np.argsort(rounds, axis=1, kind="stable")[:, :length]
    happened = np.take_along_axis(rounds, order, axis=1) < np.inf
    labels = np.array([e.label for e in events] + [""], dtype=object)
    picked = np.where(happened, order, len(events))
    sequences = [ARROW.join(label for label in row if label) or NO_EVENT for row in labels[picked]]
    return pd.Series(sequences, index=runs["run"].to_numpy(), name="sequence")


def reaching(runs: pd.DataFrame, scenario: Scenario, to_class: str, at_least: bool = True) -> pd.DataFrame:
    """The runs whose outcome is `to_class` or, with `at_least`, any class above it on the ladder."""
    classes = list(scenario.outcomes.classes)
    if to_class not in classes:
        raise ValueError(f"--to {to_class}: no such outcome class (expected one of {', '.join(classes)})")
    wanted = classes[classes.index(to_class):] if at_least else [to_class]
    return runs[runs["outcome"].astype(str).isin(wanted)]


def first_event_paths(runs: pd.DataFrame, scenario: Scenario, to_class: str, top: int = 10,
                      length: int = LENGTH, at_least: bool = True) -> pd.DataFrame:
    """The `top` most common paths among the runs that reach `to_class` (at least it on the ladder
    with `at_least`): sequence, runs, share of those runs with a 95% Wilson interval (low, high),
    and the first run id on it (`example`, for sim trace). Ties in count go to the sequence whose
    first run comes first. `attrs["n"]` is the number of runs that reach the class."""
    chosen = reaching(runs, scenario, to_class, at_least)
    paths = run_paths(chosen, scenario, length)
    n = len(paths)
    columns = ["sequence", "runs", "share", "low", "high", "example"]
    if n == 0:
        table = pd.DataFrame(columns=columns)
    else:
        grouped = pd.DataFrame({"sequence": paths.to_numpy(), "run": paths.index}).groupby("sequence", sort=False)
        table = pd.DataFrame({"runs": grouped.size(), "example": grouped["run"].min()}).reset_index()
        table = table.sort_values(["runs", "example"], ascending=[False, True]).head(top)
        bounds = [wilson(int(k), n) for k in table["runs"]]
        table["share"] = table["runs"] / n
        table["low"] = [b[0] for b in bounds]
        table["high"] = [b[1] for b in bounds]
        table = table[columns].reset_index(drop=True)
    table.attrs["n"] = n
    table.attrs["of"] = len(runs)
    return table


def format_paths(table: pd.DataFrame, to_class: str, at_least: bool = True) -> str:
    """The paths table as text, with what it counts."""
    n, of = table.attrs.get("n", 0), table.attrs.get("of", 0)
    reach = f"reach {to_class} or worse" if at_least else f"end in {to_class}"
    head = f"{n:,} of {of:,} runs {reach}; their most common first events, in order:"
    if n == 0:
        return head + "\n(none)"
    rows = [f"{'share':>6}  {'95% interval':<16} {'runs':>7}  {'e.g. run':>8}  sequence"]
    for r in table.itertuples():
        rows.append(f"{r.share:>6.3f}  [{r.low:.3f}, {r.high:.3f}]  {r.runs:>7,}  {r.example:>8}  {r.sequence}")
    return "\n".join([head, *rows])


@dataclass(frozen=True)
class RunPick:
    """A run chosen for a report, and why."""

    label: str
    run: int
    why: str


def pick_report_runs(runs: pd.DataFrame, scenario: Scenario, length: int = LENGTH) -> list[RunPick]:
    """Three runs worth tracing: a typical one (the most common outcome, on its most common path),
    one on the most frequent path to the worst class reached, and one where a red line was
    crossed (on the most common path among those runs); the last is left out when no run
    crossed a line, and each is the first run id on its path."""
    picks = []
    outcome = runs["outcome"].astype(str)
    if not len(runs):
        return picks
    common = outcome.value_counts().idxmax()
    typical = first_event_paths(runs, scenario, common, top=1, length=length, at_least=False)
    picks.append(RunPick("typical", int(typical["example"].iloc[0]),
                         f"the most common outcome ({common}) on its most common path: {typical['sequence'].iloc[0]}"))
    classes = [c for c in scenario.outcomes.classes if (outcome == c).any()]
    worst = classes[-1]
    path = first_event_paths(runs, scenario, worst, top=1, length=length, at_least=False)
    picks.append(RunPick("worst", int(path["example"].iloc[0]),
                         f"the most frequent path to the worst class reached ({worst}): {path['sequence'].iloc[0]}"))
    crossed_columns = [f"crossed.{lid}" for lid in scenario.red_lines if f"crossed.{lid}" in runs.columns]
    crossed = runs[crossed_columns].fillna(False).astype(bool).any(axis=1) if crossed_columns else None
    if crossed is not None and crossed.any():
        lowest = next(iter(scenario.outcomes.classes))
        path = first_event_paths(runs[crossed], scenario, lowest, top=1, length=length)
        picks.append(RunPick("red line crossed", int(path["example"].iloc[0]),
                             f"the most common path among runs that crossed a red line: {path['sequence'].iloc[0]}"))
    return picks


EVENT_PREFIXES = ("first.", "round.", "invoked.", "agreed.", "crossed.")


def read_event_runs(results_dir: str | Path) -> tuple[pd.DataFrame, Scenario]:
    """A run directory's runs table, only the columns paths read, and its scenario as run.
    ResultsDirError for a path that is not a run directory."""
    import pyarrow.parquet as pq

    from .figure_data import ResultsDirError, load_run_scenario, read_manifest, read_table

    path = Path(results_dir)
    manifest = read_manifest(path)
    if manifest["kind"] != "run":
        raise ResultsDirError(f"{path}: a {manifest['kind']} directory (expected a run directory from sim run: "
                              f"the runs of different sweep points do not share paths)")
    try:
        names = pq.read_schema(path / "runs.parquet").names
    except (OSError, ValueError) as err:
        raise ResultsDirError(f"{path / 'runs.parquet'}: unreadable ({err}; expected the table sim wrote)") from None
    columns = ["run", "outcome", *(c for c in names if c.startswith(EVENT_PREFIXES))]
    return read_table(path / "runs.parquet", columns), load_run_scenario(path)
