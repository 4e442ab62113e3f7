"""`sim paths`: sequences of first events among the runs that reach a class, on hand-built runs
tables of the duel world (posturing ends at rung 2: sanction 3, supply 4, arm 5, strike 6, war 7
are acts; threaten 2 is not)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.cli import main
from sim.report.paths import NO_EVENT, RunPick, first_event_paths, pick_report_runs, run_paths
from sim.scenario import load_scenario

DATA = Path(__file__).resolve().parent / "data"
DUEL = load_scenario(DATA / "duel.yaml")
N = None  # never

A = "gamma arm → red line alpha.no_arms crossed → alpha strike"
B = "alpha strike → pact invoked"
C = "gamma arm"
D = "truce agreed → gamma sanction → alpha strike"


def runs_table() -> pd.DataFrame:
    rows = [
        # run, outcome,   arm, strike, sanction, threaten, round.no_arms, invoked.pact, agreed.truce
        (0, "violent",    2,   3,      N,        N,        2,             4,            N),
        (1, "violent",    2,   3,      N,        1,        2,             4,            N),  # threaten is posturing
        (2, "violent",    N,   1,      N,        N,        N,             2,            N),
        (3, "tense",      2,   0,      N,        N,        N,             N,            N),  # 0: strike in force at the start
        (4, "calm",       N,   N,      N,        1,        N,             N,            N),
        (5, "violent",    N,   1,      1,        N,        N,             N,            1),  # a tie in round 1
        (6, "tense",      5,   N,      N,        N,        N,             N,            0),  # agreed at the start
    ]
    columns = ["run", "outcome", "first.gamma.arm", "first.alpha.strike", "first.gamma.sanction",
               "first.alpha.threaten", "round.alpha.no_arms", "invoked.pact", "agreed.truce"]
    frame = pd.DataFrame(rows, columns=columns)
    for column in columns[2:]:
        frame[column] = frame[column].astype("Int16")
    frame["crossed.alpha.no_arms"] = frame["round.alpha.no_arms"].notna()
    return frame


def test_each_run_path_orders_its_first_events_by_round_then_kind() -> None:
    paths = run_paths(runs_table(), DUEL, length=3)
    assert paths.to_dict() == {0: A, 1: A, 2: B, 3: C, 4: NO_EVENT, 5: D, 6: C}


def test_the_length_cuts_each_path() -> None:
    paths = run_paths(runs_table(), DUEL, length=4)
    assert paths[0] == A + " → pact invoked"
    assert run_paths(runs_table(), DUEL, length=1).to_dict() == {
        0: "gamma arm", 1: "gamma arm", 2: "alpha strike", 3: "gamma arm", 4: NO_EVENT, 5: "truce agreed", 6: "gamma arm"}


def test_paths_to_a_class_count_the_runs_that_reach_it_or_worse() -> None:
    table = first_event_paths(runs_table(), DUEL, "tense", top=10)
    assert table.attrs["n"] == 6 and table.attrs["of"] == 7
    assert table["sequence"].tolist() == [A, C, B, D]  # 2, 2 (first run 3), 1 (run 2), 1 (run 5)
    assert table["runs"].tolist() == [2, 2, 1, 1]
    assert table["example"].tolist() == [0, 3, 2, 5]
    assert table["share"].tolist() == pytest.approx([2 / 6, 2 / 6, 1 / 6, 1 / 6])
    # 95% Wilson intervals (Wilson 1927) of 2 in 6 and 1 in 6
    assert table[["low", "high"]].iloc[0].tolist() == pytest.approx([0.0968, 0.7000], abs=5e-5)
    assert table[["low", "high"]].iloc[2].tolist() == pytest.approx([0.0301, 0.5635], abs=5e-5)


def test_top_and_exactly() -> None:
    table = first_event_paths(runs_table(), DUEL, "violent", top=2, at_least=False)
    assert table.attrs["n"] == 4
    assert table["sequence"].tolist() == [A, B]
    assert table["share"].tolist() == [0.5, 0.25]
    calm = first_event_paths(runs_table(), DUEL, "calm", top=1, at_least=False)
    assert calm["sequence"].tolist() == [NO_EVENT] and calm["share"].tolist() == [1.0]


def test_a_class_no_run_reaches_gives_an_empty_table() -> None:
    table = first_event_paths(runs_table()[lambda r: r["outcome"] == "calm"], DUEL, "violent")
    assert len(table) == 0 and table.attrs["n"] == 0


def test_an_unknown_class_is_refused() -> None:
    with pytest.raises(ValueError, match=r"--to war: no such outcome class \(expected one of eased, calm, tense, violent\)"):
        first_event_paths(runs_table(), DUEL, "war")


def test_the_runs_a_report_traces() -> None:
    picks = pick_report_runs(runs_table(), DUEL)
    assert picks == [
        RunPick("typical", 0, f"the most common outcome (violent) on its most common path: {A}"),
        RunPick("worst", 0, f"the most frequent path to the worst class reached (violent): {A}"),
        RunPick("red line crossed", 0, f"the most common path among runs that crossed a red line: {A}"),
    ]
    calm = pick_report_runs(runs_table().iloc[[4, 6]].assign(**{"crossed.alpha.no_arms": False}), DUEL)
    assert [(p.label, p.run) for p in calm] == [("typical", 4), ("worst", 6)]


def test_paths_on_the_command_line(tmp_path: Path, capsys) -> None:
    made = sim.run(DATA / "other-crisis.yaml", runs=200, seed=4, out=tmp_path / "out", workers=1)
    assert main(["paths", str(made.path), "--to", "coercion", "--top", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    runs = made.runs()
    reached = int(runs["outcome"].astype(str).isin(["coercion", "clash"]).sum())
    assert out[0] == f"{reached:,} of 200 runs reach coercion or worse; their most common first events, in order:"
    assert out[1].split() == ["share", "95%", "interval", "runs", "e.g.", "run", "sequence"]
    assert len(out) == 2 + 2 + 2 and out[-1].startswith(f"the first run on the top sequence, as a story: sim trace ")


@pytest.fixture(scope="module")
def duel_run(tmp_path_factory):
    return sim.run(DATA / "duel.yaml", runs=5, seed=0, out=tmp_path_factory.mktemp("duel") / "out", workers=1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--to", "war"], "--to war: no such outcome class"),
        (["--to", "clash", "--top", "0"], "--top 0: expected at least 1 sequence"),
    ],
)
def test_bad_paths_input_exits_2(duel_run, capsys, args: list[str], message: str) -> None:
    assert main(["paths", str(duel_run.path), *args]) == 2
    assert message in capsys.readouterr().err


def test_paths_of_what_is_not_a_results_directory_exits_2(tmp_path: Path, capsys) -> None:
    assert main(["paths", str(tmp_path), "--to", "clash"]) == 2
    assert "not a results directory" in capsys.readouterr().err
