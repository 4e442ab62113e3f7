"""Robust options (issue 10, item 5), stated as behaviour.

Regret is exact arithmetic on a hand-built table; a lever the model never reads gives the same
runs for every option under common random numbers, to the bit; bad levers are refused at load
and on the command line with their location, exit 2, and nothing written. Studies here are
tiny (a few hundred runs of 4 rounds).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.experiments.robust import plan_study, rank_options, robust, with_regret
from sim.scenario import ScenarioError, load_scenario

SHORT = ["--set", "rounds=4"]


def _table(values: dict[tuple[int, int], float], metric: str = "m") -> pd.DataFrame:
    rows = [(o, s, metric, v) for (o, s), v in values.items()]
    return pd.DataFrame(rows, columns=["option", "state", "metric", "value"])


def test_regret_is_the_distance_to_the_best_option_at_each_state() -> None:
    # Option 0 is best at state 0, option 1 at state 1, option 2 never.
    table = with_regret(_table({(0, 0): 0.1, (1, 0): 0.3, (2, 0): 0.4,
                                (0, 1): 0.5, (1, 1): 0.2, (2, 1): 0.6}))
    regret = table.set_index(["option", "state"])["regret"]
    assert regret[(0, 0)] == 0.0 and regret[(1, 1)] == 0.0  # exactly zero for the best option
    assert regret[(1, 0)] == 0.3 - 0.1 and regret[(2, 0)] == 0.4 - 0.1
    assert regret[(0, 1)] == 0.5 - 0.2 and regret[(2, 1)] == 0.6 - 0.2
    ranked = rank_options(table).set_index("option")
    assert list(ranked["expected"]) == [0.3, 0.25, 0.5]
    assert list(ranked["max_regret"]) == [0.5 - 0.2, 0.3 - 0.1, 0.6 - 0.2]
    assert list(ranked["rank_expected"]) == [2, 1, 3]
    assert list(ranked["rank_regret"]) == [2, 1, 3]


def test_options_that_tie_share_a_rank_and_have_no_regret() -> None:
    table = with_regret(_table({(0, 0): 1.0, (1, 0): 1.0, (0, 1): 2.0, (1, 1): 2.0}))
    assert (table["regret"] == 0.0).all()
    assert list(rank_options(table)["rank_regret"]) == [1, 1]


def test_each_metric_has_its_own_best_option() -> None:
    table = with_regret(pd.concat([_table({(0, 0): 0.1, (1, 0): 0.2}, "a"), _table({(0, 0): 5.0, (1, 0): 3.0}, "b")]))
    regret = table.set_index(["metric", "option"])["regret"]
    assert regret[("a", 0)] == 0.0 and regret[("a", 1)] == 0.2 - 0.1
    assert regret[("b", 1)] == 0.0 and regret[("b", 0)] == 2.0


@pytest.fixture(scope="module")
def idle_lever(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A study whose lever is a preference for an action the actor may not take: it changes nothing."""
    out = tmp_path_factory.mktemp("robust") / "study"
    scenario = tmp_path_factory.mktemp("scenario") / "idle.yaml"
    scenario.write_text("extends: precision-weapons\nname: idle-lever\nrounds: 4\n"
                        "actors: {south_korea: {preferences: {nuclear_use: 0.0}}}\n")
    robust(scenario, ["actors.south_korea.preferences.nuclear_use=-5,0,5"], points=2, runs=100, seed=3, out=out)
    return out


def test_a_lever_that_does_nothing_gives_identical_runs_under_crn(idle_lever: Path) -> None:
    runs = pd.read_parquet(idle_lever / "runs.parquet").drop(columns=["point"])
    per_option = [runs.iloc[i * 200:(i + 1) * 200].reset_index(drop=True) for i in range(3)]
    assert len(runs) == 3 * 2 * 100
    pd.testing.assert_frame_equal(per_option[0], per_option[1])
    pd.testing.assert_frame_equal(per_option[0], per_option[2])
    table = pd.read_parquet(idle_lever / "robust.parquet")
    assert (table["regret"] == 0.0).all()
    options = pd.read_parquet(idle_lever / "options.parquet")
    assert (options["rank_regret"] == 1).all() and (options["rank_expected"] == 1).all()


def test_a_study_directory_holds_what_it_says(idle_lever: Path) -> None:
    manifest = json.loads((idle_lever / "manifest.json").read_text())
    assert manifest["kind"] == "robust" and manifest["crn"] is True
    assert (manifest["options"], manifest["states"], manifest["runs"]) == (3, 2, 100)
    assert manifest["levers"] == [{"path": "actors.south_korea.preferences.nuclear_use", "values": [-5.0, 0.0, 5.0],
                                   "actor": None}]
    table = pd.read_parquet(idle_lever / "robust.parquet")
    best = table.groupby(["state", "metric"])["regret"].min()
    assert (best == 0.0).all()
    assert set(table["label"]) == {"nuclear_use=-5", "nuclear_use=0", "nuclear_use=5"}
    # every uncertainty point fixes each sampled distribution at one value, within its support
    resolve = table["uncertain.actors.south_korea.resolve"]
    assert resolve.nunique() == 2 and resolve.between(0, 1).all()
    assert sorted(p.name for p in idle_lever.iterdir()) == [
        "manifest.json", "options.parquet", "points.parquet", "robust.parquet", "runs.parquet", "scenario.yaml",
        "summary.parquet"]


