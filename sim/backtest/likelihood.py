"""How well a parameter point explains the record: smoothed event probabilities, the record's
likelihood with its certainty as soft evidence, likelihood weights and their effective size.

- A model probability from k of R runs is smoothed to (k + 1/2) / (R + 1) (the Krichevsky-Trofimov
  estimator, the posterior mean under a Jeffreys prior): never 0 or 1, so an event no run of a
  point produced costs that point a finite log-likelihood of about -ln(2R) rather than ruling it
  out for good on a finite sample, and it moves the raw share by at most 1/(2(R + 1)).
- The record is evidence, not truth: an event the record gives with certainty r (the
  `record_probability` of the events file: how likely the event happened, given what the record
  says and how sure it is) is observed through a channel that is right with probability r. The
  likelihood of what the record says is then p r + (1 - p)(1 - r) (Jeffrey's rule; Pearl's
  "virtual evidence"): with r = 1 it is p, with r = 1/2 it is 1/2 whatever the model says.
- Events are treated as conditionally independent given the parameters (a composite likelihood):
  a record of nested events (in force 2 of 6 rounds, 4 of 6) is counted more than once, which
  makes the posterior narrower than it should be, never centred elsewhere.
"""

from __future__ import annotations

import numpy as np


def smoothed(hits: np.ndarray, runs: int | np.ndarray) -> np.ndarray:
    """The model's probability of each event from `hits` of `runs` runs: (k + 1/2) / (R + 1)."""
    return (np.asarray(hits, dtype=float) + 0.5) / (np.asarray(runs, dtype=float) + 1.0)


def event_log_likelihood(p: np.ndarray, record: np.ndarray) -> np.ndarray:
    """ln P(the record | model probability p) per event, the record's certainty `record` being
    the probability that each event happened given the record: ln(p r + (1 - p)(1 - r))."""
    p, r = np.asarray(p, dtype=float), np.asarray(record, dtype=float)
    return np.log(p * r + (1.0 - p) * (1.0 - r))


def log_likelihood(hits: np.ndarray, runs: int, record: np.ndarray) -> np.ndarray:
    """The record's log-likelihood at each point: `hits` is (points, events), `record` (events,)."""
    return event_log_likelihood(smoothed(hits, runs), record).sum(axis=-1)


def likelihood_weights(log_lik: np.ndarray) -> np.ndarray:
    """Posterior weights of design points drawn uniformly over the prior box: the likelihood,
    normalised to sum to 1 (computed from the largest, so no underflow to all zeros)."""
    log_lik = np.asarray(log_lik, dtype=float)
    w = np.exp(log_lik - log_lik.max())
    return w / w.sum()


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size (sum w)^2 / sum w^2: how many equally weighted points the
    weighted ones are worth (n when all are equal, 1 when one point takes all the weight)."""
    w = np.asarray(weights, dtype=float)
    return float(w.sum() ** 2 / (w**2).sum())


def posterior_predictive(weights: np.ndarray, hits: np.ndarray, runs: int) -> np.ndarray:
    """Each event's probability under the posterior: the weighted mean over points of k / R,
    which is what a run of the calibrated scenario (drawing points by weight) estimates."""
    return np.asarray(weights, dtype=float) @ (np.asarray(hits, dtype=float) / runs)
