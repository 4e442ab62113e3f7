"""The calibration's method: waves of runs, an emulator, history matching, and a sequential sampler.

1. **Wave 0 (cheap runs over the whole box).** Every run draws its own parameter point from a
   Latin hypercube over the prior box (the `--vary` ranges), so one block of runs covers the
   box; every event is evaluated in every run.
2. **Emulator.** For every event, a smooth probability p_e(theta) fitted to all runs so far
   (emulator.py): the record's log-likelihood at any point follows from it (likelihood.py).
3. **History matching.** Points whose emulated log-likelihood falls more than CUTOFF nats below
   the best are ruled out as implausible (their record is at least e^CUTOFF times less likely);
   the test of every wave is kept, and the region not yet ruled out (NROY) is where the next
   wave's runs and the final sampler go.
4. **Sequential Monte Carlo.** Tempered SMC (smc.py) over the box restricted to NROY gives the
   posterior as weighted particles; the next wave draws its runs from those particles, jittered
   by their covariance (80%), and uniformly from NROY (20%, so the emulator stays honest around
   the posterior, not only at its centre).

After the last wave, the emulator fitted to every run that NROY keeps gives the final posterior;
the same fit on four disjoint quarters of those runs measures the seed noise of each particle's
log-likelihood (the full fit's sd is about half the quarters' sd).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .emulator import Emulator, fit_emulator
from .likelihood import event_log_likelihood, rate_log_likelihood
from .smc import Particles, sample_posterior

CUTOFF = 12.0  # nats below the best emulated log-likelihood: implausible
JITTERED = 0.8  # the share of a later wave's runs drawn around the particles (the rest: uniform over NROY)
SCREEN = 20_000  # uniform points over the box on which each wave's plausibility threshold is set
FLOOR = 1e-6  # no event's probability is taken below this or above 1 - this
CHUNK = 20_000  # points whose log-likelihood is computed at once


@dataclass(frozen=True)
class Evidence:
    """What the record says, per event in the emulator's order: a yes/no event's certainty r
    (NaN for a rate), and each rate's count bounds, months recorded and months modelled.

    `weight` is each yes/no event's weight in the log-likelihood: 1 / the size of its cluster, so
    that nested events (troops sent, troops staying) count once between them, as the backtest's
    headline counts them; a composite likelihood of dependent parts weighs them so (Varin, Reid
    and Firth 2011). None: every event 1."""

    record: np.ndarray
    rates: tuple[tuple[int, int | None, int | None, float, float, float], ...]  # (column, at_least, at_most, months, factor, months modelled)
    mask: np.ndarray | None = None  # events that count (None: all)
    weight: np.ndarray | None = None

    def only(self, keep: np.ndarray) -> Evidence:
        return Evidence(self.record, self.rates, keep, self.weight)

    def log_likelihood(self, p: np.ndarray) -> np.ndarray:
        """The record's log-likelihood at points whose event probabilities are `p` (points, events)."""
        p = np.clip(p, FLOOR, 1.0 - FLOOR)
        keep = np.ones(p.shape[1], dtype=bool) if self.mask is None else self.mask
        yes_no = keep & np.isfinite(self.record)
        weight = np.ones(p.shape[1]) if self.weight is None else self.weight
        total = (event_log_likelihood(p[:, yes_no], self.record[yes_no]) * weight[yes_no]).sum(axis=1)
        for column, at_least, at_most, months, factor, modelled in self.rates:
            if keep[column]:
                total = total + rate_log_likelihood(p[:, column], modelled, at_least, at_most, months, factor)
        return total


@dataclass(frozen=True)
class Plausible:
    """The region not ruled out yet: every wave's emulator and threshold."""

    tests: tuple[tuple[Emulator, float], ...] = ()

    def __call__(self, theta: np.ndarray, evidence: Evidence) -> np.ndarray:
        ok = np.ones(len(theta), dtype=bool)
        for emulator, threshold in self.tests:
            for start in range(0, len(theta), CHUNK):  # a wave's runs in chunks: memory stays flat
                part = slice(start, start + CHUNK)
                if ok[part].any():
                    here = ok[part]
                    here[here] = evidence.log_likelihood(emulator.probability(theta[part][here])) >= threshold
                    ok[part] = here
        return ok


def history_match(emulator: Emulator, evidence: Evidence, plausible: Plausible,
                  rng: np.random.Generator) -> tuple[Plausible, float]:
    """The region with this wave's test added, and the share of the box it keeps."""
    low, high = emulator.low, emulator.high
    screen = low + (high - low) * rng.random((SCREEN, len(low)))
    ok = plausible(screen, evidence)
    log_lik = evidence.log_likelihood(emulator.probability(screen[ok])) if ok.any() else np.array([0.0])
    threshold = float(log_lik.max()) - CUTOFF
    narrowed = Plausible((*plausible.tests, (emulator, threshold)))
    return narrowed, float(narrowed(screen, evidence).mean())


