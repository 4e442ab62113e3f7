"""The backtest's headline: clusters weighed once, events true by construction apart, the
climatology record and the forecasters built from it, stated forecasts, and `--json`.

Every record and events file here is written by hand, so each expected number can be worked
out from the file on paper (the worked sums are in the comments).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.backtest import bootstrap_mean, load_events
from sim.backtest.climatology import at_least, load_climatology
from sim.backtest.scoring import cluster_means
from sim.scenario import ScenarioError, load_scenario

RECORD = """\
start: 2023-01-01
end: 2024-06-22
references:
  press: {title: Wide press coverage}
series:
  launches:
    description: months with a launch
    sources: [press]
    occurrences:
      - {date: 2023-01-05, what: one, sources: [press]}
      - {date: 2023-01-20, what: same month, sources: [press]}
      - {date: 2023-03-01, what: two, sources: [press]}
      - {date: 2024-02-10, what: three, sources: [press]}
      - {date: 2024-06-22, what: last day, sources: [press]}
  never:
    description: months with the unthinkable
    start: 2004-01-01
    sources: [press]
    occurrences: []
"""

HEAD = """\
start: 2024-06-23
end: 2024-12-31
climatology: record.yaml
references:
  wide-press: {title: Wide press coverage}
events:
"""


def event(eid: str, body: str, happened: bool = True) -> str:
    return textwrap.indent(f"{eid}:\n  question: q\n{textwrap.indent(body, '  ')}  happened: {str(happened).lower()}\n"
                           f"  date: 2024-12-31\n  sure: high\n  sources: [wide-press]\n", "  ")


def write(tmp_path: Path, *events: str, head: str = HEAD, record: str = RECORD) -> Path:
    (tmp_path / "record.yaml").write_text(record, encoding="utf-8")
    path = tmp_path / "events.yaml"
    path.write_text(head + "".join(events), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def baseline():
    return load_scenario("baseline")


# --- the climatology record ---------------------------------------------------------------


def test_a_record_counts_calendar_months_with_an_occurrence(tmp_path):
    record = load_climatology(write(tmp_path).parent / "record.yaml")
    # Jan 2023 - Jun 2024 is 18 calendar months; launches fall in Jan 2023 (twice), Mar 2023,
    # Feb 2024 and Jun 2024 (its last, partial month counts): 4 months
    assert record.months("launches") == (4, 18)
    assert record.rate("launches") == pytest.approx(4.5 / 19)
    # the last twelve months, Jul 2023 - Jun 2024: Feb and Jun 2024
    assert record.recent_rate("launches") == pytest.approx(2 / 12)
    # a series' own start: Jan 2004 - Jun 2024 is 246 months, none with an occurrence
    assert record.months("never") == (0, 246)
    assert record.rate("never") == pytest.approx(0.5 / 247)
    assert record.recent_rate("never") == 0.0


def test_at_least_k_of_n_months_is_the_binomial_tail():
    assert at_least(0.5, 2, 1) == pytest.approx(0.75)
    assert at_least(0.2, 3, 2) == pytest.approx(3 * 0.2**2 * 0.8 + 0.2**3)
    assert at_least(0.0, 7, 1) == 0.0
    assert at_least(0.3, 7, 0) == pytest.approx(1.0)


def test_a_malformed_record_gets_every_problem_located(tmp_path):
    bad = RECORD.replace("2023-03-01, what: two, sources: [press]", "2022-12-01, what: two, sources: [pres]")
    path = tmp_path / "record.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_climatology(path)
    assert [str(p) for p in err.value.problems] == [
        f"{path}:12:10: series.launches.occurrences[2].date: outside the series' span "
        "(expected 2023-01-01 to 2024-06-22, got 2022-12-01)",
        f"{path}:12:49: series.launches.occurrences[2].sources[0]: unknown source (expected a reference id of this "
        "file or the seeds, got 'pres')",
    ]


def test_an_event_naming_a_series_the_record_lacks_is_located(tmp_path):
    path = write(tmp_path, event("x", "kind: takes\nactor: north_korea\naction: missile_test\nclimatology: launch\n"))
    with pytest.raises(ScenarioError) as err:
        load_events(path)
    assert [str(p) for p in err.value.problems] == [
        f"{path}:12:5: events.x.climatology: unknown series (expected one of: launches, never, got 'launch')"]
    no_record = write(tmp_path, event("x", "kind: takes\nactor: north_korea\naction: missile_test\n"
                                           "climatology: launches\n"), head=HEAD.replace("climatology: record.yaml\n", ""))
    with pytest.raises(ScenarioError, match="unknown series .no record named"):
        load_events(no_record)


# --- climatology and persistence forecasters ----------------------------------------------


def test_climatology_and_persistence_read_the_record_exactly(tmp_path, baseline):
    from sim.backtest.forecasters import climatology, persistence

    path = write(
        tmp_path,
        event("any", "kind: takes\nactor: north_korea\naction: missile_test\nclimatology: launches\n"),
        event("three", "kind: takes\nactor: north_korea\naction: missile_test\nrounds: 3\nclimatology: launches\n"),
        event("nuke", "kind: outcome\nat_least: nuclear_use\nclimatology: never\n", happened=False),
        event("aid", "kind: in_force\nactor: united_states\naction: lethal_aid\nrounds: 7\n"),
        event("talks", "kind: agreement\nagreement: us_dprk_talks\n", happened=False),
    )
    events = load_events(path)
    rate, recent, never = 4.5 / 19, 2 / 12, 0.5 / 247
    # 31 December 2024 is round 7 of the Korean calendar: at least k of 7 months
    assert climatology(events, baseline) == pytest.approx({
        "any": 1 - (1 - rate) ** 7, "three": at_least(rate, 7, 3), "nuke": 1 - (1 - never) ** 7,
        "aid": 1.0, "talks": 0.0})  # no series: persistence's rule from the start
    assert persistence(events, baseline) == pytest.approx({
        "any": 1 - (1 - recent) ** 7, "three": at_least(recent, 7, 3), "nuke": 0.0, "aid": 1.0, "talks": 0.0})


def test_climatology_and_persistence_count_months_within_windows_and_bounds(tmp_path, baseline):
    from sim.backtest.forecasters import climatology

    tests = "kind: takes\nactor: north_korea\naction: missile_test\n"
    path = write(
        tmp_path,
        event("since-3", tests + "since: 3\nclimatology: launches\n"),
        event("at-most-once", tests + "at_most: 1\nclimatology: launches\n"),
        event("every-month-through-3", "kind: in_force\nactor: north_korea\naction: missile_test\nthrough: 3\n"
                                       "climatology: launches\n"),
        event("no-tests", tests + "at_most: 0\n"),
        event("aid-at-most-3", "kind: in_force\nactor: united_states\naction: lethal_aid\nrounds: 1\nat_most: 3\n"),
    )
    rate = 4.5 / 19
    assert climatology(load_events(path), baseline) == pytest.approx({
        "since-3": 1 - (1 - rate) ** 5,  # rounds 3-7
        "at-most-once": (1 - rate) ** 7 + 7 * rate * (1 - rate) ** 6,
        "every-month-through-3": rate**3,
        "no-tests": 1.0, "aid-at-most-3": 0.0})  # persistence's rule: nothing new; aid in force all 7 rounds


def test_stated_forecasts_must_precede_the_window_and_may_fall_back_to_climatology(tmp_path, baseline):
    from sim.backtest.forecasters import reference_forecasts

    def stated(published: str, default: str = "climatology") -> str:
        return HEAD.replace("events:\n", "forecasters:\n  crowd:\n    description: a published forecast\n"
                                         f"    published: {published}\n    probabilities: {{any: 0.9}}\n"
                                         f"    default: {default}\n    sources: [wide-press]\nevents:\n")

    body = [event("any", "kind: takes\nactor: north_korea\naction: missile_test\nclimatology: launches\n"),
            event("nuke", "kind: outcome\nat_least: nuclear_use\nclimatology: never\n", happened=False)]
    events = load_events(write(tmp_path, *body, head=stated("2024-06-01")))
    forecasts = reference_forecasts(events, baseline)
    assert forecasts["crowd"] == pytest.approx({"any": 0.9, "nuke": forecasts["climatology"]["nuke"]})
    late = write(tmp_path, *body, head=stated("2024-06-23"))
    with pytest.raises(ScenarioError) as err:
        load_events(late)
    assert [str(p) for p in err.value.problems] == [
        f"{late}:9:5: forecasters.crowd.published: published inside the record's window (expected a date "
        "before 2024-06-23, got 2024-06-23)"]
    no_record = write(tmp_path, *body[1:], head=stated("2024-06-01").replace("climatology: record.yaml\n", "")
                      .replace("climatology: never\n", ""))
    with pytest.raises(ScenarioError, match="no climatology without a record"):
        load_events(no_record)


# --- events true by construction ----------------------------------------------------------


def test_what_the_scenario_starts_with_is_true_by_construction(tmp_path, baseline):
    from sim.backtest.construction import true_by_construction

    path = write(
        tmp_path,
        event("aid", "kind: in_force\nactor: united_states\naction: lethal_aid\nrounds: 7\n"),
        event("aid-to-russia", "kind: in_force\nactor: north_korea\naction: arms_transfer\ntarget: russia\nrounds: 7\n"),
        event("troops", "kind: in_force\nactor: north_korea\naction: troop_deployment\nrounds: 3\n"),
        event("contained", "kind: outcome\nat_least: contained\nby: 24\n"),
        event("test", "kind: takes\nactor: north_korea\naction: missile_test\n"),
        event("declared", "kind: takes\nactor: north_korea\naction: missile_test\nby_construction: true\n"),
    )
    events = load_events(path)
    found = {eid: true_by_construction(e, baseline) for eid, e in events.events.items()}
    assert found == {"aid": True, "aid-to-russia": True, "troops": False, "contained": False, "test": False,
                     "declared": True}
    lowest = next(iter(baseline.outcomes.classes))
    assert true_by_construction(events.events["contained"].model_copy(update={"at_least": lowest}), baseline)


# --- weights and the headline -------------------------------------------------------------


def test_each_cluster_counts_once():
    scores = np.array([0.0, 0.3, 0.6, 1.0, 0.2])
    clusters = np.array(["b", "a", "b", "c", "a"])
    # in order of first appearance: b = (0 + 0.6)/2, a = (0.3 + 0.2)/2, c = 1
    assert cluster_means(scores, clusters) == pytest.approx([0.3, 0.25, 1.0])
    mean, low, high = bootstrap_mean(scores, seed=2, draws=2000, clusters=clusters)
    assert mean == pytest.approx((0.3 + 0.25 + 1.0) / 3)
    # whole clusters are resampled: every draw's mean is a mean of three cluster means
    _, low0, high0 = bootstrap_mean(np.array([0.3, 0.25, 1.0]), seed=2, draws=2000)
    assert (low, high) == pytest.approx((low0, high0))


def headline_events(tmp_path: Path) -> Path:
    return write(
        tmp_path,
        event("any", "kind: takes\nactor: north_korea\naction: missile_test\ncluster: tests\nclimatology: launches\n"),
        event("three", "kind: takes\nactor: north_korea\naction: missile_test\nrounds: 3\ncluster: tests\n"
                       "climatology: launches\n", happened=False),
        event("talks", "kind: agreement\nagreement: us_dprk_talks\n", happened=False),
        event("aid", "kind: in_force\nactor: united_states\naction: lethal_aid\nrounds: 7\n"),
    )


def test_the_headline_weighs_clusters_and_scores_construction_apart(tmp_path, baseline):
    from sim.backtest.run import format_backtest, mean_scores, score_table, summary_json

    table = score_table(load_events(headline_events(tmp_path)), baseline,
                        {"any": 0.8, "three": 0.5, "talks": 0.1, "aid": 1.0})
    assert table["weight"].tolist() == [0.5, 0.5, 1.0, 1.0]
    assert table["by_construction"].tolist() == [False, False, False, True]
    summary = summary_json(table, seed=0)
    assert set(summary) >= {"headline", "by_construction", "events", "weighted"}
    assert (summary["events"], summary["clusters"], summary["weighted"]) == (3, 2, True)
    assert summary["by_construction_events"] == ["aid"]
    # model Brier: tests cluster ((0.8-1)^2 + 0.5^2)/2 = 0.145, talks 0.01 -> (0.145 + 0.01)/2
    assert summary["headline"]["model"]["brier"] == pytest.approx(0.0775)
    model_log = ((-math.log(0.8) - math.log(0.5)) / 2 - math.log(0.9)) / 2
    assert summary["headline"]["model"]["log"] == pytest.approx(model_log, abs=1e-6)
    assert summary["headline"]["always_0.5"]["brier_minus_model"][0] == pytest.approx(0.25 - 0.0775)
    assert summary["by_construction"]["model"]["brier"] == 0.0
    assert set(summary["headline"]) == {"model", "base_rate", "persistence", "climatology", "always_0.5"}
    unweighted = mean_scores(table).set_index("forecaster")
    assert unweighted.loc["model", "brier"] == pytest.approx((0.04 + 0.25 + 0.01 + 0.0) / 4)
    printed = format_backtest("title", table).splitlines()
    blocks = [line for line in printed if line and line[0].isalpha() and "events" in line]
    assert blocks[0].startswith("HEADLINE: 3 events in 2 clusters")
    assert blocks[1].startswith("true by construction (1 events") and blocks[2].startswith("all 4 events, unweighted")
    assert printed[printed.index(blocks[0]) + 2].split()[:2] == ["model", "0.077"]  # 0.0775 in binary rounds down


@pytest.mark.slow  # about 2.5 s, most of it reading the Korean world's YAML
def test_sim_backtest_json_prints_the_headline(tmp_path, capsys):
    from sim.cli import main

    out = tmp_path / "bt"
    assert main(["backtest", "baseline", "--events", str(headline_events(tmp_path)), "--runs", "40", "--seed", "2",
                 "--out", str(out), "--workers", "1", "--json", "--set", "actors.north_korea.resolve=0.55"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert set(summary["headline"]) == {"model", "base_rate", "persistence", "climatology", "always_0.5"}
    assert (summary["events"], summary["weighted"], summary["by_construction_events"]) == (3, True, ["aid"])
    assert set(summary["headline"]["model"]) == {"brier", "log", "brier_interval", "log_interval"}
    assert summary["path"] == str(out)
    table = pd.read_parquet(out / "backtest.parquet")
    assert table.loc[table["event"] == "aid", "by_construction"].item()
    assert load_scenario(out / "scenario.yaml").actors["north_korea"].resolve == 0.55  # --set reached the run


def test_the_korean_record_declares_its_clusters_and_every_series_exists():
    root = Path(__file__).resolve().parents[1] / "events"
    events = load_events(root / "korea-2024.yaml")
    clusters = pd.Series({e: ev.cluster for e, ev in events.events.items()}).dropna()
    assert clusters.groupby(clusters).size().to_dict() == {
        "militarized": 3, "nk-missile-tests": 3, "nk-troops": 2, "precision-weapons": 3, "proxy": 2,
        "shows-of-force": 2}
    record = events.record
    assert record is not None and record.start == dt.date(2017, 1, 1) and record.end == dt.date(2024, 6, 22)
    assert {e.climatology for e in events.events.values() if e.climatology} <= set(record.series)
    assert all(o.sources for s in record.series.values() for o in s.occurrences)
