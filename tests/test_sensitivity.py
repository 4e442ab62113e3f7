"""`sim sensitivity` and `sim discover`: indices and boxes against models whose answers are known.

The analytic models go through the code the command uses: the design's points come from
design_points (the sweep's designs), their "probabilities" are written as a sweep's summary
table, and `analyse` reads them as it reads a finished sweep.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.experiments.designs import design_points, parse_vary
from sim.experiments.salib_designs import base_samples
from sim.experiments.sensitivity import analyse, default_ranges, noise_share, ranked
from sim.scenario import load_scenario

RESOLVE = "actors.south_korea.resolve"


def as_sweep(factors, values, outputs: dict[str, np.ndarray], runs: int = 1000) -> tuple[pd.DataFrame, pd.DataFrame]:
    """points.parquet and summary.parquet as a sweep writes them, for analytic outputs."""
    points = pd.DataFrame(np.array(values), columns=[f.path for f in factors])
    points.insert(0, "point", np.arange(len(points)))
    rows = [(p, metric, float(y[p]), math.nan, math.nan, runs, True)
            for metric, y in outputs.items() for p in range(len(points))]
    summary = pd.DataFrame(rows, columns=["point", "metric", "p", "low", "high", "n", "crn"])
    return points, summary


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_indices_of_the_ishigami_function_match_the_analytic_values():
    # Analytic indices (Ishigami & Homma 1990; Sobol' & Levitan 1999) for a=7, b=0.1 on [-pi, pi]^3.
    s1, st = {"x1": 0.3139, "x2": 0.4424, "x3": 0.0}, {"x1": 0.5576, "x2": 0.4424, "x3": 0.2437}
    factors = parse_vary([f"{name}={-math.pi}:{math.pi}" for name in s1])
    values = design_points(factors, "saltelli", 1024, seed=4)
    assert len(values) == 1024 * (3 + 2)
    points, summary = as_sweep(factors, values, {"outcome.y": ishigami(np.array(values))})
    indices, _, constant = analyse(points, summary, list(s1), "sobol", seed=4)
    table = indices.set_index(["parameter", "index"])["value"]
    tolerance = 0.05  # Saltelli/Jansen estimators with N=1024: errors of about 0.01-0.03
    for name in s1:
        assert abs(table[(name, "S1")] - s1[name]) < tolerance, name
        assert abs(table[(name, "ST")] - st[name]) < tolerance, name
    assert constant == []
    intervals = indices.set_index(["parameter", "index"])
    assert (intervals["low"] <= intervals["value"]).all() and (intervals["value"] <= intervals["high"]).all()


def test_sobol_ranks_and_a_constant_metric_is_set_aside():
    factors = parse_vary(["a=0:1", "b=0:1", "c=5"])  # c fixed: not a factor of the analysis
    values = np.array(design_points(factors, "saltelli", 256, seed=1))
    y = 0.6 * values[:, 0] + 0.3 * values[:, 1]  # additive: S1 = ST = 0.8 (a), 0.2 (b)
    points, summary = as_sweep(factors, values, {"outcome.y": y, "crossed.z": np.zeros(len(values))})
    indices, noise, constant = analyse(points, summary, ["a", "b", "c"], "sobol", seed=1)
    assert constant == ["crossed.z"] and set(indices["parameter"]) == {"a", "b"}
    table = ranked(indices, "sobol")
    assert list(table["parameter"]) == ["a", "b"]
    assert table["S1"].tolist() == pytest.approx([0.8, 0.2], abs=0.05)
    assert table["ST"].tolist() == pytest.approx([0.8, 0.2], abs=0.05)


def test_morris_ranks_the_influential_parameter_first():
    factors = parse_vary(["weak=0:1", "strong=0:1", "none=0:1"])
    values = np.array(design_points(factors, "morris", 20, seed=2))
    assert len(values) == 20 * (3 + 1)
    # the manifest's N: an integer, written as one (a float division would read "20.0"); Saltelli's lays out d + 2
    assert json.dumps([base_samples("morris", 3, len(values)), base_samples("saltelli", 3, 50)]) == "[20, 10]"
    y = 0.05 * values[:, 0] + 0.8 * values[:, 1] ** 2
    points, summary = as_sweep(factors, values, {"outcome.y": y})
    indices, _, _ = analyse(points, summary, ["weak", "strong", "none"], "morris", seed=2)
    table = ranked(indices, "morris")
    assert list(table["parameter"]) == ["strong", "weak", "none"]
    assert table["mu_star"].iloc[2] == pytest.approx(0.0, abs=1e-12)


def test_noise_share_is_binomial_variance_over_the_spread_across_points():
    p = np.array([0.2, 0.4])
    # mean p(1-p) = (0.16 + 0.24) / 2 = 0.2; over R = 100 runs 0.002; variance across points 0.02
    assert noise_share(p, 100) == pytest.approx(0.1)
    assert math.isnan(noise_share(np.array([0.3, 0.3]), 100))


def test_default_ranges_say_how_each_distribution_became_a_range():
    ranges = {r.path: r for r in default_ranges(load_scenario("baseline"))}
    resolve = ranges[RESOLVE]  # beta(5, 3): its central 95%
    assert (resolve.how, round(resolve.low, 4), round(resolve.high, 4)) == ("central 95%", 0.2904, 0.901)
    lag = ranges["red_lines.russia.lethal_aid.response.lag"]  # uniform(0, 2): its support
    assert (lag.how, lag.low, lag.high, lag.vary) == ("support", 0.0, 2.0, "red_lines.russia.lethal_aid.response.lag=0:2")


def test_cli_sensitivity_writes_indices_a_manifest_kind_and_a_figure(tmp_path, capsys):
    out = tmp_path / "s"
    code = main(["sensitivity", "baseline", "--vary", f"{RESOLVE}=0.2:0.9", "--vary",
                 "actors.russia.risk_tolerance=0.2:0.9", "--points", "2", "--runs", "30", "--workers", "1",
                 "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert f"baseline: sobol sensitivity, 8 points (N=2) x 30 runs, seed 0, common random numbers  ->  {out}" in printed
    assert "S1 [95% CI]" in printed and "noise share" in printed
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["kind"], manifest["method"], manifest["design"], manifest["crn"]) == ("sensitivity", "sobol",
                                                                                            "saltelli", True)
    indices = pd.read_parquet(out / "sensitivity.parquet")
    assert set(indices["index"]) == {"S1", "ST"} and set(indices["parameter"]) == {RESOLVE, "actors.russia.risk_tolerance"}
    assert main(["plot", str(out)]) == 0
    assert (out / "figures" / "sensitivity.png").is_file()
    assert main(["sensitivity", "--resume", str(out)]) == 0  # already complete: says so, changes nothing
    assert "already complete" in capsys.readouterr().err
    # Cut short between the sweep and its analysis: a complete sweep, which --resume analyses.
    (out / "sensitivity.parquet").unlink()
    (out / "manifest.json").write_text(json.dumps({**manifest, "kind": "sweep"}))
    assert main(["sensitivity", "--resume", str(out)]) == 0
    assert "this sweep is already complete" in capsys.readouterr().err
    assert json.loads((out / "manifest.json").read_text())["kind"] == "sensitivity"
    pd.testing.assert_frame_equal(pd.read_parquet(out / "sensitivity.parquet"), indices)


@pytest.mark.parametrize(
    "args, message",
    [
        (["baseline", "--vary", f"{RESOLVE}=0.2:1.5"], "error: --vary:1:"),
        (["baseline", "--vary", "actors.south_korea.resolv=0.2:0.9"], "(did you mean 'resolve'?)"),
        (["baseline", "--vary", f"{RESOLVE}=0.2:x"], "'x' is not a number"),
        (["baseline", "--vary", f"{RESOLVE}=0.5"], "needs at least one range to vary"),
        (["baseline", "--method", "fast"], "invalid choice: 'fast'"),
        ([], "error: expected a scenario NAME|FILE (or --resume DIR)"),
    ],
)
def test_cli_sensitivity_refuses_bad_input_with_exit_2_and_writes_nothing(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(["sensitivity", *args, "--runs", "10", "--points", "2"])
    except SystemExit as stop:  # argparse's own complaints
        code = stop.code
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(
    "setup, args, message",
    [
        ("sweep", ["--outcome", "armageddon"], "--outcome armageddon: not an outcome class of"),
        ("nothing", ["--outcome", "contained"], "not a results directory"),
        ("manifest", ["--outcome", "contained"], "unreadable runs.parquet (expected the runs of a sweep or run"),
        ("no parameters", ["--outcome", "contained"], "no parameter varies across its runs"),
        ("sweep", ["--outcome", "contained", "--threshold", "1.5"], "expected a number in (0, 1], got 1.5"),
    ],
)
def test_cli_discover_refuses_bad_input_with_exit_2(tmp_path, capsys, setup, args, message):
    folder = tmp_path / "d"
    folder.mkdir()
    if setup in ("manifest", "no parameters"):
        (folder / "manifest.json").write_text(json.dumps({"kind": "run"}))
    if setup == "no parameters":
        pd.DataFrame({"run": [0, 1], "outcome": pd.Categorical(["contained", "war"])}).to_parquet(folder / "runs.parquet")
    if setup == "sweep":
        pd.DataFrame({"point": [0, 1], "outcome": pd.Categorical(["contained", "war"])}).to_parquet(folder / "runs.parquet")
        pd.DataFrame({"point": [0, 1], "x": [0.1, 0.9]}).to_parquet(folder / "points.parquet")
        (folder / "manifest.json").write_text(json.dumps({"kind": "sweep", "paths": ["x"]}))
    try:
        code = main(["discover", str(folder), *args])
    except SystemExit as stop:
        code = stop.code
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


# -- PRIM (EMA Workbench takes 2-3 CPU seconds to import: slow) ----------------------------------


@pytest.mark.slow
def test_prim_finds_a_planted_box():
    from sim.experiments.discovery import Cases, discover

    rng = np.random.default_rng(7)
    x = pd.DataFrame(rng.random((6000, 3)), columns=["a", "b", "c"])
    inside = ((x["a"] > 0.6) & (x["b"] < 0.3)).to_numpy()
    # 90% of the runs in the box end in the class, 5% of the others: the box holds 0.12 of the runs,
    # so its density is 0.9 and its coverage 0.108 / (0.108 + 0.044) = 0.71.
    y = rng.random(len(x)) < np.where(inside, 0.9, 0.05)
    (box,) = discover(Cases(x, y, "war", "run"), threshold=0.8)
    assert set(box.limits) == {"a", "b"}
    tolerance = 0.05  # a peel removes 5% of the runs: limits land within about one peel of the truth
    assert box.limits["a"][0] == pytest.approx(0.6, abs=tolerance)
    assert box.limits["b"][1] == pytest.approx(0.3, abs=tolerance)
    assert box.density >= 0.8 and box.reached
    assert box.coverage == pytest.approx(0.71, abs=0.06)
    assert box.limits["a"][1] > 0.99 and box.limits["b"][0] < 0.01  # the other sides stay at the data's edge
    (whole,) = discover(Cases(x, y, "war", "run"), threshold=0.8, step=0)  # step 0: the box of all the data
    assert (whole.limits, whole.coverage, whole.reached) == ({}, 1.0, False)
    assert whole.density == pytest.approx(y.mean())
    assert box.vary() == [f"a={box.limits['a'][0]:.4g}:{box.limits['a'][1]:.4g}",
                          f"b={box.limits['b'][0]:.4g}:{box.limits['b'][1]:.4g}"]


@pytest.mark.slow
def test_cli_discover_on_a_sweep_prints_boxes_and_draws_the_peeling(tmp_path, capsys):
    out = tmp_path / "s"
    assert main(["sweep", "baseline", "--vary", f"{RESOLVE}=0.05:0.95", "--design", "lhs", "--points", "12",
                 "--runs", "200", "--workers", "1", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["discover", str(out), "--outcome", "proxy_escalation", "--threshold", "0.5"]) == 0
    printed = capsys.readouterr().out
    assert "box 1: coverage" in printed and f"{out} (sweep): 2,400 runs" in printed
    assert (out / "figures" / "discover-proxy_escalation.png").is_file()


def test_discover_keeps_at_most_a_random_subset_of_the_runs_and_says_how_many_there_were():
    from sim.experiments.discovery import Cases

    x = pd.DataFrame({"a": np.arange(10.0)})
    cases = Cases(x, x["a"].to_numpy() >= 5, "war", "run").subset(4, seed=3)
    assert (len(cases.x), len(cases.y), cases.total) == (4, 4, 10)
    assert list(cases.y) == list(cases.x["a"] >= 5)  # rows and outcomes stay paired
    assert list(cases.x["a"]) == sorted(cases.x["a"])  # in run order
    assert Cases(x, np.ones(10, bool), "war", "run").subset(10, seed=3).total == 0


def test_long_paths_break_at_their_dots_in_figures():
    from sim.report.analysis_plots import path_lines

    assert path_lines("red_lines.south_korea.precision_weapons.credibility") == \
        "red_lines.south_korea\n.precision_weapons.credibility"
    assert path_lines("rounds") == "rounds"


@pytest.mark.slow
def test_on_the_korean_world_the_incident_rate_drives_militarized_crises(tmp_path):
    # In model v3 most militarized crises are exchanges of fire nobody chose (incidents, at their
    # cited rate); Seoul's resolve decides enforcement, not whether fire is exchanged. Measured at
    # N=16 x 500 runs, seed 5: ST 0.77 for the rate (bootstrap interval 0.14 to 1.40), 0 for
    # resolve, sampling noise 0.01 of the metric's variance; a margin of 0.4 and noise under 0.2
    # hold with room to spare.
    import sim

    result = sim.sensitivity("baseline", [f"{RESOLVE}=0.2:0.9", "incidents.inter_korean_fire.rate=0:0.05"],
                             points=16, runs=500, seed=5, workers=1, out=tmp_path / "s")
    table = ranked(result.indices, "sobol")
    crises = table[table["metric"] == "outcome.militarized_crisis"].set_index("parameter")
    assert crises.index[0] == "incidents.inter_korean_fire.rate"
    assert crises.loc["incidents.inter_korean_fire.rate", "ST"] - crises.loc[RESOLVE, "ST"] > 0.4
    assert result.noise["outcome.militarized_crisis"] < 0.2


def test_cases_of_a_manifest_without_a_seed_are_drawn_with_seed_0(tmp_path, monkeypatch):
    from sim.experiments import discovery

    monkeypatch.setattr(discovery, "MAX_CASES", 4)
    a = np.arange(10.0)
    runs = pd.DataFrame({"run": range(10), "outcome": pd.Categorical(np.where(a >= 5, "war", "calm")),
                         "param.actors.x.resolve": a})
    kept = {}
    for name, manifest in (("none", {"kind": "run"}), ("0", {"kind": "run", "seed": 0}), ("1", {"kind": "run", "seed": 1})):
        (tmp_path / name).mkdir()
        (tmp_path / name / "manifest.json").write_text(json.dumps(manifest))
        runs.to_parquet(tmp_path / name / "runs.parquet")
        cases = discovery.read_cases(tmp_path / name, "war")
        assert (cases.source, cases.outcome, cases.total, len(cases.y)) == ("run", "war", 10, 4)
        assert list(cases.y) == list(cases.x["actors.x.resolve"] >= 5), "rows and outcomes stay paired"
        kept[name] = list(cases.x["actors.x.resolve"])
    assert kept["none"] == kept["0"] != kept["1"]
