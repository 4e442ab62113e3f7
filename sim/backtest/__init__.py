"""Scoring the model against a dated record: events files, evaluation in every run, scores.

    from sim.backtest import backtest, load_events, evaluate, trajectory_columns
    result = backtest("baseline", "events/korea-2024.yaml", runs=10_000, seed=1)
    result.table      # per event: observed, p./brier./log.<forecaster>
    result.headline   # per forecaster: the headline mean Brier and log score (clusters once, events
                      # true by construction apart), bootstrap 95% intervals, paired gaps to the model
    result.scores     # the same over all events, unweighted
"""

from __future__ import annotations

from .evaluate import check_events, evaluate, horizon_round, round_of, trajectory_columns
from .events import SURE, Event, Events, load_events
from .forecasters import reference_forecasts
from .run import BacktestResult, backtest, headline_scores, mean_scores, score_table, summary_json
from .scoring import CLIP, bootstrap_mean, brier, log_score

__all__ = ["CLIP", "SURE", "BacktestResult", "Event", "Events", "backtest", "bootstrap_mean", "brier", "check_events",
           "evaluate", "headline_scores", "horizon_round", "load_events", "log_score", "mean_scores", "reference_forecasts", "round_of",
           "score_table", "summary_json", "trajectory_columns"]
