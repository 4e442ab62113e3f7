"""Index tables compiled once from a scenario: the engine works on integers, never on names.

An *option* is one (actor, action, target) the scenario allows. Every per-round decision and
record is an array over options, so the engine needs no per-name code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..scenario import Scenario


@dataclass(frozen=True)
class Tables:
    actors: tuple[str, ...]
    actions: tuple[str, ...]
    rung: np.ndarray  # (A,) rung of each action
    points: np.ndarray  # (A,) escalation points scaled by the largest, in [-1, 1]
    score: np.ndarray  # (A,) escalation points as the ladder gives them
    public: np.ndarray  # (A,) bool
    detection: np.ndarray  # (A,) chance a covert action is seen by a fully informed observer
    activity: np.ndarray  # (A,) bool: stays in force until stopped
    levels: np.ndarray  # (A,) int: the sizes an activity may be raised to (1: none)
    attack: np.ndarray  # (A,) bool: a use of force (MID level 4 or 5)
    war: np.ndarray  # (A,) bool: an activity of war (MID level 5)
    category: tuple[str, ...]  # (A,) each action's category
    neutral: int  # action perceived when nothing is seen
    # options, in order of actor, then target, then action (ladder order)
    actor: np.ndarray  # (O,)
    action: np.ndarray  # (O,)
    target: np.ndarray  # (O,)
    against: np.ndarray  # (O,) the party the option works against (the target unless declared)
    pair: np.ndarray  # (O,) index of (actor, target) in `pairs`
    pairs: np.ndarray  # (P, 2) actor, target
    of_actor: tuple[np.ndarray, ...]  # option indices of each actor
    read_as: np.ndarray  # (P, top + 1): the pair's action nearest each rung (misreadings)
    against_of: np.ndarray  # (P, A): against whom the pair's actor works with each action toward its target, -1 if not allowed

    @property
    def top(self) -> int:
        return int(self.rung.max())

    @property
    def options(self) -> int:
        return len(self.actor)

    def index(self, actor: str) -> int:
        return self.actors.index(actor)

    def action_index(self, actions: list[str]) -> np.ndarray:
        return np.array([self.actions.index(a) for a in actions], dtype=np.int64)

    def option(self, actor: str | int, action: str | int, target: str | int) -> int:
        """The index of one option; ValueError if the scenario does not allow it."""
        i = actor if isinstance(actor, int) else self.index(actor)
        k = action if isinstance(action, int) else self.actions.index(action)
        t = target if isinstance(target, int) else self.index(target)
        hit = np.flatnonzero((self.actor == i) & (self.action == k) & (self.target == t))
        if len(hit) == 0:
            raise ValueError(f"option not allowed: {self.actors[i]} {self.actions[k]} -> {self.actors[t]}")
        return int(hit[0])

    def pair_index(self, actor: int, target: int) -> int:
        """The index of (actor, target) in `pairs`, -1 if the actor may do nothing toward the target."""
        hit = np.flatnonzero((self.pairs[:, 0] == actor) & (self.pairs[:, 1] == target))
        return int(hit[0]) if len(hit) else -1

    def actions_of(self, actions: list[str], categories: list[str]) -> np.ndarray:
        """Indices of the named `actions` and of every action of one of `categories`, each once."""
        named = {self.actions.index(a) for a in actions}
        named |= {k for k, c in enumerate(self.category) if c in categories}
        return np.array(sorted(named), dtype=np.int64)

    def options_matching(self, actor: int, actions: np.ndarray, target: int | None = None) -> np.ndarray:
        """Indices of `actor`'s options taking one of `actions` (toward `target` if given)."""
        mask = (self.actor == actor) & np.isin(self.action, actions)
        if target is not None:
            mask &= self.target == target
        return np.flatnonzero(mask)


def _nearest(candidates: list[int], rung: np.ndarray, top: int) -> np.ndarray:
    """For each rung 0..top, the candidate action with the nearest rung (lower on ties); -1 if none."""
    if not candidates:
        return np.full(top + 1, -1)
    cand = np.array(sorted(candidates, key=lambda k: (rung[k], k)))
    distance = np.abs(rung[cand][None, :] - np.arange(top + 1)[:, None])
    return cand[distance.argmin(axis=1)]


def compile_tables(s: Scenario) -> Tables:
    actors, actions = tuple(s.actors), tuple(s.actions)
    n = len(actors)
    rung = np.array([s.actions[a].rung for a in actions], dtype=np.int64)
    raw_points = np.array(
        [s.ladder.points[s.actions[a].category] if s.actions[a].points is None else s.actions[a].points for a in actions],
        dtype=float,
    )
    top = int(rung.max())
    allowed = [
        (actors.index(actor), k, actors.index(target))
        for k, aid in enumerate(actions)
        for actor, targets in s.actions[aid].allowed.items()
        for target in targets
    ]
    # the neutral action allowed toward nobody (an actor with no adversary, a mediator): an option
    # aimed at the actor itself, which no one watches (perception.Watches), so its holds are no news
    neutral = s.actions[s.ladder.neutral_action]
    allowed += [(actors.index(actor), actions.index(s.ladder.neutral_action), actors.index(actor))
                for actor, targets in neutral.allowed.items() if not targets]
    # by actor, then target, then rung: a pair's options are consecutive rows
    triples = sorted(allowed, key=lambda o: (o[0], o[2], rung[o[1]], o[1]))
    actor = np.array([i for i, _, _ in triples], dtype=np.int64)
    action = np.array([k for _, k, _ in triples], dtype=np.int64)
    target = np.array([t for _, _, t in triples], dtype=np.int64)
    against = np.array(
        [actors.index(s.actions[actions[k]].against.get(actors[t], actors[t])) for _, k, t in triples], dtype=np.int64
    )
    actions_of_pair: dict[tuple[int, int], set[int]] = {}
    for i, k, t in triples:
        actions_of_pair.setdefault((i, t), set()).add(k)
    pair_list = sorted(actions_of_pair)
    pair_number = {p: number for number, p in enumerate(pair_list)}
    pair = np.array([pair_number[(i, t)] for i, _, t in triples], dtype=np.int64)
    read_as = np.stack([_nearest(sorted(actions_of_pair[p]), rung, top) for p in pair_list])
    against_of = np.full((len(pair_list), len(actions)), -1, dtype=np.int64)
    against_of[pair, action] = against
    return Tables(
        actors=actors,
        actions=actions,
        rung=rung,
        points=raw_points / np.abs(raw_points).max(),
        score=raw_points,
        public=np.array([s.actions[a].public for a in actions]),
        detection=np.array([s.actions[a].detection for a in actions]),
        activity=np.array([s.actions[a].kind == "activity" for a in actions]),
        levels=np.array([s.actions[a].levels for a in actions], dtype=np.int64),
        attack=np.array([s.actions[a].mid_level >= 4 for a in actions]),
        war=np.array([s.actions[a].mid_level >= 5 and s.actions[a].kind == "activity" for a in actions]),
        category=tuple(s.actions[a].category for a in actions),
        neutral=actions.index(s.ladder.neutral_action),
        actor=actor,
        action=action,
        target=target,
        against=against,
        pair=pair,
        pairs=np.array(pair_list, dtype=np.int64).reshape(-1, 2),
        of_actor=tuple(np.flatnonzero(actor == i) for i in range(n)),
        read_as=read_as,
        against_of=against_of,
    )