def posterior(emulator: Emulator, evidence: Evidence, plausible: Plausible, n: int,
              rng: np.random.Generator) -> Particles:
    """Weighted particles from the posterior the emulator gives, within the plausible region."""
    return sample_posterior(lambda t: evidence.log_likelihood(emulator.probability(t)), emulator.low, emulator.high,
                            n, rng, allowed=lambda t: plausible(t, evidence))


def proposal(particles: Particles, plausible: Plausible, evidence: Evidence, low: np.ndarray, high: np.ndarray,
             size: int, rng: np.random.Generator) -> np.ndarray:
    """`size` points for the next wave: JITTERED of them around the particles (drawn by weight,
    moved by a Gaussian with the particles' covariance), the rest uniform over the plausible
    region; all within the box and the region."""
    d = len(low)
    covariance = np.atleast_2d(np.cov(particles.theta, rowvar=False, aweights=particles.weights))
    chol = np.linalg.cholesky(covariance + 1e-9 * np.diag((high - low) ** 2))
    near = int(round(JITTERED * size))
    out: list[np.ndarray] = []
    for count, around in ((near, True), (size - near, False)):
        got = np.empty((0, d))
        for _ in range(1000):
            if len(got) >= count:
                break
            if around:
                pick = rng.choice(len(particles.theta), size=2 * count, p=particles.weights)
                draw = particles.theta[pick] + rng.standard_normal((2 * count, d)) @ chol.T
            else:
                draw = low + (high - low) * rng.random((4 * count, d))
            inside = np.all((draw >= low) & (draw <= high), axis=1)
            draw = draw[inside]
            got = np.vstack([got, draw[plausible(draw, evidence)]])
        out.append(got[:count])
    return np.vstack(out)


def quarter_noise(theta: np.ndarray, hits: np.ndarray, emulator: Emulator, evidence: Evidence,
                  at: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The seed noise (sd) of the emulator's log-likelihood at points `at`, as it is and relative
    to its `weights`-mean over them (what moves the posterior): the sd over four emulators fitted
    (with the same degrees) to disjoint quarters of the runs, halved (a fit's sd falls as
    1/sqrt(runs))."""
    quarter = np.arange(len(theta)) % 4
    values = np.array([evidence.log_likelihood(fit_emulator(theta[quarter == q], hits[quarter == q], emulator.low,
                                                            emulator.high, emulator.degrees).probability(at))
                       for q in range(4)])
    centred = values - (values @ weights)[:, None]
    return np.std(values, axis=0, ddof=1) / 2.0, np.std(centred, axis=0, ddof=1) / 2.0


def run_waves(simulate: Callable[[int, np.ndarray], tuple[np.ndarray, np.ndarray]], first: np.ndarray,
              low: np.ndarray, high: np.ndarray, evidence: Evidence, waves: int, points: int,
              rng_of: Callable[[int], np.random.Generator]) -> tuple[np.ndarray, np.ndarray, list[dict], Plausible]:
    """Simulate `waves` waves (`simulate(wave, points) -> (theta, hits)` of the runs made) from
    the `first` points; returns all runs' theta and hits, what each wave did, and the region."""
    plausible = Plausible()
    thetas: list[np.ndarray] = []
    hits: list[np.ndarray] = []
    report: list[dict] = []
    table = first
    for wave in range(waves):
        theta, hit = simulate(wave, table)
        thetas.append(theta)
        hits.append(hit)
        if wave == waves - 1:
            report.append({"wave": wave, "runs": len(theta), "plausible_share": _share(report)})
            break
        rng = rng_of(wave)
        all_theta, all_hits = np.vstack(thetas), np.vstack(hits)
        kept = plausible(all_theta, evidence)
        emulator = fit_emulator(all_theta[kept], all_hits[kept], low, high)
        plausible, share = history_match(emulator, evidence, plausible, rng)
        particles = posterior(emulator, evidence, plausible, max(points, 200), rng)
        table = proposal(particles, plausible, evidence, low, high, len(first), rng)
        report.append({"wave": wave, "runs": len(theta), "plausible_share": _share(report),
                       "plausible_after": share, "threshold": plausible.tests[-1][1]})
    return np.vstack(thetas), np.vstack(hits), report, plausible


def _share(report: Sequence[dict]) -> float:
    return report[-1]["plausible_after"] if report else 1.0


__all__ = ["CUTOFF", "Evidence", "Plausible", "history_match", "posterior", "proposal", "quarter_noise", "run_waves"]
