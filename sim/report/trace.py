"""One run replayed with its details (sim trace): the run is simulated again alone, drawing its
block's random numbers from the results directory's seed (engine/streams.py: each draw is made
at the block's shape and only the run's column kept), with a tracer on it, and checked against
what runs.parquet recorded. Nothing beyond the usual results is stored to make this possible.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .figure_data import ResultsDirError, load_run_scenario, read_manifest
from .story import TracedRound, epilogue, tell
from ..engine.model import EscalationModel, ScenarioRef, block_generator, resolve_scenario
from ..engine.outcomes import outcome_class
from ..engine.streams import ReplicateStream
from ..engine.tracer import Tracer
from ..experiments.ensemble import BLOCK, tabulate
from ..scenario import Scenario

DEFAULT_PICK_RUNS = 100_000


@dataclass
class Trace:
    """A replayed run: its story round by round, and how the replay compares with the record."""

    scenario: Scenario
    run: int
    seed: int
    outcome: str
    rounds: list[TracedRound]
    source: str  # where the run comes from: a results directory, or the command that makes it
    recorded: dict[str, Any]  # the run's row of runs.parquet (or of the search that found it)
    tracer: Tracer | None = None  # the raw facts, by index (engine/tracer.py)
    warnings: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)  # columns where the replay differs from the record


def replay(scenario: Scenario, seed: int, block: int, size: int, replicate: int) -> tuple[Tracer, dict[str, Any]]:
    """Simulate replicate `replicate` of block `block` (of `size` replicates) alone, traced: the
    tracer and the replicate's row of the runs table as the replay computes it. The model runs
    one replicate; only the draws are made at the block's size (ReplicateStream)."""
    stream = ReplicateStream(block_generator(seed, 0, block), size, replicate)
    model = EscalationModel(scenario, replicates=1, rng=stream)
    tracer = Tracer.attach(model, 0)
    while model.running:
        model.step()
    row = tabulate(model, block * BLOCK + replicate, trajectories=False)[0].to_pylist()[0]
    return tracer, row


def differences(recorded: Mapping[str, Any], replayed: Mapping[str, Any]) -> list[str]:
    """`column: recorded X, replayed Y` for every column where the two rows differ."""
    out = []
    for column in sorted(set(recorded) | set(replayed)):
        a, b = recorded.get(column, "(no column)"), replayed.get(column, "(no column)")
        if a != b and not (a != a and b != b):  # NaN equals NaN here
            out.append(f"{column}: recorded {a}, replayed {b}")
    return out


def _version_warnings(manifest: Mapping[str, Any]) -> list[str]:
    from .. import __version__
    from ..experiments.results import git_commit

    out = []
    if manifest.get("version") not in (None, __version__):
        out.append(f"the results were made by version {manifest['version']}; this is {__version__}")
    made, now = manifest.get("git_commit"), git_commit()
    if made and now and made != now:
        out.append(f"the results were made at commit {made[:12]}; this checkout is at {now[:12]}")
    if manifest.get("git_dirty"):
        out.append("the results were made from a checkout with uncommitted changes")
    return out


def _row(path: Path, run: int) -> dict[str, Any]:
    try:
        table = pq.read_table(path / "runs.parquet", filters=[("run", "==", run)])
    except (OSError, pa.ArrowException) as err:
        raise ResultsDirError(f"{path / 'runs.parquet'}: unreadable ({err}; expected the table sim wrote)") from None
    if table.num_rows != 1:
        raise ResultsDirError(f"{path / 'runs.parquet'}: run {run} appears {table.num_rows} times (expected once)")
    return table.to_pylist()[0]


