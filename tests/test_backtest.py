"""Backtesting: events files, each event kind evaluated on hand-built results, scoring rules.

Every table here is written by hand: three runs of the Korean baseline's 24 monthly rounds,
with the few columns and bits each event reads set to known values, so each expected answer
can be checked by reading the table.
"""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.backtest import (CLIP, SURE, bootstrap_mean, brier, evaluate, load_events, log_score, round_of,
                          trajectory_columns)
from sim.scenario import Problem, ScenarioError, load_scenario

HEAD = """\
start: 2024-06-23
end: 2024-12-31
references:
  wide-press: {title: Wide press coverage}
events:
"""


def event(eid: str, body: str, happened: bool = True, date: str = "2024-12-31") -> str:
    return textwrap.indent(f"{eid}:\n  question: q\n{textwrap.indent(body, '  ')}  happened: {str(happened).lower()}\n"
                           f"  date: {date}\n  sure: high\n  sources: [wide-press]\n", "  ")


def events_file(tmp_path: Path, *bodies: str) -> Path:
    path = tmp_path / "events.yaml"
    path.write_text(HEAD + "".join(bodies), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def baseline():
    return load_scenario("baseline")


def hand_built_runs() -> pd.DataFrame:
    nan = np.nan
    return pd.DataFrame({
        "run": [0, 1, 2],
        "outcome": pd.Categorical(["contained", "proxy_escalation", "regional_war"]),
        "first.north_korea.troop_deployment": [nan, 3.0, 8.0],
        "round.south_korea.precision_weapons": [nan, 7.0, 2.0],
        "invoked.treaty_article_4": [5.0, nan, 8.0],
        "agreed.us_dprk_talks": [nan, nan, 1.0],
    })


# option bits (the engine's order of each actor's options, as in the trajectories' metadata)
NK_MISSILE_TEST_US = 13  # north_korea: missile_test>united_states
NK_BORDER_CLASH = 5  # north_korea: border_clash>south_korea
US_LETHAL_AID = 12  # united_states: lethal_aid>ukraine


def hand_built_trajectories(rounds: int = 24) -> pd.DataFrame:
    rows = pd.DataFrame({"run": np.repeat([0, 1, 2], rounds), "round": np.tile(np.arange(1, rounds + 1), 3)})
    nk = np.zeros((3, rounds), dtype=np.uint64)
    us = np.zeros((3, rounds), dtype=np.uint64)
    nk[0, 1] |= np.uint64(1 << NK_MISSILE_TEST_US)  # run 0 tests toward the US in round 2
    nk[1, 2] |= np.uint64(1 << NK_MISSILE_TEST_US)  # run 1 in round 3
    nk[1, 1] |= np.uint64(1 << 4)  # run 1 tests toward the South in round 2 (another target)
    nk[2, 5] |= np.uint64(1 << NK_BORDER_CLASH)  # run 2 clashes in round 6
    us[0, :3] = 1 << US_LETHAL_AID  # run 0: aid in force rounds 1-3
    us[1, [0, 2]] = 1 << US_LETHAL_AID  # run 1: rounds 1 and 3
    us[2, 0] = 1 << US_LETHAL_AID  # run 2: round 1 only
    frame = {"moves.north_korea": nk.ravel(), "activities.united_states": us.ravel()}
    for actor in ("south_korea", "russia", "united_states", "ukraine"):
        frame[f"moves.{actor}"] = np.zeros(3 * rounds, dtype=np.uint64)
    return rows.assign(**frame)


def test_the_option_bits_used_here_are_the_engines(baseline):
    from sim.engine.outcomes import option_labels
    from sim.engine.model import EscalationModel

    labels = option_labels(EscalationModel(baseline, replicates=1))
    assert labels["north_korea"][NK_MISSILE_TEST_US] == "missile_test>united_states"
    assert labels["north_korea"][NK_BORDER_CLASH] == "border_clash>south_korea"
    assert labels["united_states"][US_LETHAL_AID] == "lethal_aid>ukraine"


def test_dates_map_to_rounds_through_the_scenarios_calendar(baseline):
    assert [round_of(dt.date.fromisoformat(d), baseline) for d in
            ("2024-06-22", "2024-06-23", "2024-07-22", "2024-07-23", "2024-12-22", "2024-12-23", "2024-12-31")] \
        == [0, 1, 1, 2, 6, 7, 7]


def test_each_kind_is_evaluated_exactly_on_a_hand_built_table(tmp_path, baseline):
    path = events_file(
        tmp_path,
        event("troops", "kind: takes\nactor: north_korea\naction: troop_deployment\n"),  # by 31 Dec: round 7
        event("troops-by-3", "kind: takes\nactor: north_korea\naction: troop_deployment\nby: 3\n"),
        event("test-at-us", "kind: takes\nactor: north_korea\naction: missile_test\ntarget: united_states\nby: 2\n"),
        event("tests-twice", "kind: takes\nactor: north_korea\naction: missile_test\nrounds: 2\nby: 3\n"),
        event("aid", "kind: in_force\nactor: united_states\naction: lethal_aid\nrounds: 2\nby: 3\n"),
        event("line", "kind: red_line\nred_line: south_korea.precision_weapons\n"),
        event("article-4", "kind: commitment\ncommitment: treaty_article_4\nby: 2024-11-23\n"),
        event("talks", "kind: agreement\nagreement: us_dprk_talks\n"),
        event("proxy", "kind: outcome\nat_least: proxy_escalation\nby: 24\n"),
        event("crisis-by-6", "kind: outcome\nat_least: militarized_crisis\nby: 6\n"),
        event("crisis-by-5", "kind: outcome\nat_least: militarized_crisis\nby: 5\n"),
    )
    events = load_events(path)
    assert trajectory_columns(events, baseline) == ["run", "round", "moves.north_korea", "activities.united_states",
                                                    "moves.south_korea", "moves.russia", "moves.united_states",
                                                    "moves.ukraine"]
    table = evaluate(events, hand_built_runs(), hand_built_trajectories(), baseline)
    expected = {
        "troops": [False, True, False],
        "troops-by-3": [False, True, False],
        "test-at-us": [True, False, False],
        "tests-twice": [False, True, False],  # run 1: toward the South in round 2, the US in round 3
        "aid": [True, True, False],
        "line": [False, True, True],
        "article-4": [True, False, False],  # 23 Nov is round 6
        "talks": [False, False, True],
        "proxy": [False, True, True],
        "crisis-by-6": [False, False, True],
        "crisis-by-5": [False, False, False],
    }
    assert table.to_dict(orient="list") == expected
    assert list(table.columns) == list(expected)


def test_windows_counts_and_in_force_through_are_evaluated_exactly_on_a_hand_built_table(tmp_path, baseline):
    tests = "kind: takes\nactor: north_korea\naction: missile_test\n"
    aid = "kind: in_force\nactor: united_states\naction: lethal_aid\n"
    path = events_file(
        tmp_path,
        event("tests-since-3", tests + "since: 3\nby: 24\n"),
        event("tests-since-round-3-date", tests + "since: 2024-08-30\nby: 24\n"),  # round 3 starts 23 Aug
        event("tests-since-round-2-date", tests + "since: 2024-08-22\nby: 24\n"),
        event("tests-at-most-once", tests + "at_most: 1\nby: 24\n"),
        event("no-tests", tests + "at_most: 0\nby: 24\n"),
        event("tests-once-since-3", tests + "rounds: 1\nat_most: 1\nsince: 3\nby: 24\n"),
        event("aid-through-3", aid + "through: 3\n"),
        event("aid-through-3-date", aid + "through: 2024-08-23\n"),
        event("aid-since-3-through-3", aid + "since: 3\nthrough: 3\n"),
        event("aid-at-most-2", aid + "rounds: 1\nat_most: 2\nby: 3\n"),
        event("crisis-since-6", "kind: outcome\nat_least: militarized_crisis\nsince: 6\nby: 24\n"),
        event("crisis-since-7", "kind: outcome\nat_least: militarized_crisis\nsince: 7\nby: 24\n"),
    )
    table = evaluate(load_events(path), hand_built_runs(), hand_built_trajectories(), baseline)
    # tests toward anyone: run 0 in round 2, run 1 in rounds 2 and 3, run 2 never;
    # aid in force: run 0 in rounds 1-3, run 1 in rounds 1 and 3, run 2 in round 1
    assert table.to_dict(orient="list") == {
        "tests-since-3": [False, True, False],
        "tests-since-round-3-date": [False, True, False],
        "tests-since-round-2-date": [True, True, False],
        "tests-at-most-once": [True, False, True],
        "no-tests": [False, False, True],
        "tests-once-since-3": [False, True, False],
        "aid-through-3": [True, False, False],
        "aid-through-3-date": [True, False, False],
        "aid-since-3-through-3": [True, True, False],
        "aid-at-most-2": [False, True, True],
        "crisis-since-6": [False, False, True],  # run 2's border clash in round 6
        "crisis-since-7": [False, False, False],
    }


@pytest.mark.parametrize("body, message", [
    ("kind: takes\nactor: north_korea\naction: missile_test\nrounds: 3\nat_most: 2\n",
     "events.x: expected at_most >= rounds, got at_most 2 < rounds 3"),
    ("kind: in_force\nactor: united_states\naction: lethal_aid\nrounds: 1\nthrough: 3\n",
     "events.x: an 'in_force' event needs rounds or through (expected one of them, got both)"),
    ("kind: in_force\nactor: united_states\naction: lethal_aid\nthrough: 3\nby: 4\n",
     "events.x: through is the event's horizon and asks for every round (expected no by with it, got one)"),
    ("kind: red_line\nred_line: russia.lethal_aid\nsince: 2\n",
     "events.x: a 'red_line' event takes only red_line (expected none of since, got since)"),
    ("kind: takes\nactor: north_korea\naction: missile_test\nat_most: -1\n",
     "events.x.at_most: expected greater than or equal to 0, got -1"),
    ("kind: takes\nactor: north_korea\naction: missile_test\nsince: 2024-06-01\n",
     "events.x.since: date before the record's start (expected 2024-06-23 or later, got 2024-06-01)"),
])
def test_bad_windows_and_counts_are_located_errors(tmp_path, body, message):
    path = events_file(tmp_path, event("x", body))
    with pytest.raises(ScenarioError) as err:
        load_events(path)
    assert [p.path + ": " + p.message for p in err.value.problems] == [message]
    assert all(p.file == str(path) and p.line >= 6 for p in err.value.problems)


@pytest.mark.parametrize("body, message", [
    ("since: 8\nby: 5\n", "events.x.since: window start after the horizon (expected round 5 or earlier, got 8: round 8)"),
    ("kind: outcome\nat_least: contained\nsince: 2\n", "events.x.at_least: 'contained' is told from 'de_escalation' only "
     "at the end of a run (expected a horizon of 24 rounds and no window start, got round 7 and since 2)"),
    ("rounds: 4\nsince: 3\nby: 5\n", "events.x.rounds: more rounds than the window holds (expected at most 3, got 4)"),
])
def test_a_window_the_run_cannot_hold_is_refused_against_the_scenario(tmp_path, baseline, body, message):
    kind = "" if body.startswith("kind:") else "kind: takes\nactor: north_korea\naction: missile_test\n"
    path = events_file(tmp_path, event("x", kind + body))
    with pytest.raises(ScenarioError) as err:
        evaluate(load_events(path), hand_built_runs(), hand_built_trajectories(), baseline)
    assert [p.path + ": " + p.message for p in err.value.problems] == [message]


def test_runs_alone_answer_events_that_need_no_trajectory(tmp_path, baseline):
    events = load_events(events_file(tmp_path, event("line", "kind: red_line\nred_line: south_korea.precision_weapons\n")))
    assert trajectory_columns(events, baseline) == []
    assert evaluate(events, hand_built_runs(), None, baseline)["line"].tolist() == [False, True, True]


def test_an_event_naming_what_the_scenario_lacks_is_located_in_the_events_file(tmp_path, baseline):
    path = events_file(tmp_path, event("x", "kind: takes\nactor: north_korea\naction: lethal_aid\n"),
                       event("y", "kind: red_line\nred_line: south_korea.precision\n"))
    events = load_events(path)
    with pytest.raises(ScenarioError) as err:
        evaluate(events, hand_built_runs(), None, baseline)
    assert err.value.problems == [
        Problem(str(path), 10, 5, "events.x.action",
                "north_korea may not take lethal_aid in this scenario (expected an action it is allowed, got "
                "'lethal_aid')"),
        Problem(str(path), 18, 5, "events.y.red_line",
                "unknown red line (expected one of: south_korea.precision_weapons, russia.lethal_aid, got "
                "'south_korea.precision') (did you mean 'south_korea.precision_weapons'?)"),
    ]


def test_a_malformed_events_file_gets_every_problem_with_its_location(tmp_path):
    path = events_file(tmp_path, event("x", "kind: taken\nactor: north_korea\naction: war\n"),
                       event("y", "kind: red_line\n", date="2024-05-01"))
    with pytest.raises(ScenarioError) as err:
        load_events(path)
    assert [str(p) for p in err.value.problems] == [
        f"{path}:8:5: events.x.kind: expected 'takes', 'in_force', 'red_line', 'commitment', 'agreement', "
        "'outcome' or 'rate', got 'taken' (did you mean 'takes'?)",
        f"{path}:15:3: events.y: a 'red_line' event needs red_line (expected a value for red_line, got none)",
    ]


def test_a_horizon_beyond_the_run_is_refused(tmp_path, baseline):
    path = events_file(tmp_path, event("late", "kind: red_line\nred_line: russia.lethal_aid\nby: 30\n"))
    with pytest.raises(ScenarioError, match=r"events\.late\.by: horizon beyond the run \(expected at most round 24"):
        evaluate(load_events(path), hand_built_runs(), None, baseline)


def test_the_record_probabilities_follow_how_sure_it_is():
    assert SURE == {"high": 0.93, "moderate": 0.75, "low": 0.6}


# --- scoring rules: worked examples -------------------------------------------------------


def test_brier_score_worked_example():
    assert brier(np.array([0.8, 0.3, 0.5, 1.0]), np.array([True, False, True, False])) == pytest.approx(
        [0.04, 0.09, 0.25, 1.0])


def test_log_score_worked_example_with_clipping():
    scores = log_score(np.array([0.8, 0.3, 0.0, 1.0, 1.0]), np.array([True, False, True, False, True]))
    assert scores == pytest.approx([-math.log(0.8), -math.log(0.7), -math.log(CLIP), -math.log(CLIP),
                                    -math.log(1 - CLIP)])
    assert CLIP == 1e-3 and scores[2] == pytest.approx(6.907755, abs=1e-6)


def test_bootstrap_interval_over_events():
    mean, low, high = bootstrap_mean(np.array([0.25, 0.25, 0.25]))
    assert (mean, low, high) == (0.25, 0.25, 0.25)
    mean, low, high = bootstrap_mean(np.array([0.0, 1.0]), seed=3, draws=4000)
    # each resampled mean is 0, 0.5 or 1 with chances 1/4, 1/2, 1/4: the 95% interval spans all three
    assert (mean, low, high) == (0.5, 0.0, 1.0)
    assert bootstrap_mean(np.array([0.1, 0.4, 0.2]), seed=1) == bootstrap_mean(np.array([0.1, 0.4, 0.2]), seed=1)


def test_sources_and_dates_are_checked_against_the_file(tmp_path):
    body = event("x", "kind: red_line\nred_line: russia.lethal_aid\n", date="2024-05-01").replace(
        "[wide-press]", "[wide-pres]")
    path = events_file(tmp_path, body)
    with pytest.raises(ScenarioError) as err:
        load_events(path)
    assert [str(p) for p in err.value.problems] == [
        f"{path}:11:5: events.x.date: date before the record's start (expected 2024-06-23 or later, got 2024-05-01)",
        f"{path}:13:15: events.x.sources[0]: unknown source (expected a reference id of this file or the seeds, "
        "got 'wide-pres')",
    ]


# --- reference forecasters ----------------------------------------------------------------


def test_base_rate_is_leave_one_out_per_kind_with_half_an_event_each_side(tmp_path):
    from sim.backtest.forecasters import base_rate

    path = events_file(
        tmp_path,
        event("a", "kind: red_line\nred_line: russia.lethal_aid\n", happened=True),
        event("b", "kind: red_line\nred_line: russia.lethal_aid\n", happened=True),
        event("c", "kind: red_line\nred_line: russia.lethal_aid\n", happened=False),
        event("d", "kind: agreement\nagreement: us_dprk_talks\n", happened=False),
    )
    # a: others of its kind b (yes), c (no) -> (1 + 0.5) / (2 + 1); c: a, b -> 2.5 / 3;
    # d is its kind's only event: all others, a, b, c -> (2 + 0.5) / (3 + 1)
    assert base_rate(load_events(path)) == pytest.approx({"a": 0.5, "b": 0.5, "c": 2.5 / 3, "d": 2.5 / 4})


def test_persistence_keeps_what_was_in_force_and_starts_nothing(tmp_path, baseline):
    from sim.backtest.forecasters import persistence

    path = events_file(
        tmp_path,
        event("aid", "kind: in_force\nactor: united_states\naction: lethal_aid\nrounds: 7\n"),
        event("rok-aid", "kind: in_force\nactor: south_korea\naction: lethal_aid\nrounds: 1\n"),
        event("test", "kind: takes\nactor: north_korea\naction: missile_test\n"),
        event("line", "kind: red_line\nred_line: russia.lethal_aid\n"),
        event("talks", "kind: agreement\nagreement: us_dprk_talks\n"),
        event("contained", "kind: outcome\nat_least: contained\nby: 24\n"),
        event("proxy", "kind: outcome\nat_least: proxy_escalation\n"),
    )
    assert persistence(load_events(path), baseline) == {"aid": 1.0, "rok-aid": 0.0, "test": 0.0, "line": 0.0,
                                                        "talks": 0.0, "contained": 1.0, "proxy": 0.0}


def test_forecasters_stated_in_the_file_are_scored_beside_the_others(tmp_path, baseline):
    from sim.backtest.run import mean_scores, score_table

    text = HEAD.replace("events:\n", "forecasters:\n  analyst:\n    description: a stated forecast\n"
                                     "    probabilities: {x: 0.8}\n    default: 0.1\n    sources: [wide-press]\n"
                                     "events:\n")
    path = tmp_path / "events.yaml"
    path.write_text(text + event("x", "kind: red_line\nred_line: russia.lethal_aid\n", happened=True)
                    + event("y", "kind: agreement\nagreement: us_dprk_talks\n", happened=False), encoding="utf-8")
    table = score_table(load_events(path), baseline, {"x": 0.25, "y": 0.5})
    assert table["p.analyst"].tolist() == [0.8, 0.1]
    assert table["brier.model"].tolist() == pytest.approx([0.5625, 0.25])
    assert table["log.analyst"].tolist() == pytest.approx([-math.log(0.8), -math.log(0.9)])
    scores = mean_scores(table).set_index("forecaster")
    assert list(scores.index) == ["model", "base_rate", "persistence", "always_0.5", "analyst"]
    assert scores.loc["model", "brier"] == pytest.approx(0.40625)
    assert scores.loc["always_0.5", ["brier", "brier_low", "brier_high"]].tolist() == [0.25, 0.25, 0.25]
    # paired: 0.5 beats the model's 0.25 on x by 0.3125 and ties on y
    assert scores.loc["always_0.5", "brier_minus_model"] == pytest.approx(-0.15625)


# --- the command --------------------------------------------------------------------------


def test_sim_backtest_writes_a_results_directory_whose_probabilities_are_its_runs(tmp_path, capsys):
    from sim.cli import main
    from sim.report.figure_data import read_manifest

    path = events_file(
        tmp_path,
        event("test", "kind: takes\nactor: north_korea\naction: missile_test\ntarget: united_states\n"),
        event("aid", "kind: in_force\nactor: united_states\naction: lethal_aid\nrounds: 7\n"),
        event("talks", "kind: agreement\nagreement: us_dprk_talks\n", happened=False),
    )
    out = tmp_path / "bt"
    assert main(["backtest", "baseline", "--events", str(path), "--runs", "300", "--seed", "4", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "baseline against" in printed and "always_0.5" in printed and "base_rate" in printed
    manifest = read_manifest(out)
    assert (manifest["kind"], manifest["runs"], manifest["seed"]) == ("backtest", 300, 4)
    assert (out / "events.yaml").read_text() == path.read_text()
    table = pd.read_parquet(out / "backtest.parquet").set_index("event")
    scenario = load_scenario(out / "scenario.yaml")
    events = load_events(path)
    runs = pd.read_parquet(out / "runs.parquet")
    trajectories = pd.read_parquet(out / "trajectories.parquet", columns=trajectory_columns(events, scenario))
    assert table["p.model"].to_dict() == evaluate(events, runs, trajectories, scenario).mean().to_dict()
    assert table["observed"].tolist() == [True, True, False]
    assert manifest["scores"]["model"]["brier"] == pytest.approx(table["brier.model"].mean(), abs=1e-6)


def test_sim_backtest_refuses_an_event_the_scenario_cannot_answer_and_writes_nothing(tmp_path, capsys):
    from sim.cli import main

    path = events_file(tmp_path, event("x", "kind: takes\nactor: north_korea\naction: lethal_aid\n"))
    out = tmp_path / "bt"
    assert main(["backtest", "baseline", "--events", str(path), "--runs", "10", "--out", str(out)]) == 2
    assert capsys.readouterr().err == (f"error: {path}:10:5: events.x.action: north_korea may not take lethal_aid in "
                                       "this scenario (expected an action it is allowed, got 'lethal_aid')\n")
    assert not out.exists()


def test_the_korean_record_loads_and_every_event_is_one_the_baseline_can_answer(baseline):
    from sim.backtest import check_events

    events = load_events(Path(__file__).resolve().parents[1] / "events" / "korea-2024.yaml")
    check_events(events, baseline)
    assert max(e.horizon for e in events.events.values()) <= dt.date(2024, 12, 31)
    assert {e.kind for e in events.events.values()} >= {"takes", "in_force", "red_line", "agreement", "outcome"}


def test_reliability_bins_events_by_forecast_and_counts_what_happened():
    from sim.report.backtest_plots import reliability_data, reliability_diagram

    table = pd.DataFrame({"event": list("abcde"), "observed": [True, False, True, True, False],
                          "p.model": [0.05, 0.15, 0.9, 1.0, 0.5]})
    data = reliability_data(table, "model")
    assert data[["bin", "events"]].values.tolist() == [[0, 2], [2, 1], [4, 2]]
    assert data["forecast"].tolist() == pytest.approx([0.1, 0.5, 0.95])
    assert data["observed"].tolist() == [0.5, 0.0, 1.0]
    figure = reliability_diagram(table, forecasters=("model",))
    assert figure.axes[0].get_title(loc="left") == "Reliability: forecasts of 5 events against the record"


def test_a_stated_forecaster_may_not_take_a_built_in_name(tmp_path):
    text = HEAD.replace("events:\n", "forecasters:\n  persistence:\n    description: d\n    default: 0.2\n"
                                     "    sources: [wide-press]\nevents:\n")
    path = tmp_path / "events.yaml"
    path.write_text(text + event("x", "kind: red_line\nred_line: russia.lethal_aid\n"), encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_events(path)
    assert [str(p) for p in err.value.problems] == [
        f"{path}:6:3: forecasters.persistence: a built-in forecaster's name (expected another name than model, "
        "base_rate, persistence, always_0.5, got 'persistence')"]
