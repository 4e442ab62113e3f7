"""Sequential Monte Carlo over a box: particles from a uniform prior to the posterior by tempering.

The log-likelihood is raised to a power phi that climbs from 0 (the prior) to 1 (the posterior).
At each step phi is raised as far as keeps the effective sample size of the reweighted particles
at half their number (found by bisection), the particles are resampled (systematic resampling)
and moved by random-walk Metropolis steps that leave the tempered posterior invariant (a
Gaussian proposal with the particles' own covariance, scaled by 2.38/sqrt(d)). Points outside
the box, or that `allowed` rules out (history matching), have prior density 0.

The final step's weights are kept rather than resampled away, so the result is weighted
particles whose Kish effective sample size is at least half their number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .likelihood import effective_sample_size

MOVES = 6  # Metropolis steps per tempering step
MAX_STEPS = 200


@dataclass(frozen=True)
class Particles:
    """Weighted particles (points, parameters), their log-likelihood, and how the sampler went."""

    theta: np.ndarray
    weights: np.ndarray  # sum to 1
    log_likelihood: np.ndarray
    steps: int
    acceptance: float  # mean Metropolis acceptance rate over the moves

    @property
    def ess(self) -> float:
        return effective_sample_size(self.weights)


def _normalised(log_w: np.ndarray) -> np.ndarray:
    w = np.exp(log_w - log_w.max())
    return w / w.sum()


def _next_phi(phi: float, log_lik: np.ndarray, target: float) -> float:
    """The largest phi' <= 1 whose incremental weights keep an ESS of `target`."""
    if effective_sample_size(_normalised((1.0 - phi) * log_lik)) >= target:
        return 1.0
    low, high = phi, 1.0
    for _ in range(60):
        mid = (low + high) / 2.0
        if effective_sample_size(_normalised((mid - phi) * log_lik)) >= target:
            low = mid
        else:
            high = mid
    return max(low, phi + 1e-12)


def _systematic(weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = len(weights)
    positions = (rng.random() + np.arange(n)) / n
    return np.minimum(np.searchsorted(np.cumsum(weights), positions), n - 1)


def sample_posterior(log_likelihood: Callable[[np.ndarray], np.ndarray], low: np.ndarray, high: np.ndarray,
                     n: int, rng: np.random.Generator,
                     allowed: Callable[[np.ndarray], np.ndarray] | None = None) -> Particles:
    """`n` weighted particles from the posterior of a uniform prior over [low, high] (restricted to
    `allowed`) and `log_likelihood` (points, parameters) -> (points,)."""
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    d = len(low)

    def inside(theta: np.ndarray) -> np.ndarray:
        ok = np.all((theta >= low) & (theta <= high), axis=1)
        if allowed is not None and ok.any():
            ok[ok] = allowed(theta[ok])
        return ok

    theta = np.empty((0, d))
    for _ in range(1000):  # the prior restricted to `allowed`, by rejection
        draw = low + (high - low) * rng.random((max(n, 1000), d))
        theta = np.vstack([theta, draw[inside(draw)]])
        if len(theta) >= n:
            break
    if len(theta) < n:
        raise ValueError("history matching ruled out (almost) the whole box: no prior point is plausible")
    theta = theta[:n]
    log_lik = log_likelihood(theta)
    phi, steps, accepted, proposed = 0.0, 0, 0, 0
    weights = np.full(n, 1.0 / n)
    while phi < 1.0 and steps < MAX_STEPS:
        steps += 1
        new_phi = _next_phi(phi, log_lik, n / 2.0)
        weights = _normalised((new_phi - phi) * log_lik)
        phi = new_phi
        if phi >= 1.0:
            break  # keep the last weights: the posterior as weighted particles
        pick = _systematic(weights, rng)
        theta, log_lik = theta[pick], log_lik[pick]
        weights = np.full(n, 1.0 / n)
        scale = 2.38 / np.sqrt(d)
        covariance = np.atleast_2d(np.cov(theta, rowvar=False)) + 1e-12 * np.diag((high - low) ** 2)
        chol = np.linalg.cholesky(scale**2 * covariance)
        for _ in range(MOVES):
            proposal = theta + rng.standard_normal((n, d)) @ chol.T
            ok = inside(proposal)
            proposed_lik = np.full(n, -np.inf)
            if ok.any():
                proposed_lik[ok] = log_likelihood(proposal[ok])
            accept = ok & (np.log(rng.random(n)) < phi * (proposed_lik - log_lik))
            theta[accept], log_lik[accept] = proposal[accept], proposed_lik[accept]
            accepted += int(accept.sum())
            proposed += n
    return Particles(theta, weights, log_lik, steps, accepted / proposed if proposed else 1.0)


__all__ = ["Particles", "sample_posterior"]
