"""The figures of docs/backtest.md and the README's "Does it forecast?": the headline against
the old mean, for the calibrated baseline and the same scenario on the uncalibrated world, and
the out-of-time split (events dated after the first four months, the months the calibration's
holdout fits on).

    python benchmarks/backtest_headline.py [--runs 10000] [--seed 1] [--calibration DIR]

With `--calibration DIR` (a `sim calibrate` results directory on events/korea-2024.yaml) it also
scores the calibration's holdout forecasts (`p_holdout`: weights fitted on the events of the
first months only) on the later events, weighted as the headline is.

Prints markdown tables; writes nothing but temporary results directories.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from pathlib import Path

import pandas as pd

from sim.backtest import backtest, headline_scores, load_events, mean_scores, score_table
from sim.backtest.calibration import FIT_MONTHS
from sim.backtest.run import MODEL
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events" / "korea-2024.yaml"


CALIBRATED_WORLD = "extends: world/korea-2024-calibrated.yaml"


def scenarios(folder: Path) -> dict[str, str | Path]:
    """`baseline`, and when it extends the calibrated world, the same on the world before calibration."""
    text = (ROOT / "scenarios" / "korea-2024" / "baseline.yaml").read_text(encoding="utf-8")
    if CALIBRATED_WORLD not in text:
        return {"baseline": "baseline"}
    path = folder / "baseline-uncalibrated.yaml"
    path.write_text(text.replace(CALIBRATED_WORLD, f"extends: {ROOT / "scenarios" / "korea-2024" / "world" / "korea-2024.yaml"}"),
                    encoding="utf-8")
    return {"calibrated": "baseline", "uncalibrated": path}


def cell(row: pd.Series, key: str, signed: bool = False) -> str:
    form = "+.3f" if signed else ".3f"
    return f"{row[key]:{form}} ({row[f'{key}_low']:{form}} to {row[f'{key}_high']:{form}})"


def markdown(scores: pd.DataFrame, model_name: str) -> list[str]:
    lines = ["| forecaster | Brier | minus model | log score | minus model |", "|---|---|---|---|---|"]
    for _, row in scores.iterrows():
        name = model_name if row["forecaster"] == MODEL else row["forecaster"]
        gaps = ["", ""] if row["forecaster"] == MODEL else [cell(row, "brier_minus_model", True),
                                                            cell(row, "log_minus_model", True)]
        lines.append(f"| {name} | {cell(row, 'brier')} | {gaps[0]} | {cell(row, 'log')} | {gaps[1]} |")
    return lines


def later(table: pd.DataFrame, start: dt.date) -> pd.DataFrame:
    """Events first dated after the first FIT_MONTHS months of the window (the holdout's test events)."""
    month, year = start.month + FIT_MONTHS, start.year
    boundary = dt.date(year + (month - 1) // 12, (month - 1) % 12 + 1, start.day)
    return table[pd.to_datetime(table["date"]).dt.date >= boundary]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--calibration", type=Path, help="a sim calibrate results directory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        here = Path(folder)
        results = {name: backtest(scenario, EVENTS, runs=args.runs, seed=args.seed, out=here / name)
                   for name, scenario in scenarios(here).items()}
    for name, result in results.items():
        table, seed = result.table, result.seed
        head = table[~table["by_construction"]]
        print(f"\n## {name}: `baseline`, {args.runs:,} runs, seed {seed}\n")
        print(f"### headline: {len(head)} events in {head['cluster'].nunique()} clusters\n")
        print("\n".join(markdown(headline_scores(table, seed), f"model ({name})")))
        print(f"\n### true by construction: {', '.join(table.loc[table['by_construction'], 'event'])}\n")
        print("\n".join(markdown(mean_scores(table[table["by_construction"]], seed, weighted=True), "model")))
        print(f"\n### all {len(table)} events, unweighted (the old headline)\n")
        print("\n".join(markdown(mean_scores(table, seed), f"model ({name})")))
        out_of_time = later(table, result.events.start)
        print(f"\n### out of time: the {len(out_of_time)} events dated after month {FIT_MONTHS}, "
              f"headline weighting ({(~out_of_time['by_construction']).sum()} events)\n")
        print("\n".join(markdown(headline_scores(out_of_time, seed), f"model ({name})")))
    if args.calibration is not None:
        holdout(args.calibration, args.seed)


def holdout(directory: Path, seed: int) -> None:
    """The calibration's holdout forecasts of its test events, weighted as the headline."""
    calibrated = pd.read_parquet(directory / "events.parquet").set_index("event")
    test = calibrated.index[calibrated["holdout"] == "test"]
    scenario = load_scenario(directory / "scenario.yaml")
    for column, name in (("p_before", "the world as given"), ("p_holdout", f"fitted on months 1-{FIT_MONTHS}")):
        table = score_table(load_events(EVENTS), scenario, calibrated[column].to_dict())
        later_events = table[table["event"].isin(test)]
        print(f"\n### calibration holdout, {name}: {len(later_events)} test events, headline weighting "
              f"({(~later_events['by_construction']).sum()} events)\n")
        print("\n".join(markdown(headline_scores(later_events, seed), f"model ({name})")))


if __name__ == "__main__":
    main()
