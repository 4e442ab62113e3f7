"""The point layouts that SALib's analyses need, in the unit box [0, 1]^d.

`saltelli`: Saltelli's scheme as SALib lays it out for first-order and total Sobol' indices
(Saltelli 2002; Saltelli et al. 2010): N base samples from a scrambled Sobol' sequence give
N(d + 2) points, in blocks of d + 2 (A, the d columns of B swapped into A one at a time, B).
Second-order indices are left out: they need N(2d + 2) points and are rarely read.

`morris`: N Morris trajectories (Morris 1991) on a grid of LEVELS levels, d + 1 points each.

The points are analysed in this order (sim.experiments.sensitivity), so a sweep keeps it.
"""

from __future__ import annotations

import warnings

import numpy as np

LEVELS = 4  # Morris grid levels: SALib's default and the usual choice for screening (Saltelli et al. 2008)


def unit_problem(d: int) -> dict:
    """SALib's problem over the unit box; the design is scaled to each factor's range afterwards."""
    return {"num_vars": d, "names": [f"x{i}" for i in range(d)], "bounds": [[0.0, 1.0]] * d}


def unit_design(design: str, d: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """The `design`'s points in [0, 1]^d from n base samples or trajectories, drawn with `rng`."""
    from .designs import SweepWarning

    if design == "saltelli":
        from SALib.sample import sobol

        if n & (n - 1):
            below, above = 1 << (n.bit_length() - 1), 1 << n.bit_length()
            warnings.warn(f"--points {n} is not a power of two: Sobol' indices converge as they should only "
                          f"for powers of two (e.g. {below} or {above}); drawing {n} anyway", SweepWarning, stacklevel=5)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SALib's own power-of-two note: said above, in our words
            return sobol.sample(unit_problem(d), n, calc_second_order=False, scramble=True, seed=rng)
    from SALib.sample import morris

    return morris.sample(unit_problem(d), n, num_levels=LEVELS, seed=rng)


def base_samples(design: str, d: int, points: int) -> int:
    """N from the number of points a design laid out over d factors."""
    return points // (d + 2) if design == "saltelli" else points // (d + 1)


__all__ = ["LEVELS", "base_samples", "unit_design", "unit_problem"]
