"""Scoring the model against a dated record: events files, evaluation in every run, scores.

    from sim.backtest import load_events, evaluate, trajectory_columns, score_table
"""

from __future__ import annotations

from .evaluate import check_events, evaluate, round_of, trajectory_columns
from .events import SURE, Event, Events, load_events
from .scoring import CLIP, bootstrap_mean, brier, log_score

__all__ = ["CLIP", "Event", "Events", "SURE", "bootstrap_mean", "brier", "check_events", "evaluate",
           "load_events", "log_score", "round_of", "trajectory_columns"]
