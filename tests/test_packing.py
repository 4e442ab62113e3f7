"""Packed blocks and one-replicate replays (engine/streams.py, experiments/packing.py), as behaviour.

The engine's draws have the replicates on their last axis and depend on the structure alone;
on that rule a packed model gives each point the rows it gives alone, byte for byte, and a
replicate replayed alone is the replicate of its block. Streams refuse draws that break the rule.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.engine.model import EscalationModel, block_generator, resolve_scenario
from sim.engine.outcomes import runs_table
from sim.engine.streams import PackedStreams, ReplicateStream, StreamError
from sim.engine.tracer import Tracer
from sim.experiments import ensemble
from sim.experiments import sweeps as sweep_module
from sim.experiments.ensemble import BlockTask
from sim.experiments.packing import pack_runs, packable, packs, per_run_path
from sim.report.trace import replay
from sim.scenario import Distribution
from sim.scenario.loader import with_overrides
from sim.scenario.params import numbers

RESOLVE = "actors.south_korea.resolve"
CREDIBILITY = "red_lines.south_korea.precision_weapons.credibility"


def finished(scenario, replicates, rng):
    model = EscalationModel(scenario, replicates=replicates, rng=rng)
    while model.running:
        model.step()
    return model


# -- the streams --------------------------------------------------------------------------------


def test_a_packed_draw_is_each_members_own_draw_side_by_side():
    members = [(block_generator(5, p, 0), n, None) for p, n in enumerate((3, 4))]
    packed = PackedStreams(members)
    alone = [block_generator(5, p, 0) for p in range(2)]
    assert np.array_equal(packed.random((2, 7)), np.concatenate([alone[0].random((2, 3)), alone[1].random((2, 4))], axis=-1))
    assert np.array_equal(packed.beta(2, 3, size=7), np.concatenate([alone[0].beta(2, 3, size=3), alone[1].beta(2, 3, size=4)]))
    picked = packed.choice(3, size=7, p=[0.2, 0.3, 0.5])
    assert np.array_equal(picked, np.concatenate([alone[0].choice(3, size=3, p=[0.2, 0.3, 0.5]),
                                                  alone[1].choice(3, size=4, p=[0.2, 0.3, 0.5])]))


def test_a_replicate_stream_keeps_its_column_of_the_blocks_draw():
    stream = ReplicateStream(block_generator(5, 0, 0), 6, 4)
    block = block_generator(5, 0, 0)
    assert np.array_equal(stream.standard_normal((3, 1)), block.standard_normal((3, 6))[:, 4:5])
    assert np.array_equal(stream.uniform(0.2, 0.4, size=1), block.uniform(0.2, 0.4, size=6)[4:5])


@pytest.mark.parametrize("stream", [PackedStreams([(block_generator(1), 3, None), (block_generator(2), 2, None)]),
                                    ReplicateStream(block_generator(1), 5, 0)], ids=["packed", "replicate"])
def test_a_draw_that_breaks_the_rule_is_refused_loudly(stream):
    with pytest.raises(StreamError, match="on the last axis"):
        stream.random((stream.replicates, 2))  # replicates first
    with pytest.raises(StreamError, match="on the last axis"):
        stream.random(17)  # a count that depends on the state
    with pytest.raises(StreamError, match="without a size"):
        stream.random()
    with pytest.raises(StreamError, match="not a draw these streams can split"):
        stream.exponential(1.0, size=stream.replicates)
    with pytest.raises(StreamError, match="array argument"):
        stream.normal(np.zeros(stream.replicates), 1.0, size=stream.replicates)


# -- the engine keeps the rule ------------------------------------------------------------------


def test_a_packed_block_gives_each_point_its_own_rows_even_with_every_parameter_changed():
    """Point 1 changes every per-run number of the world: were any read from the scenario
    instead of the parameter store, its packed rows would be point 0's model's, not its own."""
    base = resolve_scenario("baseline", {"rounds": 6})
    changes = {p: v * 0.9 for p, v in numbers(base) if not isinstance(v, Distribution) and per_run_path(base, p)}
    points = [base, with_overrides(base, changes)]
    sizes = [20, 30]
    tasks = [BlockTask(s, 11, p, 0, n, trajectories=False) for p, (s, n) in enumerate(zip(points, sizes))]
    packed = ensemble.simulate_pack(tasks)
    for task, result in zip(tasks, packed):
        alone = ensemble.simulate_block(task)
        assert result.runs.equals(alone.runs)
    assert not packed[0].runs.drop(["run"]).equals(packed[1].runs.slice(0, 20).drop(["run"]))


def test_a_replicate_replayed_alone_is_its_blocks_replicate_and_the_tracer_draws_nothing():
    scenario = resolve_scenario("baseline", {"rounds": 8})
    block = runs_table(finished(scenario, 40, block_generator(3, 0, 0)), 0)
    for replicate in (0, 39):
        tracer, row = replay(scenario, 3, 0, 40, replicate)
        assert row == block.slice(replicate, 1).to_pylist()[0]
        traced = ReplicateStream(block_generator(3, 0, 0), 40, replicate)
        untraced = ReplicateStream(block_generator(3, 0, 0), 40, replicate)
        model = EscalationModel(scenario, replicates=1, rng=traced)
        Tracer.attach(model, 0)
        while model.running:
            model.step()
        finished(scenario, 1, untraced)
        assert traced.block.bit_generator.state == untraced.block.bit_generator.state


# -- packing in sweeps ---------------------------------------------------------------------------


def test_only_per_run_parameters_let_points_share_a_model():
    base = resolve_scenario("baseline")
    assert per_run_path(base, RESOLVE) and per_run_path(base, CREDIBILITY)
    assert per_run_path(base, "actors.south_korea.hostility.north_korea")
    assert not per_run_path(base, "rounds") and not per_run_path(base, "actions.war.detection")
    assert not per_run_path(base, "actions.war.rung") and not per_run_path(base, "no.such.path")
    assert packable(base, [RESOLVE, "rounds"], [(0.2, 6), (0.5, 6)])  # rounds is the same everywhere
    assert not packable(base, [RESOLVE, "rounds"], [(0.2, 6), (0.5, 8)])


def test_packs_group_single_block_chunks_within_the_limit_in_order():
    class Item:
        def __init__(self, name, runs, blocks=1):
            self.name, self.runs, self.tasks = name, runs, (None,) * blocks

    items = [Item("a", 300), Item("b", 300), Item("c", 300), Item("big", 900, blocks=2), Item("d", 300)]
    grouped = [[i.name for i in group] for group in packs(items, 600)]
    assert grouped == [["a", "b"], ["c"], ["big"], ["d"]]
    assert [[i.name for i in g] for g in packs(items, 600, allowed=False)] == [["a"], ["b"], ["c"], ["big"], ["d"]]
    assert pack_runs(64_000, 1) == ensemble.BLOCK and pack_runs(64_000, 2) == 8_000


def digest(path: Path) -> str:
    return hashlib.sha256((path / "runs.parquet").read_bytes()).hexdigest()


def test_a_sweep_is_byte_identical_whatever_the_packing(tmp_path, monkeypatch):
    options = {"vary": [f"{RESOLVE}=0.2:0.8:3", f"{CREDIBILITY}=0.3,0.7", "rounds=4"], "runs": 60, "seed": 4,
               "workers": 1}
    packed = sim.sweep("baseline", out=tmp_path / "packed", **options)  # one model for all six points
    by_pairs = {}
    for limit in (1, 120):  # every point alone; two points a model
        monkeypatch.setattr(sweep_module, "pack_runs", lambda runs, workers, limit=limit: limit)
        by_pairs[limit] = sim.sweep("baseline", out=tmp_path / f"limit-{limit}", **options)
    assert digest(packed.path) == digest(by_pairs[1].path) == digest(by_pairs[120].path)


def test_packed_blocks_answer_the_scenarios_measures_as_blocks_run_alone(tmp_path):
    # One measure reads runs.parquet alone, one needs the trajectories (it names a target):
    # a packed model evaluates both on each block's own slice of runs. Called directly, since a
    # sweep whose packed model fails runs its points alone.
    import yaml

    file = tmp_path / "measured.yaml"
    file.write_text(yaml.safe_dump({
        "name": "measured", "extends": "baseline", "description": "Measures under packing.", "sources": ["judgement"],
        "measures": {
            "clash": {"question": "a North Korean border clash", "kind": "takes", "actor": "north_korea",
                      "action": "border_clash"},
            "shows_us": {"question": "Russia shows force to the United States", "kind": "takes", "actor": "russia",
                         "action": "show_of_force", "target": "united_states"}}}), encoding="utf-8")
    base = resolve_scenario(str(file), {"rounds": 6})
    tasks = [BlockTask(with_overrides(base, {RESOLVE: resolve}), 4, point, 0, 150, trajectories=False)
             for point, resolve in enumerate((0.2, 0.5, 0.8))]
    packed = ensemble.simulate_pack(tasks)
    for task, block in zip(tasks, packed):
        alone = ensemble.simulate_block(task).runs
        assert block.runs.equals(alone)
        assert any(alone.column("measure.clash").to_pylist()) and any(alone.column("measure.shows_us").to_pylist())


@pytest.mark.slow  # starts a Dask LocalCluster (about 2 s)
def test_dask_local_workers_run_without_a_fixed_malloc_trim_threshold():
    pytest.importorskip("distributed")
    from sim.experiments.executors import DaskExecutor

    with DaskExecutor(2) as executor:
        values = executor._client.run(os.environ.get, "MALLOC_TRIM_THRESHOLD_")
    assert len(values) == 2 and set(values.values()) == {None}


def test_blocks_run_with_the_imports_frozen_out_of_the_collectors_reach():
    import gc

    scenario = resolve_scenario("baseline", {"rounds": 2})
    ensemble.simulate_block(BlockTask(scenario, 1, 0, 0, 5, trajectories=False))
    assert gc.get_freeze_count() > 0


@pytest.mark.slow  # starts a Dask LocalCluster with Dask's own defaults (several seconds)
def test_a_sweep_sent_to_workers_with_the_trim_threshold_set_warns():
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    from sim.experiments.executors import DaskExecutor, DaskWorkerWarning

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        with pytest.warns(DaskWorkerWarning, match="MALLOC_TRIM_THRESHOLD_ set"):
            DaskExecutor(address=cluster.scheduler_address).close()
