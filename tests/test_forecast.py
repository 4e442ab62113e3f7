"""Conditional forecasts (`sim forecast`): runs consistent with the record by a date, and what they say next.

On the toy world (tests/data/calibration-toy.yaml): the lowest outcome class is reached in every
run, so conditioning on it must change nothing; Beta only ever idles, so a record saying it
threatened Alpha agrees with no run and must be refused, naming that event.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.backtest.forecast import _weights, forecast
from sim.cli import main

TOY = Path(__file__).resolve().parent / "data" / "calibration-toy.yaml"
HEAD = "start: 2024-01-01\nend: 2024-12-31\nreferences:\n  synthetic: {title: Synthetic record}\nevents:\n"
ALWAYS = """\
  calm-or-worse:
    question: the toy reaches at least its lowest outcome class
    kind: outcome
    at_least: eased
    by: 2
    happened: true
    date: 2024-02-01
    sure: high
    sources: [synthetic]
"""
NEVER = """\
  beta-threatens:
    question: Beta threatens Alpha
    kind: takes
    actor: beta
    action: threaten
    happened: true
    date: 2024-02-01
    sure: high
    sources: [synthetic]
"""
LATER = """\
  sanctions-half-the-year:
    question: Gamma's sanctions in force in at least 6 of 12 rounds
    kind: in_force
    actor: gamma
    action: sanction
    rounds: 6
    by: 12
    happened: true
    date: 2024-12-15
    sure: high
    sources: [synthetic]
"""


def record(tmp_path: Path, *events: str, name: str = "record.yaml") -> Path:
    path = tmp_path / name
    path.write_text(HEAD + "".join(events), encoding="utf-8")
    return path


def test_weights_reject_on_sure_events_and_weigh_the_rest():
    hits = np.array([[True, False], [False, False], [True, True]])
    happened = np.array([True, True])
    certainty = np.array([0.93, 0.75])  # the first is sure (hard), the second moderate (soft)
    hard = np.array([True, False])
    assert _weights(hits, happened, certainty, hard).tolist() == [0.25, 0.0, 0.75]


def test_conditioning_on_what_every_run_does_changes_nothing(tmp_path):
    options = dict(survivors=50, batch=100, max_runs=1000, seed=3, workers=1)
    as_of = dt.date(2024, 3, 1)
    plain = forecast(TOY, record(tmp_path, LATER, name="plain.yaml"), as_of, out=tmp_path / "plain", **options)
    conditioned = forecast(TOY, record(tmp_path, ALWAYS, LATER), as_of, out=tmp_path / "conditioned", **options)
    assert (plain.given, conditioned.given) == ([], ["calm-or-worse"])
    assert (conditioned.simulated, conditioned.survivors) == (plain.simulated, plain.survivors) == (100, 100)
    pd.testing.assert_frame_equal(conditioned.outcomes, plain.outcomes)
    pd.testing.assert_frame_equal(conditioned.red_lines, plain.red_lines)
    pd.testing.assert_frame_equal(conditioned.later, plain.later)
    assert 0 < plain.later["p"].item() < 1  # a forecast that could have differed


def test_conditioning_on_what_no_run_does_is_an_error_naming_it(tmp_path, capsys):
    given = record(tmp_path, ALWAYS, NEVER)
    out = tmp_path / "fc"
    code = main(["forecast", str(TOY), "--given", str(given), "--as-of", "2024-03-01", "--survivors", "10",
                 "--max-runs", "300", "--batch", "300", "--workers", "1", "--out", str(out)])
    assert code == 2
    assert capsys.readouterr().err == (
        "error: no run of 300 agrees with the record on beta-threatens "
        "(expected at least one run consistent with every event dated by --as-of)\n")
    assert not out.exists()


def test_prints_runs_tried_and_kept(tmp_path, capsys):
    given = record(tmp_path, ALWAYS, LATER)
    assert main(["forecast", str(TOY), "--given", str(given), "--as-of", "2024-03-01", "--survivors", "20",
                 "--batch", "50", "--workers", "1", "--out", str(tmp_path / "fc")]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("forecast as of 2024-03-01: 50 of 50 runs agree with the record (1 events dated by then")
    assert "sanctions-half-the-year" in printed
    assert pd.read_parquet(tmp_path / "fc" / "runs.parquet")["weight"].tolist() == [1.0] * 50
