"""The declared dyads: the ordered actor pairs the engine keeps state for (hostility, stance,
posture, attacks, threats, wars).

A world of n actors has n^2 pairs but acts on few of them. Pair state is kept over the declared
dyads only, one row per dyad and the replicates last, with one more row, the *outside* row, at
index `size`: every undeclared pair reads it, and it holds the array's neutral value (no
hostility, the neutral stance, nothing in force). Nothing is ever written to it, so memory and
time follow the dyads, not the square of the actors.

A dyad (i, j) is declared when
- i has an option that works against j, or toward j, or j has an option that works against i
  (the options' pairs, both ways);
- i watches a pair whose actor is j, or whose actor j sponsors (perception, red lines,
  commitments and policies read and move i's hostility toward j);
- i and j are the parties of an agreement (either way), or i has a starting hostility toward j;
- i has an option against k and j is on k's side (a treaty partner or proxy of k): the threat
  i feels from k's side is read from what it feels from j.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


class Dyads:
    """Ordered pairs (first, second) of actor indices, each a row of the pair-state arrays."""

    def __init__(self, n: int, pairs: Iterable[tuple[int, int]]):
        self.n = n
        listed = np.array(sorted(set(pairs)), dtype=np.int64).reshape(-1, 2)
        self.keys = listed[:, 0] * n + listed[:, 1]
        self.first = listed[:, 0]
        self.second = listed[:, 1]
        self.size = len(self.keys)  # also the index of the outside row
        self.reverse = self.rows(self.second, self.first)  # the row of (second, first) per row
        self.reverse = np.append(self.reverse, self.size)

    def rows(self, first: np.ndarray | int, second: np.ndarray | int) -> np.ndarray:
        """The rows of the pairs (first, second), the outside row where a pair is not declared."""
        key = np.asarray(first, dtype=np.int64) * self.n + np.asarray(second, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.keys, key), max(self.size - 1, 0))
        found = (self.keys[at] == key) if self.size else np.zeros(key.shape, dtype=bool)
        return np.where(found, at, self.size)

    def declared(self, first: np.ndarray | int, second: np.ndarray | int) -> np.ndarray:
        """The rows of pairs that must be declared (pairs the engine writes to); ValueError if not."""
        rows = self.rows(first, second)
        if np.any(rows == self.size):
            raise ValueError(f"undeclared dyad among {np.broadcast_arrays(first, second)}")
        return rows

    def state(self, fill: float | int | bool, replicates: int, dtype: type = float) -> np.ndarray:
        """A (size + 1, replicates) pair-state array holding `fill`, the outside row included."""
        return np.full((self.size + 1, replicates), fill, dtype=dtype)

    def dense(self, values: np.ndarray) -> np.ndarray:
        """(n, n) from one replicate's (size + 1,) values: the outside row for undeclared pairs."""
        out = np.full((self.n, self.n), values[self.size], dtype=values.dtype)
        out[self.first, self.second] = values[: self.size]
        return out


def partners_of(scenario, tables) -> list[list[int]]:
    """partners[k]: the actors on k's side besides k (its treaty partners and its proxies)."""
    t, out = tables, [set() for _ in tables.actors]
    for c in scenario.commitments.values():
        a, b = (t.index(x) for x in c.parties)
        out[a].add(b)
        out[b].add(a)
    for i, aid in enumerate(t.actors):
        sponsor = scenario.actors[aid].sponsor
        if sponsor:
            out[t.index(sponsor)].add(i)
    return [sorted(p) for p in out]


def declared_dyads(scenario, tables, watches) -> Dyads:
    """The dyads a world declares (see the module docstring)."""
    s, t, w = scenario, tables, watches
    pairs: set[tuple[int, int]] = set()
    for first, second in ((t.actor, t.against), (t.against, t.actor), (t.actor, t.target)):
        pairs.update(zip(first.tolist(), second.tolist()))
    sponsor = {t.index(aid): t.index(a.sponsor) for aid, a in s.actors.items() if a.sponsor}
    for observer, actor in zip(w.observer.tolist(), w.actor.tolist()):
        pairs.add((observer, actor))
        if actor in sponsor:
            pairs.add((observer, sponsor[actor]))
    for g in s.agreements.values():
        a, b = (t.index(x) for x in g.parties)
        pairs.update({(a, b), (b, a)})
    for aid, actor in s.actors.items():
        pairs.update((t.index(aid), t.index(other)) for other in actor.hostility)
    partners = partners_of(s, t)
    for actor, against in set(zip(t.actor.tolist(), t.against.tolist())):
        pairs.update((actor, x) for x in partners[against])
    return Dyads(len(t.actors), pairs)
