"""`sim compare` and its statistics: Newcombe's interval for a difference of proportions, the
comparison table, and the command as a user runs it.

The interval is checked three ways: against the worked example in Newcombe (1998), against
an independent implementation written here from the paper's formulas (Wilson's interval
from its textbook form, not from sim.experiments.summary), and by properties that hold for any counts.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.api import run
from sim.cli import main
from sim.report.compare import compare, comparison_table, format_comparison, newcombe_difference, read_sides

Z = 1.959963984540054
PNG = b"\x89PNG\r\n\x1a\n"


def wilson_by_hand(x: int, n: int) -> tuple[float, float]:
    """Wilson (1927) score interval, written as Newcombe (1998) gives it (method 3)."""
    p, q = x / n, 1 - x / n
    root = math.sqrt(Z**2 + 4 * n * p * q)
    return (2 * n * p + Z**2 - Z * root) / (2 * (n + Z**2)), (2 * n * p + Z**2 + Z * root) / (2 * (n + Z**2))


def newcombe_by_hand(xa: int, na: int, xb: int, nb: int) -> tuple[float, float, float]:
    """Method 10 for pb − pa: delta = sqrt((pb − lb)² + (ua − pa)²), epsilon = sqrt((ub − pb)² + (pa − la)²)."""
    la, ua = wilson_by_hand(xa, na)
    lb, ub = wilson_by_hand(xb, nb)
    pa, pb = xa / na, xb / nb
    d = pb - pa
    return d, d - math.sqrt((pb - lb) ** 2 + (ua - pa) ** 2), d + math.sqrt((ub - pb) ** 2 + (pa - la) ** 2)


# --- Newcombe's interval ---------------------------------------------------------------------


def test_newcombe_matches_the_papers_worked_example() -> None:
    # Newcombe 1998, Table II, example (a): 56/70 against 48/80, difference 0.2000,
    # method 10 interval 0.0524 to 0.3339. Here B = 56/70 and A = 48/80, so B − A = +0.2.
    d, low, high = newcombe_difference(48, 80, 56, 70)
    assert d == pytest.approx(0.2)
    assert low == pytest.approx(0.0524, abs=5e-5)
    assert high == pytest.approx(0.3339, abs=5e-5)


def test_newcombe_matches_an_independent_hand_calculation() -> None:
    # A second example worked from the formulas: 9/10 against 3/10.
    assert newcombe_difference(3, 10, 9, 10) == pytest.approx(newcombe_by_hand(3, 10, 9, 10), abs=1e-12)
    # and the boundary case of Newcombe's example (h): 0/10 against 0/20
    d, low, high = newcombe_difference(0, 20, 0, 10)
    assert (d, low, high) == pytest.approx(newcombe_by_hand(0, 20, 0, 10), abs=1e-12)
    assert low < 0 < high


counts = st.integers(1, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n)))


@settings(max_examples=300, deadline=None)
@given(a=counts, b=counts)
def test_newcombe_interval_properties(a: tuple[int, int], b: tuple[int, int]) -> None:
    (xa, na), (xb, nb) = a, b
    d, low, high = newcombe_difference(xa, na, xb, nb)
    assert -1.0 <= low <= d <= high <= 1.0  # contains the observed difference, within [-1, 1]
    assert (d, low, high) == pytest.approx(newcombe_by_hand(xa, na, xb, nb), abs=1e-9)
    swapped = newcombe_difference(xb, nb, xa, na)  # A − B is the mirror image of B − A
    assert swapped == pytest.approx((-d, -high, -low), abs=1e-12)


def test_newcombe_without_runs_is_undefined() -> None:
    assert all(math.isnan(v) for v in newcombe_difference(0, 0, 3, 10))


# --- the comparison ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("compare")
    a = run("precision-weapons", runs=800, seed=5, rounds=8, out=base / "a").path
    b = run("lethal-aid", runs=800, seed=5, rounds=8, out=base / "b").path
    return a, b


def test_table_has_every_outcome_and_red_line_rate_with_intervals(two_runs: tuple[Path, Path]) -> None:
    a, b = read_sides(*two_runs)
    table = comparison_table(a, b)
    outcomes = table[table["kind"] == "outcome"]
    assert outcomes["id"].tolist() == a.outcomes["outcome"].tolist()
    assert outcomes["a_p"].sum() == pytest.approx(1) and outcomes["b_p"].sum() == pytest.approx(1)
    assert sorted(table.loc[table["kind"] == "crossed", "id"]) == sorted(a.red_lines["red_line"])
    for side in ("a", "b"):
        assert (table[f"{side}_low"] <= table[f"{side}_p"] + 1e-12).all()
        assert (table[f"{side}_p"] <= table[f"{side}_high"] + 1e-12).all()
    assert (table["diff"] == table["b_p"] - table["a_p"]).all()
    assert ((table["diff_low"] <= table["diff"]) & (table["diff"] <= table["diff_high"])).all()
    enforced = table[table["kind"] == "enforced"].iloc[0]
    crossed = table[(table["kind"] == "crossed") & (table["id"] == enforced["id"])].iloc[0]
    assert enforced["a_n"] == crossed["a_count"]  # enforcement is a share of the crossings


def test_a_scenario_against_itself_differs_by_exactly_nothing(tmp_path: Path) -> None:
    # Same seed, same block seeds: common random numbers make the two runs identical.
    comparison = compare("precision-weapons", "precision-weapons", runs=300, seed=9, rounds=6)
    assert (comparison.table["diff"].fillna(0) == 0).all()
    assert "common random numbers" in format_comparison(comparison)


def test_a_directory_lends_its_seed_runs_and_rounds_to_a_scenario(two_runs: tuple[Path, Path]) -> None:
    comparison = compare(two_runs[0], "lethal-aid")
    assert (comparison.b.meta.seed, comparison.b.meta.runs, comparison.b.meta.rounds) == (5, 800, 8)
    assert comparison.table.equals(comparison_table(*read_sides(*two_runs)))


# --- the command ---------------------------------------------------------------------------------


def test_sim_compare_prints_the_table_and_writes_the_figure(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    figure = tmp_path / "cmp.png"
    code = main(["compare", "precision-weapons", "lethal-aid", "--runs", "500", "--seed", "2", "--rounds", "8",
                 "--plot", str(figure), "--out", str(tmp_path / "kept")])
    out = capsys.readouterr().out
    assert code == 0
    assert "proxy_escalation" in out and "crossed russia.lethal_aid" in out and "B − A" in out
    assert out.strip().splitlines()[-1] == str(figure)
    assert figure.read_bytes()[:8] == PNG
    assert (tmp_path / "kept" / "A-precision-weapons" / "runs.parquet").is_file()
    assert (tmp_path / "kept" / "B-lethal-aid" / "manifest.json").is_file()


def test_sim_compare_on_two_directories_writes_svg(two_runs: tuple[Path, Path], tmp_path: Path,
                                                   capsys: pytest.CaptureFixture) -> None:
    figure = tmp_path / "cmp.svg"
    assert main(["compare", str(two_runs[0]), str(two_runs[1]), "--plot", str(figure)]) == 0
    assert "<svg" in figure.read_text()[:500]
    assert str(two_runs[0]) in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["compare", "precision-weapons", "no-such-scenario", "--runs", "10"], "no-such-scenario"),
        (["compare", "precision-weapons", "lethal-aid", "--plot", "out.gif"], "expected a .png, .svg or .pdf"),
        (["compare", "{a}", "{b}", "--runs", "10"], "got two results directories"),
        (["compare", "{empty}", "lethal-aid"], "expected a results directory (from sim run, sweep, backtest, calibrate, sensitivity or robust) with manifest.json"),
    ],
)
def test_sim_compare_bad_input_exits_2_without_traceback(
    args: list[str], message: str, two_runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    (tmp_path / "empty").mkdir()
    names = {"a": str(two_runs[0]), "b": str(two_runs[1]), "empty": str(tmp_path / "empty")}
    assert main([arg.format(**names) for arg in args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


# --- paired intervals ------------------------------------------------------------------------------

from sim.report.compare import paired_difference  # noqa: E402


def test_paired_interval_is_the_independent_one_when_the_pairs_are_uncorrelated() -> None:
    a = np.array([1, 1, 0, 0] * 25, dtype=bool)
    b = np.array([1, 0, 1, 0] * 25, dtype=bool)  # phi = 0 exactly
    assert paired_difference(a, b) == pytest.approx(newcombe_difference(50, 100, 50, 100), abs=1e-12)


def test_paired_interval_covers_and_is_narrower_under_common_random_numbers() -> None:
    """2,000 samples of 400 pairs, each pair driven by one uniform draw (as common random numbers
    drive A and B): P(A) = 0.30, P(B) = 0.35. The 95% interval must cover 0.05 in 93% to 97% of
    samples (4 standard errors of 2,000 Bernoulli(0.95) trials) and be narrower than the
    independent interval in every sample."""
    rng = np.random.default_rng(20261204)
    covered, narrower = 0, 0
    for _ in range(2000):
        u = rng.random(400)
        noise = rng.random(400) < 0.05  # a few runs disagree for reasons of their own
        a, b = u < 0.30, (u < 0.35) ^ (noise & (u > 0.5))
        true_b = 0.35 + 0.05 * 0.5  # the noise flips 5% of the upper half to yes
        d, low, high = paired_difference(a, b)
        covered += low <= true_b - 0.30 <= high
        _, ilow, ihigh = newcombe_difference(int(a.sum()), 400, int(b.sum()), 400)
        narrower += (high - low) < (ihigh - ilow)
    assert 0.93 <= covered / 2000 <= 0.97
    assert narrower == 2000


def test_compare_prints_which_interval_it_uses_and_marks_what_is_not_significant() -> None:
    comparison = compare("baseline", "precision-weapons", runs=300, seed=4, rounds=6)
    text = format_comparison(comparison)
    table = comparison.table
    assert set(table.loc[table["kind"] != "enforced", "interval"]) == {"paired"}
    assert set(table.loc[table["kind"] == "enforced", "interval"]) <= {"independent", "-"}
    assert "paired (Newcombe's score interval for paired proportions" in text
    assert " n.s." in text and " *" in text
    measure = table[table["kind"] == "measure"].iloc[0]
    assert measure["id"] == "seoul_lethal_aid", "B's measure is asked of A's runs too"
    assert np.isfinite(measure["a_p"]) and measure["b_p"] > measure["a_p"]


def test_enforcement_is_a_share_of_the_crossings_even_when_an_owner_enforces_what_it_wrongly_saw() -> None:
    # Run 2 crossed nothing, but its owner read an ambiguous act as a crossing and enforced it.
    import pyarrow as pa

    from sim.experiments.sweep_store import Counts
    from sim.report.figure_data import red_line_rates

    runs = pd.DataFrame({"outcome": ["contained"] * 4, "crossed.line": [True, True, False, False],
                         "seen.line": [True, False, True, False], "enforced.line": [True, None, True, None]})
    rates = red_line_rates(runs, ["line"]).iloc[0]
    assert (rates["crossed_count"], rates["enforced_count"], rates["enforced"]) == (2, 1, 0.5)
    counts = Counts(classes=["contained"], red_lines=["line"])
    counts.add(pa.Table.from_pandas(runs, preserve_index=False))
    enforced = next(r for r in counts.rows(0, False) if r[1] == "enforced.line")
    assert (enforced[2], enforced[-2]) == (0.5, 2)


def test_the_note_on_random_numbers_names_every_difference() -> None:
    # Mutation survivor (docs/hardening.md): the run-count reason could be dropped unnoticed.
    from types import SimpleNamespace

    from sim.report.compare import common_random_numbers

    def side(seed: int, runs: int, block: int | None = 10_000, version: str = "1") -> SimpleNamespace:
        return SimpleNamespace(meta=SimpleNamespace(seed=seed, runs=runs), block_size=block, version=version)

    assert common_random_numbers(side(1, 2000), side(1, 2000)) is None
    assert common_random_numbers(side(1, 2000), side(1, 3000)) == "different run counts (2,000, 3,000)"
    assert common_random_numbers(side(1, 2000, version="1"), side(2, 2000, None, "2")) == (
        "different seeds (1, 2); a block size not recorded; made by different versions of sim (1, 2)")
