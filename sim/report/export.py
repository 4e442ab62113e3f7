"""`sim export`: a run directory's tables in tidy (long) form, as CSV or Parquet files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..experiments.export import FORMATS, summary_frame, tidy_moves, tidy_runs
from ..experiments.results import ResultsDir
from ..experiments.summary import Tally
from .figure_data import ResultsDirError, load_run_scenario, read_manifest

RUN_KINDS = ("run", "backtest", "forecast")


def export(results_dir: str | Path, out: str | Path, fmt: str = "csv") -> list[Path]:
    """Write summary, runs (tidy) and moves (tidy, when there are trajectories) of a run
    directory into `out` (a new directory, complete or absent); returns the files written."""
    if fmt not in FORMATS:
        raise ValueError(f"--format {fmt}: unknown (expected one of {', '.join(FORMATS)})")
    path = Path(results_dir)
    manifest = read_manifest(path)
    if manifest["kind"] not in RUN_KINDS:
        raise ResultsDirError(f"{path}: a {manifest['kind']} directory (expected a run directory: "
                              f"{', '.join(RUN_KINDS)})")
    scenario = load_run_scenario(path)
    runs = pd.read_parquet(path / "runs.parquet")
    tally = Tally(list(scenario.outcomes.classes), list(scenario.red_lines), scenario.rounds,
                  [m for m in scenario.measures if f"measure.{m}" in runs.columns])
    tally.add(pa.Table.from_pandas(runs, preserve_index=False))
    tables = {"summary": summary_frame(tally), "runs": tidy_runs(runs, scenario)}
    trajectories = path / "trajectories.parquet"
    if trajectories.is_file():
        metadata = pq.read_schema(trajectories).metadata or {}
        options = json.loads(metadata.get(b"options", b"{}"))
        tables["moves"] = tidy_moves(pd.read_parquet(trajectories), options, scenario)
    written = []
    with ResultsDir(Path(out)) as results:
        for name, frame in tables.items():
            file = results.tmp / f"{name}.{fmt}"
            if fmt == "csv":
                frame.to_csv(file, index=False)
            else:
                frame.to_parquet(file, index=False)
            written.append(Path(out) / file.name)
    return written
