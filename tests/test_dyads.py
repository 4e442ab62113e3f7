"""Pair state over the declared dyads (issue 19, fault 11): memory follows the dyads a world
declares, not the square of its actors, and undeclared pairs read the neutral value."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from sim.engine.dyads import Dyads
from sim.engine.model import EscalationModel
from sim.scenario.loader import validate
from test_engine import step_keeping_what_choices_read

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "dyads.py"


def ring(n: int, rounds: int = 2):
    """The benchmark's world of `n` actors on a ring, each dealing with four neighbours."""
    spec = importlib.util.spec_from_file_location("dyads_benchmark", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return validate(module.ring_world(n) | {"rounds": rounds}, {})


def arrays_of(*holders) -> dict[str, np.ndarray]:
    return {
        f"{type(h).__name__}.{name}": value
        for h in holders
        for name, value in vars(h).items()
        if isinstance(value, np.ndarray)
    }


def test_no_state_grows_with_the_square_of_the_actors():
    # 300 actors, one replicate: a pair-of-actors array would hold 90,000 values; everything
    # the world declares (5,700 options, 1,320 dyads, 2 rounds of history) stays far below a quarter of that
    n = 300
    model = EscalationModel(ring(n), replicates=1, rng=0)
    model.step()
    arrays = arrays_of(model, model.reach, model.tables, model.watches)
    largest = max(arrays, key=lambda name: arrays[name].size)
    assert arrays[largest].size < n * n / 4, f"{largest} has {arrays[largest].size} values for {n} actors"


def test_pair_state_has_a_row_per_declared_dyad_and_a_neutral_outside_row():
    n, R = 100, 3
    model = EscalationModel(ring(n), replicates=R, rng=0)
    for _ in range(2):
        step_keeping_what_choices_read(model)
    d = model.dyads
    assert d.size <= 5 * n  # four neighbours each way, and the sponsors' and treaties' few more
    for array in (model.hostility, model.stance, model.posture, model.attacking, model.reach.threat):
        assert array.shape == (d.size + 1, R)
    far = d.rows(0, n // 2)  # two actors half the ring apart deal with nothing of each other
    assert far == d.size
    assert (model.hostility[far] == 0).all() and not model.attacking[far].any()
    assert (model.stance[far] == model.tables.rung[model.tables.neutral] / model.tables.top).all()
    assert (model.hostility[: d.size] > 0).any(), "hostility moved on the declared dyads"


def test_dyads_index_and_densify():
    d = Dyads(4, [(2, 1), (0, 3), (1, 2), (0, 3)])
    assert d.size == 3
    np.testing.assert_array_equal(d.rows([0, 1, 2, 3], [3, 2, 1, 0]), [0, 1, 2, 3])
    np.testing.assert_array_equal(d.reverse, [3, 2, 1, 3])  # (0, 3) has no (3, 0); the outside row maps to itself
    dense = d.dense(np.array([0.5, 0.25, 0.75, 0.0]))
    assert dense[0, 3] == 0.5 and dense[1, 2] == 0.25 and dense[2, 1] == 0.75 and dense.sum() == 1.5


def test_results_tables_name_more_actors_than_an_int8_code_holds():
    from sim.engine.outcomes import runs_table, trajectory_table

    model = EscalationModel(ring(130, rounds=1), replicates=2, rng=0)
    model.step()
    runs_table(model, 0)  # each actor's columns, labelled
    targets = trajectory_table(model, 0).column("target.a0128").to_pylist()
    assert set(targets) <= {"a0126", "a0127", "a0129", "a0000"}  # its neighbours on the ring (codes up to 129)
