"""Index tables compiled once from a scenario: the engine works on integers, never on names."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..scenario import Scenario


@dataclass(frozen=True)
class Options:
    """The (action, target) moves one actor may make, as parallel index arrays."""

    action: np.ndarray
    target: np.ndarray


@dataclass(frozen=True)
class Tables:
    actors: tuple[str, ...]
    actions: tuple[str, ...]
    rung: np.ndarray  # (A,) rung of each action
    points: np.ndarray  # (A,) escalation points scaled by the largest, in [-1, 1]
    score: np.ndarray  # (A,) escalation points as the ladder gives them
    public: np.ndarray  # (A,) bool
    detection: np.ndarray  # (A,) chance a covert action is seen by a fully informed observer
    neutral: int  # action perceived when nothing is seen
    options: tuple[Options, ...]  # per actor
    nearest: np.ndarray  # (n, top + 1): the actor's action closest to each rung
    toward: np.ndarray  # (n, n, top + 1): the move toward a target closest to each rung, -1 if none
    next_up: np.ndarray  # (n, n, A): the next higher allowed action toward the same target

    @property
    def top(self) -> int:
        return int(self.rung.max())

    def index(self, actor: str) -> int:
        return self.actors.index(actor)

    def action_index(self, actions: list[str]) -> np.ndarray:
        return np.array([self.actions.index(a) for a in actions], dtype=np.int64)


def _closest(candidates: list[int], rung: np.ndarray, top: int) -> np.ndarray:
    """For each rung 0..top, the candidate action with the nearest rung (lower on ties); -1 if none."""
    if not candidates:
        return np.full(top + 1, -1)
    cand = np.array(sorted(candidates, key=lambda k: rung[k]))
    distance = np.abs(rung[cand][None, :] - np.arange(top + 1)[:, None])
    return cand[distance.argmin(axis=1)]  # argmin takes the first, i.e. the lower rung, on ties


def _options(allowed: np.ndarray) -> Options:
    """Moves in ladder order: by action, then target."""
    pairs = sorted((k, t) for t, k in zip(*np.nonzero(allowed)))
    return Options(np.array([k for k, _ in pairs], dtype=np.int64), np.array([t for _, t in pairs], dtype=np.int64))


def compile_tables(s: Scenario) -> Tables:
    actors = tuple(s.actors)
    actions = tuple(s.actions)
    n, a_count = len(actors), len(actions)
    rung = np.array([s.actions[a].rung for a in actions], dtype=np.int64)
    raw_points = np.array([s.ladder.points[s.actions[a].category] for a in actions], dtype=float)
    top = int(rung.max())
    allowed = np.zeros((n, n, a_count), dtype=bool)
    for k, aid in enumerate(actions):
        for actor, targets in s.actions[aid].allowed.items():
            for t in targets:
                allowed[actors.index(actor), actors.index(t), k] = True
    options = tuple(_options(allowed[i]) for i in range(n))
    nearest = np.stack([_closest(sorted(set(np.nonzero(allowed[i].any(0))[0])), rung, top) for i in range(n)])
    toward = np.stack(
        [np.stack([_closest(list(np.nonzero(allowed[i, t])[0]), rung, top) for t in range(n)]) for i in range(n)]
    )
    next_up = np.empty((n, n, a_count), dtype=np.int64)
    for i in range(n):
        for t in range(n):
            moves = sorted(np.nonzero(allowed[i, t])[0], key=lambda k: rung[k])
            for k in range(a_count):
                higher = [m for m in moves if rung[m] > rung[k]]
                next_up[i, t, k] = higher[0] if higher else k
    return Tables(
        actors=actors,
        actions=actions,
        rung=rung,
        points=raw_points / np.abs(raw_points).max(),
        score=raw_points,
        public=np.array([s.actions[a].public for a in actions]),
        detection=np.array([s.actions[a].detection for a in actions]),
        neutral=actions.index(s.ladder.neutral_action),
        options=options,
        nearest=nearest,
        toward=toward,
        next_up=next_up,
    )
