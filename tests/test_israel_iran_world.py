"""The second shipped world, Israel-Iran as of 31 March 2024: it validates with no warning, its
frozen first draft is kept beside it, its record of April 2024 fits it, and its backtest runs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sim.backtest import backtest, check_events, load_events
from sim.scenario import load_scenario
from sim.scenario.lint import scenario_warnings

ROOT = Path(__file__).resolve().parents[1]
WORLD = ROOT / "scenarios" / "israel-iran-2024" / "world" / "israel-iran-2024.yaml"
FIRST_DRAFT = ROOT / "scenarios" / "israel-iran-2024" / "world" / "israel-iran-2024-first-draft.yaml"
RECORD = ROOT / "events" / "israel-iran-2024.yaml"


@pytest.mark.parametrize("ref", [str(WORLD), str(FIRST_DRAFT), "israel-iran"])
def test_the_world_its_first_draft_and_its_scenario_give_no_warning(ref: str) -> None:
    assert scenario_warnings(ref) == []


def test_the_world_has_daily_rounds_through_april_2024_and_a_sponsored_proxy() -> None:
    s = load_scenario("israel-iran")
    assert (str(s.start), s.rounds, s.round.length, s.round.unit) == ("2024-04-01", 30, 1, "day")
    assert s.actors["hezbollah"].sponsor == "iran" and s.actors["houthis"].sponsor == "iran"


def test_the_final_world_is_the_frozen_first_draft_but_its_name() -> None:
    """The README reports the first draft's backtest as the final world's: they must not drift apart
    unnoticed (a change to the final world is a change to this test and to the README's table)."""
    final, draft = (yaml.safe_load(p.read_text(encoding="utf-8")) for p in (WORLD, FIRST_DRAFT))
    assert (final.pop("name"), draft.pop("name")) == ("israel-iran-2024-world", "israel-iran-2024-world-first-draft")
    assert final == draft


def test_the_record_of_april_2024_fits_the_world() -> None:
    events = load_events(RECORD)
    check_events(events, load_scenario(FIRST_DRAFT))
    assert (str(events.start), str(events.end), len(events.events)) == ("2024-04-01", "2024-04-30", 28)
    assert all(e.sources for e in events.events.values())


@pytest.mark.slow  # about 3 s: 2,000 runs of 30 daily rounds and the scoring
def test_the_backtest_of_the_first_draft_runs_and_scores(tmp_path: Path) -> None:
    result = backtest(FIRST_DRAFT, RECORD, runs=2_000, seed=1, out=tmp_path / "bt", workers=1)
    table = result.table.set_index("event")
    # 9.8% at 10,000 runs (seed 1); at 2,000 runs one standard error is 0.7 points: 5 either side
    assert 0.07 <= table.loc["iran-strikes-israel", "p.model"] <= 0.14
    assert set(table.index[table["by_construction"]]) == {
        "lebanon-fire-continues", "houthi-attacks-continue", "us-strikes-houthis-continue"}
    headline = result.headline.set_index("forecaster")
    assert headline.loc["persistence", "log"] - headline.loc["model", "log"] > 1.0  # 2.83 at 10,000 runs
