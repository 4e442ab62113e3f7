"""`sim trace`: a run replayed from its results directory tells what runs.parquet recorded, and
tracing changes no result."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import sim
from sim.cli import main
from sim.engine.model import EscalationModel, block_generator
from sim.engine.outcomes import runs_table, trajectory_table
from sim.engine.tables import compile_tables
from sim.engine.tracer import Tracer
from sim.engine.model import resolve_scenario
from sim.report.story import epilogue, tell
from sim.report.trace import Trace, format_trace, replay, trace_pick, trace_run
from sim.scenario import load_scenario

DATA = Path(__file__).resolve().parent / "data"
REEF = DATA / "other-crisis.yaml"  # utility and tit-for-tat policies, misperception, chance, a red line, an inject


@pytest.fixture(scope="module")
def reef_run(tmp_path_factory):
    return sim.run(REEF, runs=300, seed=11, out=tmp_path_factory.mktemp("reef") / "out", workers=1)


@pytest.fixture(scope="module")
def korea_run(tmp_path_factory):
    return sim.run("baseline", runs=200, seed=1, out=tmp_path_factory.mktemp("korea") / "out", workers=1)


def first_rounds_told(trace: Trace) -> dict[str, int]:
    """`first.<actor>.<action>` as the tracer saw it: 0 for what was in force at the start, else the
    first round the action was taken or in force."""
    t = compile_tables(trace.scenario)
    name = lambda o: f"first.{t.actors[t.actor[o]]}.{t.actions[t.action[o]]}"  # noqa: E731
    first = {name(o): 0 for o in trace.tracer.in_force_at_start}
    for number, state in enumerate(trace.tracer.states, start=1):
        for o in state.events + state.in_force:
            first.setdefault(name(o), number)
    return first


def crossings_told(trace: Trace) -> dict[str, int]:
    """`round.<line>` as the trace tells it: the first round the trigger happened (the fact,
    whether or not its owner saw it)."""
    t = compile_tables(trace.scenario)
    out: dict[str, int] = {}
    for lid, line in trace.scenario.red_lines.items():
        crossing = set(t.options_matching(t.index(line.trigger.actor), t.actions_of(line.trigger.actions, line.trigger.categories),
                                          t.index(line.trigger.target)).tolist())
        for number, state in enumerate(trace.tracer.states, start=1):
            if crossing & set(state.events):
                out[f"round.{lid}"] = number
                break
    return out


def assert_tells_the_record(trace: Trace) -> None:
    recorded = trace.recorded
    assert trace.mismatches == []
    assert trace.outcome == recorded["outcome"]
    firsts = {k: v for k, v in recorded.items() if k.startswith("first.") and v is not None}
    assert first_rounds_told(trace) == firsts
    crossings = {k: v for k, v in recorded.items() if k.startswith("round.") and v is not None}
    assert crossings_told(trace) == crossings
    assert len(trace.rounds) == trace.scenario.rounds


@pytest.mark.parametrize("run", [0, 137, 299])
def test_a_trace_tells_what_the_runs_table_recorded(reef_run, run: int) -> None:
    trace = trace_run(reef_run.path, run)
    assert (trace.run, trace.seed) == (run, 11)
    assert_tells_the_record(trace)


def test_a_korean_run_that_crossed_a_red_line_replays_exactly(korea_run) -> None:
    runs = korea_run.runs()
    crossed = runs.filter(like="crossed.").fillna(False).astype(bool).any(axis=1)
    run = int(runs.loc[crossed, "run"].iloc[0])  # the first such run, whichever it is
    trace = trace_run(korea_run.path, run)
    assert_tells_the_record(trace)
    assert crossings_told(trace)
    text = format_trace(trace)
    assert ("crossed last round as its owner saw it" in text and "P(enforce)" in text) or not crossings_told(trace)
    brief = format_trace(trace, brief=True)
    assert "red line" in brief and "perceived" in text
    assert all(" hold>" not in line for line in brief.splitlines() if "perceived" in line)
    assert set(brief.splitlines()) <= set(text.splitlines())
    rounds = [line for line in text.splitlines() if line.startswith("Round ")]
    assert len(rounds) == 24 and rounds[0] == "Round 1 · 2024-06-23" and rounds[-1].startswith("Round 24 · 2026-05-23")


def test_the_tracer_changes_no_result(tmp_path: Path) -> None:
    def block(traced: bool) -> bytes:
        model = EscalationModel(REEF, replicates=400, rng=block_generator(5, 0, 0))
        if traced:
            Tracer.attach(model, 123)
        while model.running:
            model.step()
        sink = io.BytesIO()
        pq.write_table(runs_table(model, 0), sink)
        assert traced == bool(model.tracer and model.tracer.states)
        return sink.getvalue() + trajectory_table(model, 0).to_pandas().to_csv().encode()

    assert block(traced=True) == block(traced=False)


def test_a_choice_names_its_largest_utility_terms(reef_run) -> None:
    # Coastland plays the utility policy: each of its choices carries its largest terms, largest first
    trace = trace_run(reef_run.path, 0)
    choices = [pick for f in trace.tracer.facts if f.kind == "decided" and f.data["actor"] == 0
               for pick in f.data["picks"]]
    assert len(choices) == trace.scenario.rounds  # one move a round
    for option, chance, terms in choices:
        assert 0 < chance <= 1
        assert [abs(v) for _, v in terms] == sorted((abs(v) for _, v in terms), reverse=True)
        assert {name for name, _ in terms} <= {"preference", "hostility", "escalation aversion", "reciprocity",
                                               "deterred by red line coastland.seizures", "state fishing_pressure",
                                               "agreements in force"}


def test_a_replay_that_differs_from_the_record_says_so_loudly(reef_run, tmp_path: Path, capsys) -> None:
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("manifest.json", "scenario.yaml"):
        (copy / name).write_bytes((reef_run.path / name).read_bytes())
    runs = pq.read_table(reef_run.path / "runs.parquet")
    score = runs.column("escalation_score").to_numpy().copy()
    score[5] += 1.0
    pq.write_table(runs.set_column(runs.schema.get_field_index("escalation_score"), "escalation_score",
                                   pa.array(score)), copy / "runs.parquet")
    assert main(["trace", str(copy), "--run", "5"]) == 1
    out, err = capsys.readouterr()
    assert "THE REPLAY DIFFERS FROM WHAT WAS RECORDED" in out
    assert err.startswith("error: the replay of run 5 differs from the record in 1 columns (first: escalation_score")


def test_a_different_commit_is_a_warning(reef_run, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("scenario.yaml", "runs.parquet"):
        (copy / name).write_bytes((reef_run.path / name).read_bytes())
    manifest = (reef_run.path / "manifest.json").read_text()
    (copy / "manifest.json").write_text(manifest.replace('"version": "', '"version": "0.0.0-old'))
    trace = trace_run(copy, 3)
    assert trace.mismatches == []
    assert any(w.startswith("the results were made by version 0.0.0-old") for w in trace.warnings)
    assert "\nwarning: the results were made by version 0.0.0-old" in format_trace(trace)


def test_pick_finds_the_first_run_of_a_class_and_names_it(tmp_path: Path) -> None:
    trace = trace_pick(REEF, seed=2, outcome="clash")
    assert trace.outcome == "clash" and trace.mismatches == []
    made = sim.run(REEF, runs=10_000, seed=2, out=tmp_path / "out", workers=1).runs()
    clashes = made.loc[made["outcome"] == "clash", "run"]
    assert trace.run == int(clashes.iloc[0])
    assert f"run {trace.run} of reef-standoff with seed 2" in trace.source


def test_pick_that_finds_no_run_of_the_class_exits_2(capsys) -> None:
    # in duel every actor idles: nothing new and nothing eased, so every run is calm, none eased
    assert main(["trace", str(DATA / "duel.yaml"), "--pick", "eased", "--max-runs", "1"]) == 2
    assert "none of the first 10,000 runs of duel with seed 0 ends in eased" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--run", "300"], "--run 300: no such run in {dir} (expected 0 to 299)"),
        ([], "sim trace {dir}: which run?"),
        (["--run", "1", "--pick", "clash"], "--run and --pick exclude each other"),
        (["--run", "1", "--seed", "3"], "replays the run as it was made"),
        (["--pick", "clash"], "--pick takes a scenario name or file"),
    ],
)
def test_bad_trace_input_exits_2(reef_run, capsys, args: list[str], message: str) -> None:
    assert main(["trace", str(reef_run.path), *args]) == 2
    assert message.format(dir=reef_run.path) in capsys.readouterr().err


def test_trace_of_what_is_not_a_results_directory_exits_2(tmp_path: Path, capsys) -> None:
    assert main(["trace", str(tmp_path), "--run", "0"]) == 2
    assert "not a results directory" in capsys.readouterr().err
    assert main(["trace", str(REEF), "--pick", "war"]) == 2
    assert "--pick war: no such outcome class (expected one of calm, standoff, coercion, clash)" in capsys.readouterr().err


def test_a_noise_free_duel_is_told_round_by_round() -> None:
    # Gamma arms Beta in round 1 and idles after; Alpha sees the line crossed in round 2 and
    # always enforces (P = 1.0 exactly in duel.yaml), striking Gamma that same round (lag 0).
    moves = [{"action": "arm", "target": "beta"}, {"action": "idle", "target": "alpha"}]
    scenario = resolve_scenario(DATA / "duel.yaml", {"actors.gamma.policy": {"name": "scripted", "moves": moves}})
    tracer, row = replay(scenario, seed=0, block=0, size=3, replicate=1)
    told = [(r.number, r.date, r.lines) for r in tell(scenario, tracer)]
    assert told == [
        (1, "2024-01-01", ["starts      gamma arm>beta  (its policy)"]),
        (2, "2024-02-01", ["red line    alpha.no_arms crossed last round as its owner saw it: enforces (P(enforce) 1.000)",
                           "moves       alpha strike>gamma  (the response to red line alpha.no_arms)"]),
        (3, "2024-03-01", []), (4, "2024-04-01", []), (5, "2024-05-01", []), (6, "2024-06-01", []),
    ]
    assert row["outcome"] == "violent"
    assert epilogue(scenario, tracer, row) == [
        "red line    alpha.no_arms first crossed in round 1, enforced",
        "commitment  pact active",
        "agreements  in force: none",
    ]


def test_a_sweep_directory_is_refused_by_trace_and_paths(reef_run, tmp_path: Path, capsys) -> None:
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    manifest = (reef_run.path / "manifest.json").read_text().replace('"kind": "run"', '"kind": "sweep"')
    (sweep / "manifest.json").write_text(manifest)
    for name in ("points.parquet", "summary.parquet", "runs.parquet"):
        (sweep / name).write_bytes((reef_run.path / "runs.parquet").read_bytes())
    assert main(["trace", str(sweep), "--run", "0"]) == 2
    assert "a sweep directory (expected a run directory from sim run" in capsys.readouterr().err
    assert main(["paths", str(sweep), "--to", "clash"]) == 2
    assert "a sweep directory (expected a run directory from sim run" in capsys.readouterr().err


@pytest.mark.slow  # 3 s here: a run of 60 and its replay
def test_a_run_of_a_scenario_with_measures_replays_with_its_measures(tmp_path: Path) -> None:
    """The replay tabulates its block as the run did, measures included (else every traced run of
    a scenario that declares measures would differ from its record)."""
    made = sim.run("precision-weapons", runs=60, seed=3, out=tmp_path / "out", workers=1)
    trace = trace_run(made.path, 17)
    assert "measure.seoul_lethal_aid" in trace.recorded
    assert trace.mismatches == []


def test_rare_facts_name_the_attacker_and_what_broke_an_agreement() -> None:
    # Facts no short default trace produces: a commitment triggered by actor 0 (a real attacker,
    # not the unknown one, -1), an agreement broken by two moves, and an agreement in force at the end.
    from sim.engine.tracer import Fact
    from sim.report.story import Namer, _fact_line

    scenario = load_scenario("baseline")
    name = Namer(scenario, compile_tables(scenario))
    assert name.t.actors[:3] == ("south_korea", "russia", "north_korea")
    triggered = {"commitment": 0, "protected": 2, "guarantor": 1, "honoured": True, "honour": 0.5}
    assert _fact_line(Fact(2, "triggered", {**triggered, "attacker": 0}), name) == (
        "commitment  treaty_article_4: south_korea attacked north_korea; russia honours it (P(honour) 0.500)")
    assert ": an unknown attacker attacked" in _fact_line(Fact(2, "triggered", {**triggered, "attacker": -1}), name)
    broken = _fact_line(Fact(3, "broken", {"agreement": 2, "by": [0, 5]}), name)
    assert broken == f"agreement   inter_korean_talks broken by {name.option(0)}; {name.option(5)}"
    ended = epilogue(scenario, Tracer(0), {"in_force.us_dprk_talks": True, "in_force.ukraine_ceasefire": False})
    assert ended[-1] == "agreements  in force: us_dprk_talks"
