"""Measures: a scenario's own yes/no questions, evaluated in every run like the record's events."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import sim
from sim.cli import main
from sim.experiments.summary import Tally, format_summary, rate_text
from sim.scenario import ScenarioError, load_scenario
from sim.scenario.calendar import round_dates


@pytest.fixture(scope="module")
def precision() -> sim.RunResult:
    return sim.run("precision-weapons", runs=300, seed=5, rounds=6, workers=1)


def test_a_measure_column_is_the_answer_to_its_question_in_each_run(precision: sim.RunResult) -> None:
    runs = precision.runs()
    expected = runs["first.south_korea.lethal_aid"].notna() & (runs["first.south_korea.lethal_aid"] >= 1)
    assert runs["measure.seoul_lethal_aid"].dtype == bool
    assert 0 < expected.sum() < len(runs), "the run must split on the question for the test to mean anything"
    assert (runs["measure.seoul_lethal_aid"] == expected).all()
    table = sim.measures(precision)
    assert list(table.columns) == ["id", "question", "p", "low", "high", "count", "n"]
    row = table.iloc[0]
    assert (row["id"], row["count"], row["n"]) == ("seoul_lethal_aid", expected.sum(), 300)
    assert row["low"] < row["p"] < row["high"]


def _with_measures(tmp_path: Path, measures: dict, name: str = "m") -> Path:
    file = tmp_path / f"{name}.yaml"
    file.write_text(yaml.safe_dump({"name": name, "extends": "baseline", "description": "Measures under test.",
                                    "sources": ["judgement"], "measures": measures}), encoding="utf-8")
    return file


def test_horizons_windows_and_statuses_follow_the_events_vocabulary(tmp_path: Path) -> None:
    # In precision-weapons Russia's lethal-aid line is crossed in most runs, mostly in rounds 4-6:
    # a horizon at round 4's start date splits the crossings.
    scenario = load_scenario("precision-weapons")
    fourth = round_dates(scenario)[3]
    file = tmp_path / "m.yaml"
    file.write_text(yaml.safe_dump({
        "name": "m", "extends": "precision-weapons", "description": "Measures under test.", "sources": ["judgement"],
        "measures": {
            "crossed_ever": {"question": "Moscow's line crossed", "kind": "red_line", "red_line": "russia.lethal_aid"},
            "crossed_early": {"question": "crossed by round 4", "kind": "red_line", "red_line": "russia.lethal_aid",
                              "by": fourth.isoformat()},
            "nullified": {"question": "treaty nullified", "kind": "commitment", "commitment": "treaty_article_4",
                          "status": "nullified"},
        }}), encoding="utf-8")
    runs = sim.run(file, runs=300, seed=2, rounds=8, workers=1).runs()
    crossing = runs["round.russia.lethal_aid"]
    assert (runs["measure.crossed_ever"] == runs["crossed.russia.lethal_aid"]).all()
    assert (runs["measure.crossed_early"] == (crossing.fillna(99) <= 4)).all()
    assert 0 < runs["measure.crossed_early"].sum() < runs["measure.crossed_ever"].sum()
    assert (runs["measure.nullified"] == (runs["status.treaty_article_4"].astype(str) == "nullified")).all()


def test_a_measure_naming_what_the_scenario_lacks_is_a_located_error(tmp_path: Path, capsys) -> None:
    file = _with_measures(tmp_path, {"aid": {"question": "aid", "kind": "takes", "actor": "south_korea",
                                             "action": "lethal_aide"}})
    with pytest.raises(ScenarioError) as err:
        load_scenario(file)
    message = str(err.value.problems[0])
    assert "measures.aid.action" in message and "lethal_aid" in message and str(file) in message
    assert main(["run", str(file), "--runs", "10"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_a_kind_missing_its_fields_is_refused(tmp_path: Path) -> None:
    file = _with_measures(tmp_path, {"aid": {"question": "aid", "kind": "takes", "actor": "south_korea"}})
    with pytest.raises(ScenarioError, match="needs actor, action"):
        load_scenario(file)


def test_none_in_n_prints_an_upper_bound_not_a_zero_width_interval() -> None:
    assert rate_text(0, 100_000) == "0 [0, 0.0038%]"
    assert rate_text(100, 100) == "1 [1 - 3.7%, 1]"
    assert rate_text(1, 4) == "0.2500 [0.0456, 0.6994]"
    tally = Tally(["calm", "war"], [], 2, ["m"])
    import pyarrow as pa

    tally.add(pa.table({"outcome": pa.array(["calm"] * 3).dictionary_encode(), "measure.m": [True, False, False]}))
    text = format_summary("t", tally, {"m": "what is asked"})
    assert "0 [0, 56%]" in text and "0.3333 [0.0615, 0.7923]" in text and "what is asked" in text


def test_a_measure_window_that_starts_after_its_horizon_is_a_located_error(tmp_path: Path) -> None:
    file = _with_measures(tmp_path, {"late": {"question": "tests late", "kind": "takes", "actor": "north_korea",
                                              "action": "missile_test", "since": 10, "by": 5}})
    with pytest.raises(ScenarioError) as err:
        load_scenario(file)
    [problem] = err.value.problems
    assert (problem.file, problem.path) == (str(file), "measures.late.since")
    assert problem.message == "window start after the horizon (expected round 5 or earlier, got 10: round 10)"


def test_a_tally_counts_each_red_lines_crossings_sightings_and_enforcements() -> None:
    # Mutation survivor (docs/hardening.md): the enforcement count starting at 1 passed the suite.
    import pyarrow as pa

    tally = Tally(["calm", "war"], ["line", "never"], 3)
    never = [False] * 4
    tally.add(pa.table({"outcome": pa.array(["calm", "war", "war", "calm"]).dictionary_encode(),
                        "crossed.line": [True, True, False, False], "seen.line": [True, False, False, False],
                        "enforced.line": [False, True, False, False], "round.line": [2, 3, 0, 0],
                        "crossed.never": never, "seen.never": never, "enforced.never": never, "round.never": [0] * 4}))
    assert (tally.runs, list(tally.outcome_counts)) == (4, [2, 2])
    assert (tally.crossed, tally.seen, tally.enforced) == ({"line": 2, "never": 0}, {"line": 1, "never": 0},
                                                          {"line": 1, "never": 0})
    assert list(tally.crossing_rounds["line"]) == [0, 0, 1, 1]
    assert tally.median_round("line") == 2.0 and np.isnan(tally.median_round("never"))