def trace_run(results_dir: str | Path, run: int) -> Trace:
    """Replay run `run` of a run directory (sim run). ResultsDirError for a path that is not one,
    ValueError for a run id it does not hold."""
    path = Path(results_dir)
    manifest = read_manifest(path)
    if manifest["kind"] not in ("run", "backtest"):  # a backtest is a run with its scores
        raise ResultsDirError(f"{path}: a {manifest['kind']} directory (expected a run directory from sim run; "
                              f"trace a sweep point by running it with sim run --set)")
    runs, seed = manifest.get("runs"), manifest.get("seed")
    if runs is None or seed is None:
        raise ResultsDirError(f"{path}: manifest.json has no runs or seed (expected both, to replay a run)")
    if not 0 <= run < runs:
        raise ValueError(f"--run {run}: no such run in {path} (expected 0 to {runs - 1})")
    block_size = int(manifest.get("block_size", BLOCK))
    if block_size != BLOCK:
        raise ResultsDirError(f"{path}: made with blocks of {block_size} runs (expected {BLOCK}; "
                              f"this version cannot replay it)")
    scenario = load_run_scenario(path)
    block, replicate = divmod(run, block_size)
    tracer, replayed = replay(scenario, seed, block, min(block_size, runs - block * block_size), replicate)
    recorded = _row(path, run)
    return Trace(scenario, run, seed, str(replayed["outcome"]), tell(scenario, tracer), str(path), recorded, tracer,
                 _version_warnings(manifest), differences(recorded, replayed))


def trace_pick(scenario: ScenarioRef, seed: int, outcome: str, overrides: Mapping[str, Any] | list[str] | None = None,
               max_runs: int = DEFAULT_PICK_RUNS) -> Trace:
    """The first run, in run-id order, of `sim run SCENARIO --seed SEED` that ends in class
    `outcome`, replayed, searching at most `max_runs` runs (rounded up to whole blocks). Blocks
    are simulated whole, so the run id is that of any `sim run` of at least its block's end.
    ValueError when the class is unknown or no run searched ends there."""
    resolved = resolve_scenario(scenario, overrides)
    classes = list(resolved.outcomes.classes)
    if outcome not in classes:
        raise ValueError(f"--pick {outcome}: no such outcome class (expected one of {', '.join(classes)})")
    code = classes.index(outcome)
    if max_runs < 1:
        raise ValueError(f"--max-runs must be at least 1 (got {max_runs})")
    size, blocks = BLOCK, (max_runs + BLOCK - 1) // BLOCK
    for block in range(blocks):
        model = EscalationModel(resolved, replicates=size, rng=block_generator(seed, 0, block))
        while model.running:
            model.step()
        hits = (outcome_class(model) == code).nonzero()[0]
        if len(hits):
            replicate = int(hits[0])
            recorded = tabulate(model, block * BLOCK, trajectories=False)[0].slice(replicate, 1).to_pylist()[0]
            del model
            tracer, replayed = replay(resolved, seed, block, size, replicate)
            run = block * BLOCK + replicate
            runs_needed = (block + 1) * BLOCK
            source = (f"run {run} of {resolved.name} with seed {seed}: the same run in sim run with --seed {seed}, "
                      f"the same --set and --rounds, and --runs {runs_needed:,} or more")
            return Trace(resolved, run, seed, outcome, tell(resolved, tracer), source, recorded, tracer, [],
                         differences(recorded, replayed))
    raise ValueError(f"--pick {outcome}: none of the first {blocks * BLOCK:,} runs of {resolved.name} with seed {seed} "
                     f"ends in {outcome} (expected at least one; try another seed or more --max-runs)")


def format_trace(trace: Trace, brief: bool = False) -> str:
    """The trace as text: a header, any warning, the rounds, an ending, and loud lines if the
    replay differs from the record. `brief` leaves out routine lines (TracedRound.brief) and
    the rounds left empty."""
    r = trace.recorded
    head = [f"Run {trace.run} of {trace.scenario.name} (seed {trace.seed}): {trace.outcome}, highest new rung "
            f"{r.get('new_rung')} in round {r.get('peak_round') or '-'}; {trace.source}"]
    head += [f"warning: {text}" for text in trace.warnings]
    loud = []
    if trace.mismatches:
        loud = ["", f"!!! THE REPLAY DIFFERS FROM WHAT WAS RECORDED ({len(trace.mismatches)} columns): "
                    "this story is not the recorded run !!!"] + [f"!!! {m}" for m in trace.mismatches]
    body = []
    for traced in trace.rounds:
        lines = traced.brief if brief else traced.lines
        if brief and not lines:
            continue
        body.append(f"Round {traced.number} · {traced.date}" + ("" if lines else "  (nothing new)"))
        body += [f"  {line}" for line in lines]
    end = ["", f"End · {trace.outcome}"] + [f"  {line}" for line in epilogue(trace.scenario, trace.tracer, r)] \
        if trace.tracer is not None else []
    return "\n".join(head + loud + [""] + body + end + loud)
