"""An emulator of the model's event probabilities: p_e(theta) for every event, fitted to runs.

Each calibration run draws its own parameter point theta, so a wave of runs is a cloud of
(theta, happened) pairs. For each event a logistic regression on a cubic polynomial of theta
(scaled to [-1, 1] over the prior box) turns that cloud into a smooth probability at any
theta: every run informs every point near it, which is what brings the seed noise of a point's
log-likelihood under 0.1 nats at a few hundred thousand runs in all, where running each point
alone would need some 40,000 runs per point (a rare event's share, k of R, has a log whose sd
is about 1/sqrt(k)).

The fit is penalised maximum likelihood (a Gaussian prior, sd 1, on every coefficient but the
intercept, whose prior is sd 10): an event no run produced gets a tiny finite probability,
and a polynomial term with no data under it stays near 0 instead of running away.

The polynomial's degree (1, 2 or 3) is chosen per event by BIC: a rare event, whose few runs
cannot tell a curve from a line, gets the line, so its probability is not noisier than its
runs allow (the variance of a fitted logit grows with the number of terms over the hits); a
common event gets the curvature its runs show. `degrees` fixes the choice (the seed-noise
measurement refits with the degrees the full fit chose).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

PENALTY = 1.0  # 1/sd^2 of the polynomial coefficients' prior
INTERCEPT_PENALTY = 0.01  # 1/sd^2 of the intercept's
ITERATIONS = 30
TOLERANCE = 1e-8


def features(unit: np.ndarray) -> np.ndarray:
    """1, z, z^2, z_j z_k (j < k), z^3 of z = 2 unit - 1, for points `unit` in [0, 1]^d."""
    z = 2.0 * np.atleast_2d(np.asarray(unit, dtype=float)) - 1.0
    d = z.shape[1]
    columns = [np.ones(len(z)), *z.T, *(z**2).T, *(z[:, j] * z[:, k] for j, k in combinations(range(d), 2)),
               *(z**3).T]
    return np.column_stack(columns)


def terms(d: int, degree: int) -> int:
    """How many of `features`' columns a polynomial of `degree` in d parameters uses (they come first)."""
    return {1: 1 + d, 2: 1 + 2 * d + d * (d - 1) // 2, 3: 1 + 3 * d + d * (d - 1) // 2}[degree]


def _log_likelihood(x: np.ndarray, y: np.ndarray, beta: np.ndarray) -> float:
    eta = np.clip(x @ beta, -40.0, 40.0)
    return float(y @ eta - np.logaddexp(0.0, eta).sum())


def _fit_one(x: np.ndarray, y: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Penalised logistic regression by Newton's method (the log-posterior is concave)."""
    penalty = np.full(x.shape[1], PENALTY)
    penalty[0] = INTERCEPT_PENALTY
    beta = start.copy()
    for _ in range(ITERATIONS):
        eta = np.clip(x @ beta, -40.0, 40.0)
        p = 1.0 / (1.0 + np.exp(-eta))
        gradient = x.T @ (y - p) - penalty * beta
        hessian = (x * (p * (1.0 - p))[:, None]).T @ x + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        beta = beta + step
        if np.max(np.abs(step)) < TOLERANCE:
            break
    return beta


@dataclass(frozen=True)
class Emulator:
    """Coefficients per event (events, features) over a box: `probability(theta)` for any points."""

    low: np.ndarray
    high: np.ndarray
    coefficients: np.ndarray
    degrees: np.ndarray | None = None  # the polynomial degree of each event (unused terms are 0)

    def unit(self, theta: np.ndarray) -> np.ndarray:
        return (np.atleast_2d(np.asarray(theta, dtype=float)) - self.low) / (self.high - self.low)

    def probability(self, theta: np.ndarray) -> np.ndarray:
        """(points, events) probabilities at `theta` (points, parameters)."""
        eta = np.clip(features(self.unit(theta)) @ self.coefficients.T, -40.0, 40.0)
        return 1.0 / (1.0 + np.exp(-eta))


def fit_emulator(theta: np.ndarray, hits: np.ndarray, low: np.ndarray, high: np.ndarray,
                 degrees: np.ndarray | None = None) -> Emulator:
    """An emulator of every event's probability from runs at points `theta` (runs, parameters)
    with `hits` (runs, events) saying whether each event happened in each run; each event's
    degree chosen by BIC unless `degrees` gives it."""
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    x = features((np.asarray(theta, dtype=float) - low) / (high - low))
    hits = np.asarray(hits)
    d = len(low)
    rows, chosen = [], []
    for e in range(hits.shape[1]):
        y = hits[:, e].astype(float)  # one event at a time: memory stays at a few columns of runs
        share = (y.sum() + 0.5) / (len(y) + 1.0)
        best: tuple[float, int, np.ndarray] | None = None
        for degree in (1, 2, 3) if degrees is None else (int(degrees[e]),):
            k = terms(d, degree)
            start = np.zeros(k)
            start[0] = np.log(share / (1.0 - share))
            beta = _fit_one(x[:, :k], y, start)
            bic = -2.0 * _log_likelihood(x[:, :k], y, beta) + k * np.log(len(y))
            if best is None or bic < best[0]:
                best = (bic, degree, np.concatenate([beta, np.zeros(x.shape[1] - k)]))
        assert best is not None
        chosen.append(best[1])
        rows.append(best[2])
    return Emulator(low, high, np.array(rows), np.array(chosen))


__all__ = ["Emulator", "features", "fit_emulator", "terms"]
