"""Score model version 1 (commit b029b1c) against an events file, beside a version 2 backtest.

Version 1's results have no activities, agreements, start date or bit masks: each actor takes
one move a month from `hold`, recorded as `action.<actor>`/`target.<actor>` per round, and a run's
class is that of the highest rung any actor reached. So this script reads them its own way:

- `takes` (and `rounds: k`): the actor's move of the round is the action (toward the target) in
  at least k of the rounds up to the horizon;
- `in_force`: version 1 has nothing in force, so the only reading is the same: taken in at least
  k of those rounds;
- `red_line`: `round.<id>` up to the horizon;
- `outcome`: the highest rung of any move up to the horizon above the class below's max_rung;
- `agreement` and `commitment` (v1 records no invocation round), and actions v1 lacks: not
  expressible; listed, and left out of every forecaster's score so all are scored on the same events.

Rounds are months from 23 June 2024 in both versions, so the v2 events file's horizons apply.

    python benchmarks/backtest_v1.py V1_RUN_DIR V2_BACKTEST_DIR events/korea-2024.yaml
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sim.backtest import brier, load_events, log_score, mean_scores, score_table
from sim.backtest.run import format_backtest
from sim.scenario import load_scenario


def v1_probabilities(run_dir: Path, events_file: Path, scenario_v2) -> tuple[dict[str, float], dict[str, str]]:
    """v1's probability of each event it can express, and why each other one is left out."""
    from sim.backtest import horizon_round

    events = load_events(events_file)
    world = yaml.safe_load((run_dir / "scenario.yaml").read_text())
    rung = {aid: a["rung"] for aid, a in world["actions"].items()}
    classes = list(world["outcomes"]["classes"])
    runs = pd.read_parquet(run_dir / "runs.parquet")
    trajectories = pd.read_parquet(run_dir / "trajectories.parquet").sort_values(["run", "round"])
    n, rounds = len(runs), int(trajectories["round"].max())
    grid = {c: trajectories[c].astype(str).to_numpy().reshape(n, rounds)
            for c in trajectories.columns if c.startswith(("action.", "target."))}
    probability, missing = {}, {}
    for eid, event in events.events.items():
        last = horizon_round(event, scenario_v2)
        if event.kind in ("takes", "in_force"):
            allowed = world["actions"].get(event.action, {}).get("allowed", {}).get(event.actor, [])
            if not allowed or (event.target is not None and event.target not in allowed):
                missing[eid] = f"v1 has no {event.action} for {event.actor}" + (
                    f" toward {event.target}" if event.target else "")
                continue
            hit = grid[f"action.{event.actor}"][:, :last] == event.action
            if event.target is not None:
                hit &= grid[f"target.{event.actor}"][:, :last] == event.target
            probability[eid] = float((hit.sum(axis=1) >= (event.rounds or 1)).mean())
        elif event.kind == "red_line":
            probability[eid] = float((runs[f"round.{event.red_line}"].fillna(np.inf) <= last).mean())
        elif event.kind == "outcome":
            rank = classes.index(str(event.at_least))
            threshold = world["outcomes"]["classes"][classes[rank - 1]]["max_rung"] if rank else -1
            top = np.zeros((n, last), dtype=int)
            for actor in world["actors"]:
                top = np.maximum(top, np.vectorize(rung.get)(grid[f"action.{actor}"][:, :last]))
            probability[eid] = float((top.max(axis=1) > threshold).mean())
        else:
            missing[eid] = f"v1 records no {event.kind} of this kind ({event.kind}s are new in v2)"
    return probability, missing


def main(v1_dir: str, v2_dir: str, events_file: str) -> None:
    scenario = load_scenario(Path(v2_dir) / "scenario.yaml")
    events = load_events(events_file)
    p1, missing = v1_probabilities(Path(v1_dir), Path(events_file), scenario)
    common = events.model_copy(update={"events": {e: ev for e, ev in events.events.items() if e in p1}})
    v2 = pd.read_parquet(Path(v2_dir) / "backtest.parquet").set_index("event")["p.model"]
    table = score_table(common, scenario, {e: float(v2[e]) for e in common.events})
    observed = table["observed"].to_numpy()
    p = np.array([p1[e] for e in table["event"]])
    table.insert(table.columns.get_loc("p.base_rate"), "p.v1", p)
    table.insert(table.columns.get_loc("p.base_rate"), "brier.v1", brier(p, observed))
    table.insert(table.columns.get_loc("p.base_rate"), "log.v1", log_score(p, observed))
    print(format_backtest(f"v1 ({v1_dir}) and v2 ({v2_dir}) on the {len(table)} events both can express",
                          table, mean_scores(table, seed=1)))
    print("\nv1 per event:", ", ".join(f"{e} {100 * p1[e]:.1f}%" for e in table["event"]))
    print("\nleft out (v1 cannot express):")
    for eid, why in missing.items():
        print(f"  {eid}: {why}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
