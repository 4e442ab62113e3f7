"""EscalationModel(mesa.Model): a block of R replicates advanced in lockstep, one round a step.

Every piece of state is an array whose *last* axis is the replicate (options, actors or lines
first): rows of one option or actor are contiguous, which makes the per-group reductions of a
round fast (see perception.Groups). Decisions and records are arrays over *options* (an allowed
actor, action and target; see tables.py). A round
(docs/design.md, "The model"): 1 injects and responses falling due, 2 perception of last round's
events and the options open to each actor (reach.py), 3 commitments and red lines, 4 agreements,
5 each actor's stops and picks, 6 incidents, 7 hostility and state updates, 8 records.

Every random draw has the replicate as its last axis and a size fixed by the scenario, never by
what happened (`rng.random((k, R))`, never `rng.random(mask.sum())`): a traced run can then be
replayed alone by slicing its column of each of the block's draws.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from . import commitments as commitment_rules
from . import policies
from . import redlines as red_line_rules
from .agents import Actor
from .agreements import breaks, compile_agreements, in_force_at_start, negotiate
from .causes import CHOICE, INCIDENT, INJECT, REPLY, THRESHOLD
from .clock import Clock
from .incidents import Incidents
from .outcomes import class_countings, record_counted
from .commitments import STATUSES, check_commitments, compile_commitments
from .dyads import declared_dyads
from .parameters import block_parameters
from .perception import NONE, Groups, Watches
from .reach import Reach, at_war
from .redlines import check_red_lines, compile_red_lines, record_facts
from .tables import compile_tables
from .tracer import Tracer
from ..scenario import Scenario, load_scenario
from ..scenario.loader import Overrides, with_overrides

ScenarioRef = str | Path | Scenario


def block_generator(seed: int | None, point: int = 0, block: int = 0) -> np.random.Generator:
    """The Generator of one block of replicates (docs/design.md, "Seeding": one per (point, block))."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(point, block)))


def resolve_scenario(scenario: ScenarioRef, overrides: Overrides | None = None) -> Scenario:
    """A loaded scenario from a name, a file or a Scenario, with overrides applied and validated."""
    if isinstance(scenario, Scenario):
        return with_overrides(scenario, overrides) if overrides else scenario
    return load_scenario(scenario, overrides)


