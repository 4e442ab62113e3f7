"""How well a parameter point explains the record: smoothed event probabilities, the record's
likelihood with its certainty as soft evidence, likelihood weights and their effective size.

- A model probability from k of R runs is smoothed to (k + 1/2) / (R + 1) (the Krichevsky-Trofimov
  estimator, the posterior mean under a Jeffreys prior): never 0 or 1, so an event no run of a
  point produced costs that point a finite log-likelihood of about -ln(2R) rather than ruling it
  out for good on a finite sample, and it moves the raw share by at most 1/(2(R + 1)).
- What the record gives as `sure: high` (documented, widely reported) is taken as fact, r = 1 or
  0, as `sim forecast` rejects runs that disagree with it. What it gives as `moderate` or `low` is
  evidence, not truth: observed through a channel that is right with probability r, the events
  file's `record_probability` (how likely the event happened, given what the record says and how
  sure it is). The likelihood of what the record says is then p r + (1 - p)(1 - r) (Jeffrey's
  rule; Pearl's "virtual evidence"): with r = 1 it is p, with r = 1/2 it is 1/2 whatever the model
  says. Why not 0.93 for `high` too: it would cap what any documented event can cost a point at
  ln(0.07), so a parameter point under which North Korean troops in Kursk happen in 1 run in 200
  would score almost as well as one under which they happen in 1 in 8: the record would barely
  inform the fit.
- Events are treated as conditionally independent given the parameters (a composite likelihood):
  a record of nested events (in force 2 of 6 rounds, 4 of 6) is counted more than once, which
  makes the posterior narrower than it should be, never centred elsewhere.
"""

from __future__ import annotations

import numpy as np

from .events import Event

HARD = "high"  # the certainty taken as fact: calibration's r = 1 or 0, forecast's rejection


def record_certainty(event: Event) -> float:
    """How likely the event happened, given the record: 1 or 0 when the record is sure (`HARD`),
    else the events file's record_probability."""
    return float(event.happened) if event.sure == HARD else event.record_probability


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


# -- rates: what a long record says about how often ------------------------------------------------

QUADRATURE_NODES = 40  # Gauss-Hermite nodes over the record's stated log-normal uncertainty


def monthly_hazard(p: np.ndarray, months: float) -> np.ndarray:
    """The monthly rate of an event that happens within `months` with probability `p` in a run
    (a constant hazard: p = 1 - exp(-rate * months))."""
    p = np.clip(np.asarray(p, dtype=float), 0.0, 1.0 - 1e-12)
    return -np.log1p(-p) / months


def count_log_probability(mean: np.ndarray, at_least: int | None, at_most: int | None) -> np.ndarray:
    """ln P(at_least <= N <= at_most) for N Poisson with `mean` (a bound left None is open)."""
    from scipy.special import logsumexp
    from scipy.stats import poisson

    mean = np.asarray(mean, dtype=float)
    low = 0 if at_least is None else at_least
    if at_most is None:
        return poisson.logsf(low - 1, mean) if low > 0 else np.zeros_like(mean)
    if low == 0:
        return poisson.logcdf(at_most, mean)
    # a window: the sum of its terms, in logs (no difference of two CDFs near 1)
    ks = np.arange(low, at_most + 1)
    return logsumexp(poisson.logpmf(ks, mean[..., None]), axis=-1)


def rate_log_likelihood(p: np.ndarray, months_modelled: float, at_least: int | None, at_most: int | None,
                        months: float, factor: float = 1.0) -> np.ndarray:
    """ln P(the record's count | the model) for a rate: the model's probability `p` that the event
    happens within `months_modelled` gives a monthly rate; the record counted between `at_least`
    and `at_most` in `months`. The record's rate may stand a `factor` from the model's (log-normal,
    sd ln(factor)): the count's probability is averaged over that uncertainty by Gauss-Hermite
    quadrature. With factor 1 it is the Poisson probability itself."""
    from scipy.special import logsumexp

    mean = monthly_hazard(p, months_modelled) * months
    if factor == 1.0:
        return count_log_probability(mean, at_least, at_most)
    nodes, weights = np.polynomial.hermite_e.hermegauss(QUADRATURE_NODES)  # weight exp(-z^2/2), sum sqrt(2 pi)
    scaled = mean[..., None] * np.exp(np.log(factor) * nodes)
    terms = count_log_probability(scaled, at_least, at_most) + np.log(weights / weights.sum())
    return logsumexp(terms, axis=-1)
