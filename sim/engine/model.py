"""EscalationModel(mesa.Model): a block of R replicates advanced in lockstep, one round a step.

Every piece of state is an array whose first axis is the replicate. A round (DESIGN section 3):
1 injects, 2 perception, 3 commitments and red lines, 4 policies, 5 chance, 6 state updates.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from .agents import Actor
from .draws import Draws
from .redlines import STATUSES, check_commitments, check_red_lines, compile_commitments, compile_red_lines
from ..scenario import Scenario, load_scenario
from ..scenario.loader import Overrides, with_overrides
from .tables import compile_tables

ScenarioRef = str | Path | Scenario


def block_generator(seed: int | None, point: int = 0, block: int = 0) -> np.random.Generator:
    """The Generator of one block of replicates (DESIGN section 2: one per (point, block))."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(point, block)))


def resolve_scenario(scenario: ScenarioRef, overrides: Overrides | None = None) -> Scenario:
    """A loaded scenario from a name, a file or a Scenario, with overrides applied and validated."""
    if isinstance(scenario, Scenario):
        return with_overrides(scenario, overrides) if overrides else scenario
    return load_scenario(scenario, overrides)


class EscalationModel(mesa.Model):
    """Red lines, commitments and action-response rounds for `replicates` independent runs.

    `rng` (or Mesa's older `seed`) is an int, a SeedSequence entropy or a Generator; an int seeds
    block 0 of point 0, so `EscalationModel(s, replicates=R, rng=S)` reproduces the first block
    of `sim run s --seed S`. Keyword overrides use `__` for dots: `actors__south_korea__resolve=0.9`.
    """

    def __init__(
        self,
        scenario: ScenarioRef = "baseline",
        replicates: int = 1,
        rng: Any = None,
        seed: Any = None,
        overrides: Mapping[str, Any] | None = None,
        **dotted_overrides: Any,
    ):
        if seed is not None and rng is not None:
            raise ValueError("pass rng or seed, not both")
        rng = seed if rng is None else rng
        generator = rng if isinstance(rng, np.random.Generator) else block_generator(rng)
        super().__init__(rng=generator)
        changes = {**(overrides or {}), **{k.replace("__", "."): v for k, v in dotted_overrides.items()}}
        self.scenario = resolve_scenario(scenario, changes)
        self.replicates = int(replicates)
        self.round = 0
        self.tables = compile_tables(self.scenario)
        self._nearest_offset = np.arange(len(self.tables.actors)) * (self.tables.top + 1)
        self._rows = np.arange(self.replicates)
        self.draws = Draws(self.scenario, self.rng, self.replicates)
        self._init_dynamics()
        self._init_state()
        self.red_lines = compile_red_lines(self)
        self.commitments = compile_commitments(self)
        self._init_injects()
        self._init_state_variables()
        self.actors_by_index = [Actor(self, actor_id) for actor_id in self.tables.actors]
        self.intelligence = np.stack([a.intelligence for a in self.actors_by_index], axis=1)  # (R, observer)
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "round": lambda m: m.round,
                "mean_top_rung": lambda m: float(m.tables.rung[m.action].max(axis=1).mean()),
                "mean_escalation_points": lambda m: float(m.tables.score[m.action].sum(axis=1).mean()),
            }
        )

    # -- set-up -------------------------------------------------------------------------------

    def _init_dynamics(self) -> None:
        d, draw = self.scenario.dynamics, self.draws

        def block(name: str, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
            section = getattr(d, name)
            return {k: draw(f"dynamics.{name}.{k}", getattr(section, k)) for k in keys}

        self.perception = block("perception", ("misperception", "spiral_bias"))
        hostility = block("hostility", ("reaction", "fatigue", "approach"))
        self.reaction, self.fatigue, self.approach = hostility["reaction"], hostility["fatigue"], hostility["approach"]
        self.credibility_rates = block("credibility", ("gain", "loss", "spillover"))
        self.enforcement = block("enforcement", ("bias", "resolve", "audience", "risk"))
        self.chance = block("chance", ("base", "slope"))
        self.utility_weights = block("utility", ("hostility", "escalation_aversion", "deterrence"))

    def _init_state(self) -> None:
        s, t, R = self.scenario, self.tables, self.replicates
        n, rounds = len(t.actors), s.rounds
        self.action = np.full((R, n), t.neutral, dtype=np.int64)
        self.target = np.full((R, n), -1, dtype=np.int64)
        self.next_action = self.action.copy()
        self.next_target = self.target.copy()
        self.forced_action = np.full((R, n), -1, dtype=np.int64)
        self.forced_target = np.full((R, n), -1, dtype=np.int64)
        self.perceived = np.full((R, n, n), t.neutral, dtype=np.int64)
        self.pressure = np.full((R, n, n), t.rung[t.neutral] / t.top)
        self.hostility = np.zeros((R, n, n))
        for i, aid in enumerate(t.actors):
            for other, value in s.actors[aid].hostility.items():
                self.hostility[:, i, t.index(other)] = self.draws(f"actors.{aid}.hostility.{other}", value)
        self.hostility_start = self.hostility.copy()
        self.credibility = np.stack(
            [
                np.repeat(self.draws(f"red_lines.{lid}.credibility", line.credibility)[:, None], n, axis=1)
                for lid, line in s.red_lines.items()
            ],
            axis=1,
        ) if s.red_lines else np.zeros((R, 0, n))
        self.audience_cost = np.zeros((R, n))
        initial_status = [STATUSES.index(c.status) for c in s.commitments.values()]
        self.status = np.tile(np.array(initial_status, dtype=np.int64), (R, 1))
        self.state_values = np.stack(
            [self.draws(f"state.{vid}.initial", v.initial) for vid, v in s.state.items()], axis=1
        ) if s.state else np.zeros((R, 0))
        self.first_crossed = np.zeros((R, len(s.red_lines)), dtype=np.int16)
        self.enforced_first = np.zeros((R, len(s.red_lines)), dtype=bool)
        self.first_taken = np.zeros((R, n, len(t.actions)), dtype=np.int16)
        self.peak_rung = np.zeros((R, n), dtype=np.int64)
        self.score_total = np.zeros(R)
        self.history_action = np.zeros((rounds, R, n), dtype=np.int8)
        self.history_target = np.zeros((rounds, R, n), dtype=np.int8)

    def _init_injects(self) -> None:
        s = self.scenario
        self.inject_fires = {
            iid: self.rng.random(self.replicates) < self.draws(f"injects.{iid}.probability", inject.probability)
            for iid, inject in s.injects.items()
        }
        self.inject_values = {
            (iid, vid): self.draws(f"injects.{iid}.set_state.{vid}", value)
            for iid, inject in s.injects.items()
            for vid, value in inject.set_state.items()
        }
        self._state_index = {vid: v for v, vid in enumerate(s.state)}
        self._commitment_index = {cid: c for c, cid in enumerate(s.commitments)}

    def _init_state_variables(self) -> None:
        """Drifts, drivers and effects of the state variables, as arrays over the replicates."""
        t, s = self.tables, self.scenario
        self.drift = [self.draws(f"state.{vid}.drift", var.drift) for vid, var in s.state.items()]
        self.drivers = [
            [
                (t.index(d.actor), t.action_index(d.actions), self.draws(f"state.{vid}.drivers[{k}].delta", d.delta))
                for k, d in enumerate(var.drivers)
            ]
            for vid, var in s.state.items()
        ]
        self.effects = [
            (v, t.actions.index(e.action), t.index(e.actor), self.draws(f"state.{vid}.effects[{k}].weight", e.weight))
            for v, (vid, var) in enumerate(s.state.items())
            for k, e in enumerate(var.effects)
        ]

    def effects_on(self, actor: int) -> list[tuple[int, int, np.ndarray]]:
        """(state variable, action, weight) of the state effects on `actor`'s utilities."""
        return [(v, k, w) for v, k, a, w in self.effects if a == actor]

    # -- the round ------------------------------------------------------------------------------

    def step(self) -> None:
        self.round += 1
        self.forced_action.fill(-1)
        self.forced_target.fill(-1)
        self._apply_injects()
        self._perceive()
        check_commitments(self)
        check_red_lines(self)
        for actor in self.actors_by_index:
            actor.step()
        self._chance()
        self._update()
        self.datacollector.collect(self)
        self.running = self.round < self.scenario.rounds
        if not self.running:
            # Mesa 3.3 keeps every model alive in a class-level id counter keyed by model
            # (mesa.Agent._ids); drop ours when the run ends so memory stays flat over blocks.
            mesa.Agent._ids.pop(self, None)

    def _apply_injects(self) -> None:
        t = self.tables
        for iid, inject in self.scenario.injects.items():
            if not inject.round <= self.round <= (inject.until or inject.round):
                continue
            fires = self.inject_fires[iid]
            for actor, move in inject.force.items():
                i = t.index(actor)
                self.forced_action[fires, i] = t.actions.index(move.action)
                self.forced_target[fires, i] = t.index(move.target)
            for vid in inject.set_state:
                v = self._state_index[vid]
                self.state_values[:, v] = np.where(fires, self.inject_values[(iid, vid)], self.state_values[:, v])
            for cid, status in inject.set_status.items():
                c = self._commitment_index[cid]
                self.status[fires, c] = STATUSES.index(status)

    def _perceive(self) -> None:
        """Each observer's reading of every actor's last move: covert moves may go unseen, and the
        rung is read with noise that grows as intelligence falls and tilts up with hostility (Jervis)."""
        t, R, n = self.tables, self.replicates, len(self.tables.actors)
        true_rung = t.rung[self.action]  # (R, actor)
        sd = (self.perception["misperception"][:, None] * (1.0 - self.intelligence)).astype(np.float32)
        reading = self.rng.standard_normal((R, n, n), dtype=np.float32)
        reading *= sd[:, :, None]
        reading += (self.perception["spiral_bias"][:, None, None] * self.hostility).astype(np.float32)
        reading += true_rung[:, None, :]
        read_rung = np.clip(np.rint(reading), 0, t.top).astype(np.intp)
        misread = t.nearest.ravel()[read_rung + self._nearest_offset]
        perceived = np.where(read_rung == true_rung[:, None, :], self.action[:, None, :], misread)
        covert = ~t.public[self.action]
        if covert.any():
            visibility = t.detection[self.action][:, None, :] * self.intelligence[:, :, None]
            unseen = covert[:, None, :] & (self.rng.random((R, 1, n)) >= visibility)
            perceived[unseen] = t.neutral
        self.perceived = perceived
        self.pressure.fill(t.rung[t.neutral] / t.top)
        for j, observer, seen in self._aimed_moves():
            self.pressure[self._rows, observer, j] = t.rung[seen] / t.top

    def _aimed_moves(self) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """For each actor j that aimed its last move at someone: (j, that observer, what it saw)."""
        aimed = []
        for j in range(len(self.tables.actors)):
            observer = self.target[:, j]
            if (observer >= 0).all():  # before the first round nobody has aimed at anyone
                aimed.append((j, observer, self.perceived[self._rows, observer, j]))
        return aimed

    def _chance(self) -> None:
        """The threat that leaves something to chance: the highest move may slip one step up the
        mover's ladder toward the same target, more likely the higher the move and the more
        hostile the mover is to its target (accidents happen between adversaries)."""
        t = self.tables
        rungs = t.rung[self.next_action]
        top = rungs.max(axis=1)
        leader = rungs.argmax(axis=1)
        rows = np.arange(self.replicates)
        aimed_at = self.next_target[rows, leader]
        enmity = self.hostility[rows, leader, aimed_at]
        p_slip = (self.chance["base"] + self.chance["slope"] * (top / t.top) ** 2) * enmity
        slip = (self.rng.random(self.replicates) < p_slip) & (self.forced_action[rows, leader] < 0)
        rows, leader = rows[slip], leader[slip]
        moved = t.next_up[leader, self.next_target[rows, leader], self.next_action[rows, leader]]
        self.next_action[rows, leader] = moved

    def _update(self) -> None:
        t, h = self.tables, self.hostility
        for j, observer, seen in self._aimed_moves():
            felt = t.points[seen]
            before = h[self._rows, observer, j]
            h[self._rows, observer, j] = before + self.reaction * felt * np.where(felt > 0, 1 - before, before)
        h -= self.fatigue[:, None, None] * (h - self.hostility_start)
        np.clip(h, 0.0, 1.0, out=h)
        self._update_state_variables()
        self.action, self.next_action = self.next_action, self.action
        self.target, self.next_target = self.next_target, self.target
        self._record()

    def _update_state_variables(self) -> None:
        for v, drivers in enumerate(self.drivers):
            change = self.drift[v].copy()
            for actor, actions, delta in drivers:
                change += np.isin(self.next_action[:, actor], actions) * delta
            self.state_values[:, v] = np.clip(self.state_values[:, v] + change, 0.0, 1.0)

    def _record(self) -> None:
        t, r = self.tables, self.round
        rows = np.arange(self.replicates)
        self.history_action[r - 1] = self.action
        self.history_target[r - 1] = self.target
        np.maximum(self.peak_rung, t.rung[self.action], out=self.peak_rung)
        self.score_total += t.score[self.action].sum(axis=1)
        for i in range(len(t.actors)):
            cell = (rows, i, self.action[:, i])
            self.first_taken[cell] = np.where(self.first_taken[cell] == 0, r, self.first_taken[cell])