def test_uncertainty_points_are_a_latin_hypercube_over_vary_ranges() -> None:
    study = plan_study("baseline", ["actors.south_korea.resolve=0.2,0.8"], ["actors.russia.resolve=0.2:0.6"],
                       points=4, runs=10)
    values = sorted(s[0] for s in study.states)
    assert len(study.options) == 2 and len(values) == 4
    # one value in each quarter of [0.2, 0.6]
    assert [int((v - 0.2) / 0.1) for v in values] == [0, 1, 2, 3]


def test_bad_lever_paths_on_the_command_line_exit_2_located(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "never"
    code = main(["robust", "precision-weapons", "--lever", "actors.south_korea.resolve=0.2,0.8",
                 "--lever", "actors.south_korea.preferenes.lethal_aid=1,2", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: --lever:2:1: actors.south_korea.preferenes.lethal_aid: unknown key 'preferenes'")
    assert "did you mean 'preferences'?" in err and "Traceback" not in err
    assert main(["robust", "precision-weapons", "--lever", "red_lines.south_korea.precision_weapons.specificity=0.5,2",
                 "--out", str(out)]) == 2
    assert "error: --lever:1:1: red_lines.south_korea.precision_weapons.specificity: expected a number in [0, 1], got 2" \
        in capsys.readouterr().err
    assert main(["robust", "precision-weapons", "--lever", "actors.south_korea=1,2", "--out", str(out)]) == 2
    assert "expected a path to a number, got a section" in capsys.readouterr().err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_bad_levers_in_a_scenario_file_are_located(tmp_path: Path) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text("extends: precision-weapons\nlevers:\n"
                    "  - {path: actors.south_korea.resolv, actor: seoul, meaning: x, sources: [judgement]}\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(file)
    shown = [str(p) for p in caught.value.problems]
    assert shown[0].startswith(f"{file}:3:6: levers[0].path: unknown key 'resolv'")
    assert shown[1] == f"{file}:3:39: levers[0].actor: unknown actor (expected one of the scenario's actors, got 'seoul')"


def test_declared_levers_are_the_default_options() -> None:
    study = plan_study("precision-weapons", points=2, runs=10)
    declared = load_scenario("precision-weapons").levers
    assert [f.path for f in study.levers] == [lever.path for lever in declared]
    assert len(study.options) == len(declared[0].values) * len(declared[1].values)


def test_sim_plot_draws_regret_and_outcomes_of_a_study(idle_lever: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plot", str(idle_lever), "--out", str(tmp_path / "figures")]) == 0
    written = capsys.readouterr().out.split()
    assert [Path(w).name for w in written] == ["regret.png", "options-outcomes.png"]
    assert all(Path(w).read_bytes().startswith(b"\x89PNG") for w in written)


def test_ranked_options_whose_intervals_overlap_the_first_are_marked_not_significant() -> None:
    from sim.cli.robust import format_robust

    rows = [("a", 1.0, 0.9, 1.1), ("b", 1.05, 0.95, 1.15), ("c", 2.0, 1.9, 2.1)]
    options = pd.DataFrame([{"option": i, "label": label, "metric": "escalation_score", "expected": e, "low": lo,
                             "high": hi, "mean_regret": e - 1, "max_regret": e - 1, "rank_expected": i + 1,
                             "rank_regret": i + 1} for i, (label, e, lo, hi) in enumerate(rows)])
    manifest = {"minimise": "escalation_score", "scenario": "s", "options": 3, "states": 2, "runs": 10, "seed": 0,
                "uncertainties": []}
    text = format_robust(manifest, options, "dir")
    lines = {line.split()[0]: line for line in text.splitlines() if line[:1] in "abc" and len(line) > 20}
    assert lines["b"].endswith("~") and not lines["c"].endswith("~") and not lines["a"].endswith("~")
    assert "not significant (1 of 2 other options)" in text


def test_metric_labels_name_the_class_or_the_whole_red_line() -> None:
    # Mutation survivors (docs/hardening.md): partition at the last dot, or no fallback to the
    # class id, passed the suite.
    from sim.report.robust_figures import metric_label

    classes = {"militarized_crisis": "Militarized crisis"}
    assert metric_label("at_least.militarized_crisis", classes) == "P(Militarized crisis or worse)"
    assert metric_label("at_least.war", classes) == "P(war or worse)"
    assert metric_label("outcome.war", classes) == "P(war)"
    assert metric_label("crossed.south_korea.precision_weapons", classes) == (
        "P(red line south_korea.precision_weapons crossed)")
    assert metric_label("escalation_score", classes) == "mean escalation score"


def test_a_study_without_out_is_numbered_under_results_and_the_scenario_name(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    duel = Path(__file__).resolve().parent / "data" / "duel.yaml"  # small: the study costs a fraction of a second
    study = robust(duel, ["actors.alpha.resolve=0.4,0.6"], points=1, runs=10, seed=1, workers=1)
    assert study.path.parent == Path("results", "duel") and study.path.name.startswith("robust-"), study.path
    assert (study.path / "robust.parquet").is_file() and study.manifest()["executor"] == "local"
