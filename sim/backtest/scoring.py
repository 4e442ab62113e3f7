"""Proper scoring rules for yes/no forecasts, and bootstrap intervals of their mean over events.

Brier score: (p - o)^2, 0 is perfect, 0.25 is what saying 0.5 to everything earns.
Log score: -ln(p) when the event happened, -ln(1 - p) when it did not (lower is better; 0.693
for 0.5). Probabilities are clipped to [CLIP, 1 - CLIP] for the log score only, so a forecast
of exactly 0 or 1 that turns out wrong costs ln(1000) = 6.9 instead of infinity: one run in a
thousand is the resolution a backtest of a few thousand runs can claim, and an unclipped score
would let one event decide the mean.
"""

from __future__ import annotations

import numpy as np

CLIP = 1e-3


def brier(p: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Brier score of each forecast `p` of an event that happened (`observed` True) or not."""
    p, o = np.asarray(p, dtype=float), np.asarray(observed, dtype=float)
    return (p - o) ** 2


def log_score(p: np.ndarray, observed: np.ndarray, clip: float = CLIP) -> np.ndarray:
    """Negative log likelihood of each outcome under `p`, with p clipped to [clip, 1 - clip]."""
    p = np.clip(np.asarray(p, dtype=float), clip, 1.0 - clip)
    return -np.where(np.asarray(observed, dtype=bool), np.log(p), np.log1p(-p))


def cluster_means(scores: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    """The mean score of each cluster, in order of first appearance: each event weighs 1/size
    of its cluster, so a cluster of nested questions counts as much as one question."""
    labels, first, which = np.unique(np.asarray(clusters), return_index=True, return_inverse=True)
    sums = np.bincount(which, weights=np.asarray(scores, dtype=float), minlength=len(labels))
    return (sums / np.bincount(which, minlength=len(labels)))[np.argsort(first)]


def bootstrap_mean(scores: np.ndarray, seed: int = 0, draws: int = 10_000,
                   level: float = 0.95, clusters: np.ndarray | None = None) -> tuple[float, float, float]:
    """The mean of per-event `scores` and a percentile bootstrap interval over events: events
    are resampled with replacement, `draws` times, from numpy's Generator seeded with `seed`.
    With `clusters` (a label per event), each cluster's mean is one unit, and whole clusters are
    resampled: the mean weighs each event 1/size of its cluster."""
    scores = np.asarray(scores, dtype=float)
    if scores.size == 0:
        raise ValueError("no scores to average (expected at least one event, got none)")
    if clusters is not None:
        scores = cluster_means(scores, clusters)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, scores.size, size=(draws, scores.size))
    means = scores[picks].mean(axis=1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(scores.mean()), float(low), float(high)
