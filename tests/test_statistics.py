"""Comparative statics and scenario-level behaviour, as statistical tests with stated tolerances.

One-sided comparisons are two-proportion z-tests requiring z > 4 (a false alarm rate below 1
in 30,000 were the effect absent); a "no difference" test is two-sided and requires |z| < 3
(it fails by chance 0.27% of the time when there is truly no difference). Sample sizes give
each effect a wide margin over its threshold; every test uses seed 2024, never a seed searched
for. `python tests/test_statistics.py` prints the table of named-scenario effects that
docs/model.md reproduces.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.engine.causes import CAUSES
from sim.engine.model import EscalationModel
from sim.engine.outcomes import runs_table
from sim.experiments.summary import wilson
from sim.scenario import load_scenario
from sim.scenario.loader import with_overrides

SEED = 2024
Z_REQUIRED = 4.0
Z_SAME = 3.0
CLASSES = ["de_escalation", "contained", "proxy_escalation", "militarized_crisis", "regional_war", "nuclear_use"]


def finished(scenario, replicates: int, **overrides) -> EscalationModel:
    model = EscalationModel(scenario, replicates=replicates, rng=SEED, overrides=overrides)
    while model.running:
        model.step()
    return model


def runs(scenario, replicates: int, **overrides) -> pd.DataFrame:
    return runs_table(finished(scenario, replicates, **overrides), 0).to_pandas()


def z_difference(hits_a: int, n_a: int, hits_b: int, n_b: int) -> float:
    """z statistic of proportion B - proportion A, with a pooled standard error."""
    pa, pb = hits_a / n_a, hits_b / n_b
    pooled = (hits_a + hits_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    return (pb - pa) / se if se > 0 else math.inf * np.sign(pb - pa)


def z_of(a: pd.Series, b: pd.Series) -> float:
    return z_difference(int(a.sum()), len(a), int(b.sum()), len(b))


def at_least(df: pd.DataFrame, class_id: str) -> pd.Series:
    return df["outcome"].astype(str).map(CLASSES.index) >= CLASSES.index(class_id)


@pytest.fixture(scope="module")
def baseline() -> pd.DataFrame:
    return runs("baseline", 10_000)


def test_status_quo_activities_stay_in_force_in_most_months(baseline: pd.DataFrame) -> None:
    """Each activity of 23 June 2024 is in force in more than half of all run-months (z > 4)."""
    s = load_scenario("baseline")
    months = len(baseline) * s.rounds
    for actor_id, actor in s.actors.items():
        for move in actor.activities:
            in_force = int(baseline[f"rounds.{actor_id}.{move.action}"].sum())
            share = in_force / months
            z = (share - 0.5) / math.sqrt(0.25 / months)
            assert z > Z_REQUIRED, f"{actor_id} {move.action}: in force {share:.1%} of months"


@pytest.mark.slow  # a few seconds: the default suite stays near 60 s
def test_raising_a_red_lines_credibility_lowers_its_crossing_rate() -> None:
    line = "south_korea.precision_weapons"
    doubted = runs("baseline", 5_000, **{f"red_lines.{line}.credibility": 0.0})
    believed = runs("baseline", 5_000, **{f"red_lines.{line}.credibility": 1.0})
    assert z_of(doubted[f"crossed.{line}"], believed[f"crossed.{line}"]) < -Z_REQUIRED


@pytest.mark.slow  # a few seconds: the default suite stays near 60 s
def test_a_line_nobody_believes_deters_no_more_than_no_line_at_all() -> None:
    """With credibility 0 the trigger (Russia starting precision weapons for the North) is as
    frequent as when Seoul has drawn no line. What a line does besides deterring is switched
    off in both: its ambiguous readings and warning band, and misperception, through which an
    unbelieved line is still "enforced" against a misread technology transfer and Russia's own
    line then answers with the very weapons (+1.7 points, z about 4.5, with perception noise on;
    docs/model.md). What remains could differ only by deterrence."""
    line = "south_korea.precision_weapons"
    s = load_scenario("baseline", {
        f"red_lines.{line}.trigger.slack": 0.0, f"red_lines.{line}.warning": [],
        "dynamics.perception.misperception": 0.0, "dynamics.perception.spiral_bias": 0.0,
    })
    without = with_overrides(s, {"red_lines": {k: v for k, v in s.model_dump(mode="json")["red_lines"].items() if k != line}})
    unbelieved = runs(with_overrides(s, {f"red_lines.{line}.credibility": 0.0}), 10_000)
    no_line = runs(without, 10_000)
    column = "first.russia.precision_weapons"
    z = z_of(unbelieved[column].notna(), no_line[column].notna())
    assert abs(z) < Z_SAME, f"z = {z:.2f}"


@pytest.mark.slow  # a few seconds: the default suite stays near 60 s
def test_more_resolve_makes_enforcement_more_likely() -> None:
    line = "south_korea.precision_weapons"
    results = []
    for resolve in (0.3, 0.9):
        df = runs("precision-weapons", 4_000, **{"actors.south_korea.resolve": resolve})
        crossed = df[f"crossed.{line}"]
        results.append(df.loc[crossed, f"enforced.{line}"].astype(bool))
    assert z_of(*results) > Z_REQUIRED


@pytest.mark.slow
def test_a_nullified_treaty_makes_russian_arms_for_the_north_after_a_clash_less_likely() -> None:
    """Model v3: Russia arms the North a step at a time in about half the runs over 24 months
    anyway, so the treaty's share shows in the months after the clash of round 3: Russian arms
    started in rounds 4-7 (measured 13.3% with the treaty, 10.8% nullified, z -10.9 at 40,000
    runs a side; over the whole run the difference is z -2.3)."""
    active = runs("peninsula-war", 40_000)
    void = runs("peninsula-war", 40_000, **{"commitments.treaty_article_4.status": "nullified"})
    column = "first.russia.arms_transfer"
    assert z_of(active[column].between(4, 7), void[column].between(4, 7)) < -Z_REQUIRED


def test_baseline_spreads_over_at_least_three_outcome_classes(baseline: pd.DataFrame) -> None:
    counts = baseline["outcome"].astype(str).value_counts()
    present = [wilson(int(counts.get(c, 0)), len(baseline))[0] > 0.005 for c in CLASSES]
    assert sum(present) >= 3
    assert counts.max() / len(baseline) < 0.95, "no single class takes (nearly) every run"


# --- the catastrophic tail (model v3) ----------------------------------------------------------

TAIL_RUNS = 40_000


def tail(scenario: str | Path) -> dict[str, tuple[int, int]]:
    """(hits, runs) of the tail outcomes the issue "Model v3" fixes, over TAIL_RUNS runs, and the
    number of runs with a first new use of force that had a cause (any but a bare choice)."""
    model = finished(scenario, TAIL_RUNS)
    d = runs_table(model, 0).to_pandas()
    nuclear = d[[c for c in d if c.startswith("first.") and c.endswith(".nuclear_use")]].notna().any(axis=1)
    cause = model.first_force_cause
    return {
        "nuclear use": (int(nuclear.sum()), len(d)),
        "regional war (class)": (int((d["outcome"].astype(str) == "regional_war").sum()), len(d)),
        "North Korean border clash": (int(d["first.north_korea.border_clash"].notna().sum()), len(d)),
        "North Korean nuclear use": (int(d["first.north_korea.nuclear_use"].notna().sum()), len(d)),
        "de-escalation (class)": (int((d["outcome"].astype(str) == "de_escalation").sum()), len(d)),
        "Russia-Ukraine ceasefire agreed": (int(d["agreed.ukraine_ceasefire"].notna().sum()), len(d)),
        "first use of force with a cause": (int(((cause > 0) & (cause != CAUSES.index("choice"))).sum()), int((cause > 0).sum())),
    }


SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios" / "korea-2024"


def calibrated(name: str, folder: Path) -> Path:
    """The named scenario on the world calibrated to 2024's record: a copy of `baseline` (and of
    the scenario, when it is another) extending world/korea-2024-calibrated.yaml."""
    base = (SCENARIOS / "baseline.yaml").read_text(encoding="utf-8")
    world = SCENARIOS / "world" / "korea-2024-calibrated.yaml"
    (folder / "baseline.yaml").write_text(base.replace("extends: world/korea-2024.yaml", f"extends: {world}"),
                                          encoding="utf-8")
    if name == "baseline":
        return folder / "baseline.yaml"
    text = (SCENARIOS / f"{name}.yaml").read_text(encoding="utf-8")
    (folder / f"{name}.yaml").write_text(text.replace("extends: baseline", "extends: baseline.yaml"), encoding="utf-8")
    return folder / f"{name}.yaml"


@pytest.mark.slow
def test_the_baseline_tail_is_where_published_anchors_and_the_record_put_it() -> None:
    """The v3 world as its authors set it, which the named scenarios extend (issue "Model v3"):
    nuclear use within 0.02-0.5% in 24 months (its 95% interval inside the band); a North Korean
    clash likelier than North Korean nuclear use and a regional war likelier than nuclear use
    (z > 4); de-escalation reachable (its interval above 0.5%); at least 90% of first uses of force
    with a cause (reply, incident, obligation, red-line response, inject, threshold)."""
    t = tail("baseline")
    low, high = wilson(*t["nuclear use"])
    assert 0.0002 < low and high < 0.005, (low, high)
    assert z_difference(*t["North Korean nuclear use"], *t["North Korean border clash"]) > Z_REQUIRED
    assert z_difference(*t["nuclear use"], *t["regional war (class)"]) > Z_REQUIRED
    assert wilson(*t["de-escalation (class)"])[0] > 0.005
    assert wilson(*t["first use of force with a cause"])[0] > 0.9


@pytest.mark.slow
def test_the_calibrated_world_keeps_a_clash_likelier_than_nuclear_use_and_de_escalation_reachable(tmp_path: Path) -> None:
    t = tail(calibrated("baseline", tmp_path))
    assert z_difference(*t["North Korean nuclear use"], *t["North Korean border clash"]) > Z_REQUIRED
    assert wilson(*t["de-escalation (class)"])[0] > 0.005


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "why the calibrated world is not the default (40,000 runs, seed 2024): nuclear use 0.48% (0.42-0.55%), "
    "its interval past the 0.5% band; regional war 0.27%, less likely than nuclear use; 67% of first uses of "
    "force with a cause (troops sent to Russia by choice). The record's troops pull North Korea's risk tolerance "
    "to 0.80 (docs/calibration.md). Strict: when a recalibration meets it, this fails and must go."))
def test_the_calibrated_world_tail_is_where_published_anchors_and_the_record_put_it(tmp_path: Path) -> None:
    t = tail(calibrated("baseline", tmp_path))
    low, high = wilson(*t["nuclear use"])
    assert 0.0002 < low and high < 0.005, (low, high)
    assert z_difference(*t["nuclear use"], *t["regional war (class)"]) > Z_REQUIRED
    assert wilson(*t["first use of force with a cause"])[0] > 0.9


@pytest.mark.slow
def test_a_clash_on_the_peninsula_ends_in_a_regional_war_more_often_than_in_nuclear_use() -> None:
    t = tail("peninsula-war")
    assert z_difference(*t["nuclear use"], *t["regional war (class)"]) > Z_REQUIRED


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "not so on the calibrated world (40,000 runs, seed 2024): peninsula-war gives nuclear use 2.65% "
    "against regional war 0.95%; North Korea's calibrated risk tolerance (0.80) carries a forced clash "
    "into a war and over the North's nuclear threshold. Strict: when a recalibration restores it, this fails."))
def test_on_the_calibrated_world_a_clash_on_the_peninsula_ends_in_a_regional_war_more_often(tmp_path: Path) -> None:
    t = tail(calibrated("peninsula-war", tmp_path))
    assert z_difference(*t["nuclear use"], *t["regional war (class)"]) > Z_REQUIRED


# --- each named scenario against the baseline -----------------------------------------------


@dataclass(frozen=True)
class Effect:
    scenario: str
    question: str
    measure: str
    expected: str  # "up", "down", "either" (the question asks which) or "same" (the model's answer is no)
    of: Callable[[pd.DataFrame], pd.Series]


EFFECTS = [
    Effect("precision-weapons", "does Seoul answer with lethal aid?", "Seoul starts lethal aid", "up",
           lambda d: d["first.south_korea.lethal_aid"].notna()),
    Effect("lethal-aid", "does Russia carry out its countermeasure?", "Russia starts precision weapons", "up",
           lambda d: d["first.russia.precision_weapons"].notna()),
    Effect("troops-to-front", "does it push Seoul toward lethal aid?", "Seoul starts lethal aid", "up",
           lambda d: d["first.south_korea.lethal_aid"].notna()),
    Effect("peninsula-war", "do the alliance and the treaty turn a clash into a wider war?",
           "the US-ROK alliance or the treaty invoked", "up",
           lambda d: d["invoked.us_rok_alliance"].notna() | d["invoked.treaty_article_4"].notna()),
    # v3: clashes come from incidents at the record's rate and replies to them; an emboldened
    # North Korea provokes more (tests and shows of force) but a clash is not within its reach
    Effect("emboldened-provocations", "does the treaty make clashes more likely?", "a North Korean clash or worse",
           "same", lambda d: d["new_rung.north_korea"] >= 12),
    Effect("ceasefire-erosion", "does the treaty lose force?", "treaty nullified", "up",
           lambda d: d["status.treaty_article_4"].astype(str) == "nullified"),
    Effect("tit-for-tat", "does strict reciprocity hold the line or spiral?", "regional war or worse", "either",
           lambda d: at_least(d, "regional_war")),
    Effect("with-china", "does Beijing's mediation bring a ceasefire nearer?", "a Russia-Ukraine ceasefire agreed",
           "up", lambda d: d["agreed.ukraine_ceasefire"].notna()),
]
EFFECT_RUNS = 40_000


def measured(effect: Effect, base: pd.DataFrame) -> tuple[float, float, float, float, float]:
    """(baseline share, scenario share, difference, its 95% interval half-width, z)."""
    scenario = runs(effect.scenario, EFFECT_RUNS)
    a, b = effect.of(base), effect.of(scenario)
    pa, pb = a.mean(), b.mean()
    half = 1.959964 * math.sqrt(pa * (1 - pa) / len(a) + pb * (1 - pb) / len(b))
    return pa, pb, pb - pa, half, z_of(a, b)


@pytest.fixture(scope="module")
def big_baseline() -> pd.DataFrame:
    return runs("baseline", EFFECT_RUNS)


@pytest.mark.slow
@pytest.mark.parametrize("effect", EFFECTS, ids=lambda e: e.scenario)
def test_each_named_scenario_moves_its_outcome_the_way_its_question_implies(effect: Effect,
                                                                             big_baseline: pd.DataFrame) -> None:
    """Same seed for both sides (common random numbers where the draws line up); the z statistic
    treats the samples as independent, which is conservative."""
    *_, z = measured(effect, big_baseline)
    if effect.expected == "up":
        assert z > Z_REQUIRED
    elif effect.expected == "down":
        assert z < -Z_REQUIRED
    elif effect.expected == "same":
        assert abs(z) < Z_SAME, "the scenario's answer is no"
    else:
        assert abs(z) > Z_REQUIRED, "the scenario answers its question one way or the other"


if __name__ == "__main__":
    for name in ("baseline", "peninsula-war"):
        print(f"\n{name}, {TAIL_RUNS:,} runs, seed {SEED}:\n| outcome | runs | share (95% interval) |\n|---|---|---|")
        for label, (hits, n) in tail(name).items():
            low, high = wilson(hits, n)
            print(f"| {label} | {hits} / {n} | {hits / n:.3%} ({low:.3%}, {high:.3%}) |")
    print()
    base = runs("baseline", EFFECT_RUNS)
    print("| scenario | question | measure | expected | baseline | scenario | difference (95% interval) | z |")
    print("|---|---|---|---|---|---|---|---|")
    for e in EFFECTS:
        pa, pb, diff, half, z = measured(e, base)
        print(f"| `{e.scenario}` | {e.question} | {e.measure} | {e.expected} | {pa:.1%} | {pb:.1%} | "
              f"{diff * 100:+.1f} pp ({(diff - half) * 100:+.1f}, {(diff + half) * 100:+.1f}) | {z:.1f} |")