class EscalationModel(mesa.Model):
    """Red lines, commitments, agreements and standing activities for `replicates` independent runs.

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
        self.tracer: Tracer | None = None  # set one to record a replicate's details (sim trace)
        changes = {**(overrides or {}), **{k.replace("__", "."): v for k, v in dotted_overrides.items()}}
        self.scenario = resolve_scenario(scenario, changes)
        self.replicates = int(replicates)
        self.round = 0
        self.tables = compile_tables(self.scenario)
        self.clock = Clock.of(self.scenario)
        self.params = block_parameters(self.scenario, self.rng, self.replicates)
        self.watches = Watches(
            self.tables,
            red_line_rules.watches_of(self) + commitment_rules.watches_of(self) + policies.watches_of(self),
        )
        self.dyads = declared_dyads(self.scenario, self.tables, self.watches)
        self._init_state()
        self.red_lines = compile_red_lines(self)
        self.commitments = compile_commitments(self)
        self.agreements = compile_agreements(self)
        self._init_injects()
        self._init_state_variables()
        self.reach = Reach(self)
        self.incidents = Incidents(self)
        self.actors_by_index = [Actor(self, actor_id) for actor_id in self.tables.actors]
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "round": lambda m: m.round,
                "mean_new_peak": lambda m: float(m.peak_new.mean()),
                "mean_activities_in_force": lambda m: float(m.in_force.sum(axis=0).mean()),
            }
        )

    # -- set-up -------------------------------------------------------------------------------

    def _init_state(self) -> None:
        s, t, R, p = self.scenario, self.tables, self.replicates, self.params
        n, O = len(t.actors), t.options
        self.option_rung = t.rung[t.action]
        self.option_points = t.points[t.action]
        self.option_activity = t.activity[t.action]
        self.start_force = np.zeros(O, dtype=bool)
        routine = np.zeros(O, dtype=bool)  # moves taken as a matter of course before the start
        for aid, actor in s.actors.items():
            for move in actor.activities:
                self.start_force[t.option(aid, move.action, move.target)] = True
            for move in actor.routine:
                routine[t.option(aid, move.action, move.target)] = True
        self.in_force = np.repeat(self.start_force[:, None], R, axis=1)
        self.events = np.zeros((O, R), dtype=bool)
        self.last_events = np.zeros((O, R), dtype=bool)
        self.events_before_last = np.zeros((O, R), dtype=bool)
        self.stopped = np.zeros((O, R), dtype=bool)
        self.last_stopped = np.zeros((O, R), dtype=bool)
        self.chosen = np.zeros((O, R), dtype=bool)
        self.forced_start = np.zeros((O, R), dtype=bool)
        self.forced_cause = np.zeros((O, R), dtype=np.int8)
        self.incident = np.zeros((O, R), dtype=bool)
        self.open = np.ones((O, R), dtype=bool)
        self._at_war: np.ndarray | None = None
        self.first_force_cause = np.zeros(R, dtype=np.int8)
        self.forced_stop = np.zeros((O, R), dtype=bool)
        self.due: dict[int, np.ndarray] = {}
        d = self.dyads
        self.option_dyad = d.declared(t.actor, t.against)  # the dyad (actor, against) of each option
        self.watch_dyad = d.declared(self.watches.observer, self.watches.actor)
        self.sponsor_of = np.array([t.index(a.sponsor) if a.sponsor else -1 for a in s.actors.values()], dtype=np.int64)
        sponsor = self.sponsor_of[self.watches.actor]  # of each watch's actor, -1 if none
        self.watch_sponsor_dyad = np.where(sponsor >= 0, d.rows(self.watches.observer, np.maximum(sponsor, 0)), d.size)
        self.by_dyad = Groups(self.option_dyad, d.size + 1)
        self.by_actor_action = Groups(t.actor * len(t.actions) + t.action, n * len(t.actions))
        self.by_actor = Groups(t.actor, n)
        start_rung = np.where(self.start_force | routine, self.option_rung, NONE)[:, None]
        self.baseline = self.by_dyad.max(start_rung)[:, 0]  # per dyad (actor, against)
        # pair state is per declared dyad, replicates last; the outside row is neutral (dyads.py)
        self.hostility = d.state(0.0, R)
        for i, aid in enumerate(t.actors):
            for other in s.actors[aid].hostility:
                self.hostility[d.declared(i, t.index(other))] = p[f"actors.{aid}.hostility.{other}"]
        self.hostility_start = self.hostility.copy()  # (dyads + 1, 1) where no run starts apart
        if (self.hostility_start == self.hostility_start[:, :1]).all():
            self.hostility_start = self.hostility_start[:, :1].copy()
        self.credibility = np.zeros((len(s.red_lines), n, R))
        for index, lid in enumerate(s.red_lines):
            self.credibility[index] = p[f"red_lines.{lid}.credibility"][None, :]
        self.audience_cost = np.zeros((n, R))
        statuses = np.array([STATUSES.index(c.status) for c in s.commitments.values()], dtype=np.int64)
        self.status = np.repeat(statuses[:, None], R, axis=1)
        self.first_invoked = np.zeros((len(s.commitments), R), dtype=np.int16)
        self.agreed = np.repeat(in_force_at_start(s)[:, None], R, axis=1)
        self.first_agreed = np.where(self.agreed, 0, -1).astype(np.int16)
        self.state_values = np.stack([p[f"state.{vid}.initial"] for vid in s.state]) if s.state else np.zeros((0, R))
        self.seen = np.full((len(self.watches.couples), R), NONE, dtype=np.int16)
        self.stance = d.state(t.rung[t.neutral] / t.top, R)
        self.attacking = d.state(False, R, bool)
        self.first_crossed = np.zeros((len(s.red_lines), R), dtype=np.int16)  # first round the owner saw it
        self.first_fact = np.zeros((len(s.red_lines), R), dtype=np.int16)  # first round it was crossed
        self.enforced_first = np.zeros((len(s.red_lines), R), dtype=bool)
        start_taken = self.by_actor_action.any(self.start_force[:, None], compact=True)
        self.first_taken = np.repeat(np.where(start_taken, 0, -1).astype(np.int16), R, axis=1)
        self.rounds_taken = np.zeros((len(self.by_actor_action.members), R), dtype=np.int16)
        self.peak_new = np.zeros(R, dtype=np.int16)
        self.peak_round = np.zeros(R, dtype=np.int16)
        self.peak_new_actor = np.zeros((n, R), dtype=np.int16)
        self.peak_event_actor = np.zeros((n, R), dtype=np.int16)
        self.score_total = np.zeros(R)
        self.history_top = np.zeros((s.rounds, n, R), dtype=np.int16)
        # per round, events and activities in force, 8 replicates a byte (np.packbits along the
        # replicates): read back only for the trajectories table, at an eighth of the memory
        self.history_events = np.zeros((s.rounds, O, (R + 7) // 8), dtype=np.uint8)
        self.history_activities = np.zeros((s.rounds, O, (R + 7) // 8), dtype=np.uint8)
        self._scored = [(o, float(t.score[t.action[o]])) for o in range(O) if t.score[t.action[o]] != 0]
        # (rung, option) packed, + 1 so that 0 is "none" (see perception.Watches for why)
        self._option_key = ((self.option_rung << 16 | np.arange(O)) + 1).astype(np.int32)[:, None]
        # options whose events count as new: escalation above what the actor had in force against
        # that party at the start (the outcome classes and `settled` measure these)
        self.new_above = (self.option_points > 0) & (self.option_rung > self.baseline[self.option_dyad])
        self._direct_rung_key = ((self.option_rung + 1) * (t.target == t.against)).astype(np.int16)[:, None]
        self._escalation_points = np.maximum(self.option_points, 0.0)[:, None]
        self.posture = d.state(0.0, R)
        self._new_rung = (self.option_rung * self.new_above).astype(np.int16)[:, None]
        self._new_force_rows = np.flatnonzero(self.new_above & t.attack[t.action])
        self.countings, self.class_counting = class_countings(self)
        # activity levels (docs/design.md, "Activity levels"): the level of the options that have
        # several, 0 when not in force; a raise is a pick of one in force below its top level
        self.leveled = np.flatnonzero(t.levels[t.action] > 1)
        self.top_level = t.levels[t.action][self.leveled][:, None]
        self.level = self.in_force[self.leveled].astype(np.int8)
        self.peak_level = self.level.copy()
        self.raised = np.zeros((len(self.leveled), R), dtype=bool)
        self.peak_counted = np.zeros((len(self.countings), R), dtype=np.int16)

    def _init_injects(self) -> None:
        s, t = self.scenario, self.tables
        self.inject_fires = {
            iid: self.rng.random(self.replicates) < self.params[f"injects.{iid}.probability"]
            for iid in s.injects
        }
        self._state_index = {vid: v for v, vid in enumerate(s.state)}
        self._commitment_index = {cid: c for c, cid in enumerate(s.commitments)}
        self._agreement_index = {gid: g for g, gid in enumerate(s.agreements)}
        self.inject_options = {
            iid: (
                [t.option(a, m.action, m.target) for a, m in inject.force.items()],
                [t.option(a, m.action, m.target) for a, moves in inject.stop.items() for m in moves],
            )
            for iid, inject in s.injects.items()
        }
        # a stop that holds (`for` rounds, or through the inject's `until`): per stopped option,
        # how many rounds from the one the inject acts in it stays closed to its actor's choice
        self.stop_holds = {
            iid: [(t.option(a, m.action, m.target), (m.for_ or 1) - 1) for a, moves in inject.stop.items()
                  for m in moves if m.for_ is not None or (inject.until is not None and inject.when is None)]
            for iid, inject in s.injects.items()
        }
        self.barred_through: dict[int, np.ndarray] = {}  # option -> (R,) last round it is barred
        self.conditions = {iid: self._condition(iid, inject.when) for iid, inject in s.injects.items()
                           if inject.when is not None}
        self.inject_done = {iid: np.zeros(self.replicates, dtype=bool) for iid in self.conditions}

    def _condition(self, iid: str, when) -> tuple[np.ndarray, np.ndarray, list, list]:
        """A conditional inject's event options, whether each run has seen one, and its state levels."""
        t = self.tables
        options = np.zeros(0, dtype=np.int64)
        if when.actor is not None:
            target = None if when.target is None else t.index(when.target)
            options = t.options_matching(t.index(when.actor), t.action_index([when.action]), target)
        levels = [[(self._state_index[v], f"injects.{iid}.when.{key}.{v}") for v in getattr(when, key)]
                  for key in ("state_above", "state_below")]
        return options, np.zeros(self.replicates, dtype=bool), levels[0], levels[1]

    def _holds(self, iid: str) -> np.ndarray:
        """(R,) where a conditional inject's condition holds at the start of this round: its event
        happened (taken, or in force, in an earlier round) and each state is past its level."""
        options, happened, above, below = self.conditions[iid]
        if len(options):
            happened |= (self.last_events[options] | self.in_force[options]).any(axis=0)
            holds = happened.copy()
        else:
            holds = np.ones(self.replicates, dtype=bool)
        for v, path in above:
            holds &= self.state_values[v] >= self.params[path]
        for v, path in below:
            holds &= self.state_values[v] < self.params[path]
        return holds

    def _init_state_variables(self) -> None:
        """Which options drive each state variable, by event or while in force."""
        t, s = self.tables, self.scenario
        self.drivers = [
            [
                (self._driving(d), d.while_in_force, f"state.{vid}.drivers[{k}].delta")
                for k, d in enumerate(var.drivers)
            ]
            for vid, var in s.state.items()
        ]

    def _driving(self, driver) -> np.ndarray:
        """The options of a state variable's driver: its actor's, of its actions, toward its targets."""
        t = self.tables
        options = t.options_matching(t.index(driver.actor), t.action_index(driver.actions))
        if driver.targets:
            options = options[np.isin(t.target[options], [t.index(x) for x in driver.targets])]
        return options

    # -- the round ------------------------------------------------------------------------------

    def step(self) -> None:
        self.round += 1
        self.forced_cause = self.due.pop(self.round, None)
        if self.forced_cause is None:
            self.forced_cause = np.zeros(self.events.shape, dtype=np.int8)
        self.forced_start = self.forced_cause > 0
        self._at_war = None
        self.forced_stop = np.zeros_like(self.events)
        self._apply_injects()
        self._perceive()
        if self.tracer is not None:
            self.tracer.perceived(self)
        check_commitments(self, self.seen)
        check_red_lines(self, self.seen)
        negotiate(self)
        for actor in self.actors_by_index:
            actor.step()
        self._apply_decisions()
        self._incidents()
        breaks(self)
        self._update_hostility()
        self._update_state_variables()
        self._record()
        if self.tracer is not None:
            self.tracer.ended_round(self)
        self.datacollector.collect(self)
        self.running = self.round < self.scenario.rounds
        if not self.running:
            # Mesa 3.3 keeps every model alive in a class-level id counter keyed by model
            # (mesa.Agent._ids); drop ours when the run ends so memory stays flat over blocks.
            mesa.Agent._ids.pop(self, None)

    def schedule(self, mask: np.ndarray, option: np.ndarray | int, lag: np.ndarray, cause: int) -> None:
        """Force `option` to start or be taken `lag` rounds from now in the replicates `mask`, for
        `cause` (OBLIGATION, RED_LINE)."""
        rows = np.flatnonzero(mask)
        if len(rows) == 0:
            return
        chosen = option[rows] if isinstance(option, np.ndarray) else np.full(len(rows), option)
        when = self.round + lag[rows]
        for r in np.unique(when):
            if r > self.scenario.rounds:
                continue
            now = when == r
            if r == self.round:
                self.forced_start[chosen[now], rows[now]] = True
                into = self.forced_cause
            else:
                into = self.due.setdefault(int(r), np.zeros(self.events.shape, dtype=np.int8))
            into[chosen[now], rows[now]] = cause

    def _apply_injects(self) -> None:
        self.inject_acting: dict[str, np.ndarray] = {}  # where each inject acts this round (sim trace)
        for iid, inject in self.scenario.injects.items():
            fires = self.inject_fires[iid]
            if iid in self.conditions:  # evaluated every round: its event may happen before its window
                holds = self._holds(iid)
                within = inject.round <= self.round <= (inject.until or self.scenario.rounds)
                fires = fires & holds & ~self.inject_done[iid] if within else np.zeros_like(fires)
                self.inject_done[iid] |= fires
                for path, value in inject.set.items() if fires.any() else ():
                    self.params.set(path, fires, value)
            else:
                if self.round == inject.round:
                    for path, value in inject.set.items():
                        self.params.set(path, fires, value)
                if not inject.round <= self.round <= (inject.until or inject.round):
                    continue
            self.inject_acting[iid] = fires
            for option, extra in self.stop_holds[iid]:
                through = self.barred_through.setdefault(option, np.zeros(self.replicates, dtype=np.int16))
                np.maximum(through, np.where(fires, self.round + extra, 0), out=through)
            starts, stops = self.inject_options[iid]
            for option in starts:
                self.forced_start[option] |= fires
                self.forced_cause[option] = np.where(fires, INJECT, self.forced_cause[option])
            for option in stops:
                self.forced_stop[option] |= fires
            for gid in inject.sign:
                g = self._agreement_index[gid]
                new = fires & (self.first_agreed[g] < 0)
                self.first_agreed[g, new] = self.round
                self.agreed[g] |= fires
            for vid in inject.set_state:
                v = self._state_index[vid]
                value = self.params[f"injects.{iid}.set_state.{vid}"]
                self.state_values[v] = np.where(fires, value, self.state_values[v])
            for cid, status in inject.set_status.items():
                self.status[self._commitment_index[cid], fires] = STATUSES.index(status)

    def _perceive(self) -> None:
        """Last round's events as each watch saw them; each actor's perceived stance toward each
        other actor (its direct activities in force against it and what it saw of its direct
        events: proxies move hostility, not stance); each actor's own posture (the escalation
        points in force against each party); and who is attacking whom (who started a fight)."""
        t, p, d = self.tables, self.params, self.dyads
        intelligence = np.stack([a.intelligence for a in self.actors_by_index])
        self.seen = self.watches.perceive(
            self.last_events, intelligence, self.hostility, self.watch_dyad,
            p["dynamics.perception.misperception"], p["dynamics.perception.spiral_bias"], self.rng,
        )
        direct_rung = self.by_dyad.max_where(self.in_force, self._direct_rung_key, 0) - 1
        self.stance = self.posture = None  # the start's (later rounds drop theirs once the choices are made)
        stance = np.maximum(direct_rung[d.reverse], t.rung[t.neutral], dtype=float)  # [observer, actor]
        # its activities in force and its moves of the last two rounds (v3: a step is measured from
        # where the actor stands, so answering fire with fire is no new escalation)
        recent = self.in_force | self.last_events
        recent |= self.events_before_last
        # [actor, against]: escalation points it has in force or just used
        self.posture = self.by_dyad.max_where(recent, self._escalation_points, 0.0)
        self.aimed = list(self._aimed_at_observers())
        w_target = self.watches.target
        for col, observer, actor, aimed in self.aimed:
            direct = aimed & (w_target[col] == observer)
            row = self.watch_dyad[col]
            stance[row] = np.maximum(stance[row], np.where(direct, t.rung[self.seen[col]], 0))
        stance /= t.top
        self.stance = stance
        # an attack answers an attack in force, or one made in the same round or the round
        # before (the one its actor saw): a reply to a strike comes a round after it
        attacks = recent & t.attack[t.action][:, None]
        self.attacking = self.by_dyad.any(attacks)
        self.open = self.reach.open_options(self, direct_rung, recent)
        for option, through in self.barred_through.items():  # a stop that holds closes the option
            self.open[option] &= self.round > through

    def drop_round_state(self) -> None:
        """Drops the arrays the rounds worked on, keeping the histories (`history_*`), once the
        last round has ended and the runs table is made: the trajectories table reads the
        histories alone, and at 950 options x 10,000 runs the rest is about 200 MB that would sit
        beside it. The model can tabulate no runs afterwards."""
        for name, value in list(vars(self).items()):
            if isinstance(value, np.ndarray) and not name.startswith("history_"):
                delattr(self, name)

    @property
    def last_active(self) -> np.ndarray:
        """(O, R): the options taken or in force in the last round ended (made when asked, for the
        outcomes: not kept, as nothing else reads it)."""
        return self.events | self.in_force

    def at_war(self) -> np.ndarray:
        """(dyads + 1, R) [actor, target]: a war in force between the actor and the target's side."""
        if self._at_war is None:
            self._at_war = at_war(self, self.reach)
        return self._at_war

    def _aimed_at_observers(self):
        """For each watch on a pair that has options against its observer: (watch, observer,
        actor, where what it saw of the actor worked against it)."""
        t, w = self.tables, self.watches
        for col in w.reactive:
            saw = self.seen[col]
            aimed = (saw >= 0) & (t.against_of[w.pair[col], np.maximum(saw, 0)] == w.observer[col])
            # a sponsored actor's watch is kept even when nothing was aimed: the blame on its
            # sponsor is drawn every round (draws depend on the structure alone, engine/streams.py)
            if aimed.any() or self.sponsor_of[w.actor[col]] >= 0:
                yield col, w.observer[col], w.actor[col], aimed

    def _apply_decisions(self) -> None:
        """Stops and picks, with what was forced: a start of an activity already in force is no
        event; a forced start overrides a stop."""
        t = self.tables
        # what the choices read is made again next round: dropped before their outcome is made,
        # which is the round's peak of memory (50 actors x 10,000 runs: about 30 MiB less, BENCHMARKS.md)
        self.stance = self.posture = self.open = None
        picks = np.zeros_like(self.events)
        stops = np.zeros_like(self.events)
        for actor in self.actors_by_index:
            decision = actor.decision
            for column in decision.picks:
                valid = column >= 0
                picks[column[valid], np.flatnonzero(valid)] = True
            stops[t.of_actor[actor.index]] = decision.stops
        # in place where it can be: each (options, R) array is 9.5 MB at 950 options and 10,000 runs
        activity = self.option_activity[:, None]
        events = picks | self.forced_start
        held = self.in_force & activity
        events &= np.invert(held, out=held)
        del held
        self.chosen = picks
        np.copyto(self.chosen, False, where=self.forced_start)
        stopped = np.logical_or(stops, self.forced_stop, out=stops)
        stopped &= self.in_force
        np.copyto(stopped, False, where=self.forced_start)
        if len(self.leveled):
            rows = self.leveled
            self.raised = self.chosen[rows] & self.in_force[rows] & ~stopped[rows] & (self.level < self.top_level)
            events[rows] |= self.raised
        in_force = np.invert(stopped)
        in_force &= self.in_force
        in_force |= events & activity
        self.in_force, self.events, self.stopped = in_force, events, stopped
        if len(self.leveled):
            self._update_levels()

    def _update_levels(self) -> None:
        """A start puts an activity at level 1, a raise one level up, a stop at 0."""
        rows = self.leveled
        started = self.events[rows] & ~self.raised
        level = np.where(started, 1, self.level + self.raised)
        self.level = np.where(self.in_force[rows], level, 0).astype(np.int8)
        np.maximum(self.peak_level, self.level, out=self.peak_level)

    def _incidents(self) -> None:
        """Events nobody chose (incidents.py), at their own rung, added to the round's events."""
        happen = self.incidents.occur(self)
        self.incident = np.zeros_like(self.events)
        if len(happen) == 0:
            return
        for k, option in enumerate(self.incidents.options):
            fresh = happen[k] & ~(self.in_force[option] & self.option_activity[option]) & ~self.events[option]
            self.incident[option] |= fresh
            self.events[option] |= fresh
            if self.option_activity[option]:
                self.in_force[option] |= happen[k]
                self.stopped[option] &= ~happen[k]
        if len(self.leveled):  # an activity an incident put (or kept) in force stands at level 1 at least
            self.level = np.maximum(self.level, self.in_force[self.leveled]).astype(np.int8)
            np.maximum(self.peak_level, self.level, out=self.peak_level)
        if self.tracer is not None:
            self.tracer.incidents(self, happen)

    def attribution(self, actor: int, observer: int) -> np.ndarray:
        """(R,) the chance `observer` blames `actor`'s sponsor for what `actor` did: the actor's one
        `attribution`, or its value for this observer (0 for an observer its mapping leaves out)."""
        aid = self.tables.actors[actor]
        if isinstance(self.scenario.actors[aid].attribution, dict):
            return self.params.get(f"actors.{aid}.attribution.{self.tables.actors[observer]}", 0.0)
        return self.params[f"actors.{aid}.attribution"]

    def blame_sponsors(self, actor: np.ndarray, observer: int) -> np.ndarray:
        """Where a non-state `actor` (R,) acted, its sponsor with the probability that `observer`
        blames it."""
        blamed = actor.copy()
        for a in self.actors_by_index:
            if self.sponsor_of[a.index] >= 0:
                hit = (actor == a.index) & (self.rng.random(self.replicates) < self.attribution(a.index, observer))
                blamed[hit] = self.sponsor_of[a.index]
        return blamed

    def _update_hostility(self) -> None:
        """Richardson (1960): hostility rises with perceived escalation against the observer and
        falls with de-escalation and with stopped activities, then relaxes toward its start."""
        t, p, h = self.tables, self.params, self.hostility
        reaction = p["dynamics.hostility.reaction"]
        for col, observer, actor, aimed in self.aimed:
            felt = np.where(aimed, t.points[np.maximum(self.seen[col], 0)], 0.0)
            self.react(self.watch_dyad[col], felt, reaction)
            if self.sponsor_of[actor] >= 0:
                blamed = self.rng.random(self.replicates) < self.attribution(actor, observer)
                self.react(self.watch_sponsor_dyad[col], np.where(blamed, felt, 0.0), reaction)
        if self.last_stopped.any():
            relief = self.by_dyad.max_where(self.last_stopped, self.option_points[:, None], NONE)
            np.maximum(relief, 0.0, out=relief)
            # in place, in the order of reaction * relief * h (a product of two is exact either
            # way round): each (dyads, R) temporary is 17 MB at 220 dyads and 10,000 runs
            relief = relief[self.dyads.reverse]
            relief *= reaction
            relief *= h
            h -= relief
            del relief
        fatigue = np.subtract(h, self.hostility_start)
        fatigue *= self.clock.chance(p["dynamics.hostility.fatigue"])
        h -= fatigue
        np.clip(h, 0.0, 1.0, out=h)

    def react(self, dyad: int, felt: np.ndarray, reaction: np.ndarray) -> None:
        """Richardson's reaction of the dyad's first actor to an act of its second, felt as `felt`
        escalation points."""
        before = self.hostility[dyad]
        self.hostility[dyad] = before + reaction * felt * np.where(felt > 0, 1 - before, before)

    def _update_state_variables(self) -> None:
        p = self.params
        for v, (vid, drivers) in enumerate(zip(self.scenario.state, self.drivers)):
            change = self.clock.amount(p[f"state.{vid}.drift"]).copy()
            for options, while_in_force, delta in drivers:
                source = self.in_force if while_in_force else self.events
                change += source[options].any(axis=0) * p[delta]
            self.state_values[v] = np.clip(self.state_values[v] + change, 0.0, 1.0)

    def event_causes(self, cols: np.ndarray | slice = slice(None), rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        """(len(rows), len(cols)) int8: why each of the round's events of the options `rows`
        happened in the runs `cols` (CAUSES), 0 where none."""
        code = np.int8  # every array of the codes int8: at 10,000 runs an int64 (O, R) is 8 times larger
        by_reply = self.reach.by_reply[rows][:, cols]
        threshold = self.reach.requires_options[rows, None]
        chosen = np.where(threshold, code(THRESHOLD), np.where(by_reply, code(REPLY), code(CHOICE)))
        cause = np.where(self.chosen[rows][:, cols], chosen, code(0))
        cause = np.where(self.forced_start[rows][:, cols], self.forced_cause[rows][:, cols], cause)
        cause = np.where(self.incident[rows][:, cols], code(INCIDENT), cause)
        return np.where(self.events[rows][:, cols], cause, code(0))

    def _record_first_force(self) -> None:
        """The cause of each run's first new use of force (the highest such event of its round)."""
        rows = self._new_force_rows
        has = (self.first_force_cause == 0) & self.events[rows].any(axis=0)
        cols = np.flatnonzero(has)  # the few runs with a first use of force this round
        if len(cols) == 0:
            return
        causes = self.event_causes(cols, rows)
        rung_and_cause = self.option_rung[rows, None].astype(np.int16) * 16 + causes  # int16: rungs stay below 2,000
        key = np.where(self.events[rows][:, cols], rung_and_cause, -1).max(axis=0)
        self.first_force_cause[cols] = key % 16

    def _record(self) -> None:
        t, r = self.tables, self.round
        active = self.events | self.in_force
        top = self.by_actor.max_where(self.events, self._option_key, 0)
        self.history_top[r - 1] = np.where(top > 0, (top - 1) & 0xFFFF, NONE)
        event_rung = np.where(top > 0, self.option_rung[np.maximum(self.history_top[r - 1], 0)], t.rung[t.neutral])
        np.maximum(self.peak_event_actor, event_rung, out=self.peak_event_actor)
        self.history_events[r - 1] = np.packbits(self.events, axis=-1)
        self.history_activities[r - 1] = np.packbits(self.in_force, axis=-1)
        taken = self.by_actor_action.any(active, compact=True)
        self.first_taken[(self.first_taken < 0) & taken] = r
        self.rounds_taken += taken
        self._record_first_force()
        record_facts(self)
        new_rung = self.by_actor.max_where(self.events, self._new_rung, 0)  # per actor
        peak = new_rung.max(axis=0)
        higher = peak > self.peak_new
        self.peak_round[higher] = r
        np.maximum(self.peak_new, peak, out=self.peak_new)
        np.maximum(self.peak_new_actor, new_rung, out=self.peak_new_actor)
        record_counted(self)
        for option, score in self._scored:  # cheaper than a matrix product, which converts to float
            np.add(self.score_total, score, out=self.score_total, where=active[option])
        self.events_before_last = self.last_events
        self.last_events, self.last_stopped = self.events, self.stopped
