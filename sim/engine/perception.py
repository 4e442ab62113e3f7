"""What each observer perceives of last round's events (Jervis 1976).

An observer watches a (actor, target) pair: the actions aimed at it or against it, the pairs
its red lines and commitments name, and the opponent a tit-for-tat policy answers. It sees the
pair's most escalatory event (a start or a move; an activity already in force is no news): a
covert one only with probability detection x intelligence, and its rung with noise that grows
as intelligence falls and tilts up with hostility, a misread rung being read as the pair's
action nearest it. Stops of activities are public acts and are seen as they are.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

from .tables import Tables

NONE = -1
_READ_AT_ONCE = 1 << 18  # (watch, run) cells perceived together: bounds the temporaries


def _slice_if_contiguous(rows: np.ndarray) -> np.ndarray | slice:
    """A slice (a view, no copy) where the rows are consecutive."""
    return slice(int(rows[0]), int(rows[-1]) + 1) if rows[-1] - rows[0] + 1 == len(rows) else rows


class Groups:
    """Options grouped by a key, for per-group maxima over the options axis.

    Engine arrays are options (or actors) first and replicates last: a group's rows are then
    contiguous vectors, and a maximum over a few rows is about thirty times faster than numpy's
    reduceat along a replicates-first array (measured for 10,000 replicates and 90 options).
    """

    def __init__(self, key: np.ndarray, size: int):
        self.size = size
        order = np.argsort(key, kind="stable")  # each group's rows ascending, in one pass
        self.keys, starts = np.unique(key[order], return_index=True)
        bounds = zip(starts, [*starts[1:], len(key)])
        self.members = [(int(k), _slice_if_contiguous(order[a:b])) for k, (a, b) in zip(self.keys, bounds)]
        self._largest = int(max(np.diff([*starts, len(key)]), default=0))  # rows of the largest group
        self._scratch: dict[tuple[np.dtype, int], np.ndarray] = {}

    def max(self, values: np.ndarray, fill: int = NONE) -> np.ndarray:
        """(size, R): the largest of `values` (O, R) over each group's options; `fill` for empty groups."""
        out = np.full((self.size, values.shape[1]), fill, dtype=values.dtype)
        for k, rows in self.members:
            np.max(values[rows], axis=0, out=out[k])
        return out

    def max_where(self, flags: np.ndarray, values: np.ndarray, otherwise: float) -> np.ndarray:
        """(size, R): the largest of `values` (O, 1) where `flags` (O, R) is set, else
        `otherwise`, over each group's options; `otherwise` for empty groups. Made a group at a
        time: no (O, R) array of values is ever built (at 10,000 runs and a thousand options,
        each would be tens of megabytes)."""
        dtype = np.result_type(values.dtype, otherwise)
        out = np.full((self.size, flags.shape[1]), otherwise, dtype=dtype)
        scratch = self._scratch.get((dtype, flags.shape[1]))  # kept: no allocation per group or call
        if scratch is None:
            scratch = self._scratch[(dtype, flags.shape[1])] = np.empty((self._largest, flags.shape[1]), dtype=dtype)
        for k, rows in self.members:
            group = scratch[: len(values[rows])]
            group.fill(otherwise)
            np.copyto(group, values[rows], where=flags[rows])
            np.max(group, axis=0, out=out[k])
        return out

    def any(self, flags: np.ndarray, compact: bool = False) -> np.ndarray:
        """(size, R) bool: whether any of each group's options is set in `flags` (O, R); with
        `compact`, (groups, R) for the groups that have options only, in key order."""
        out = np.zeros((len(self.members) if compact else self.size, flags.shape[1]), dtype=bool)
        for g, (k, rows) in enumerate(self.members):
            np.any(flags[rows], axis=0, out=out[g if compact else k])
        return out


class Watches:
    """The (observer, pair) couples perceived each round, and their perception."""

    def __init__(self, tables: Tables, extra: list[tuple[int, int]]):
        t = tables
        # an option aimed at its own actor (the neutral action toward nobody) is watched by no one
        couples = {(int(o), int(p)) for o, p in zip(t.against, t.pair) if t.pairs[p, 0] != t.pairs[p, 1]} | set(extra)
        self.couples = sorted(couples)
        self.index = {c: w for w, c in enumerate(self.couples)}
        self.observer = np.array([o for o, _ in self.couples], dtype=np.int64)
        self.pair = np.array([p for _, p in self.couples], dtype=np.int64)
        self.actor = t.pairs[self.pair, 0] if len(self.pair) else np.zeros(0, dtype=np.int64)
        self.target = t.pairs[self.pair, 1] if len(self.pair) else np.zeros(0, dtype=np.int64)
        self.by_pair = Groups(t.pair, len(t.pairs))
        # watches whose pair has an option working against the observer: only these move hostility
        self.reactive = [
            w for w, (o, p) in enumerate(self.couples) if ((t.pair == p) & (t.against == o)).any()
        ]
        self.tables = t
        # (rung, action) packed so that the largest is the most escalatory; + 1 so that 0 is "none".
        # Multiplying a bool array by it is several times faster than np.where with broadcasting.
        assert len(t.actions) < 64 and t.top < 500, "the packed event key needs fewer than 64 actions and 500 rungs"
        self._key = ((t.rung[t.action] << 6 | t.action) + 1).astype(np.int16)[:, None]

    def top_events(self, events: np.ndarray) -> np.ndarray:
        """(P, R): each pair's most escalatory action among `events` (O, R), NONE if it had none."""
        top = self.by_pair.max_where(events, self._key, 0)
        return np.where(top > 0, (top - 1) & 63, NONE)

    def perceive(
        self,
        events: np.ndarray,
        intelligence: np.ndarray,
        hostility: np.ndarray,
        hostility_row: np.ndarray,
        misperception: np.ndarray,
        spiral_bias: np.ndarray,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """(W, R): the action each watch saw of its pair last round, NONE when it saw nothing.

        `intelligence` is (n, R); `hostility` (rows, R), its row `hostility_row` (W,) each watch's
        observer's toward its actor."""
        seen = self.top_events(events)[self.pair]  # (W, R), the truth until perceived
        # Every watch of every replicate gets its draws, whether its pair did anything or not: the
        # draws then depend on the block's shape alone (engine/streams.py); only what happened is read
        draws = rng.random((2, *seen.shape), dtype=np.float32)
        # a few watches at a time: each event read costs a dozen temporaries of 8 bytes, which over
        # every event of a block at once (a million at 50 actors and 10,000 runs) made this the
        # engine's peak of memory; reading is elementwise, so the result is the same
        step = max(1, _READ_AT_ONCE // max(seen.shape[1], 1))
        for first in range(0, seen.shape[0], step):
            rows = slice(first, first + step)
            self._read(seen[rows], draws[:, rows], self.pair[rows], self.observer[rows],
                       intelligence, hostility, hostility_row[rows], misperception, spiral_bias)
        return seen

    def _read(self, seen: np.ndarray, draws: np.ndarray, pair: np.ndarray, observer: np.ndarray,
              intelligence: np.ndarray, hostility: np.ndarray, hostility_row: np.ndarray,
              misperception: np.ndarray, spiral_bias: np.ndarray) -> None:
        """Perceives, in place, the events in `seen` (w, R) of some watches of `pair`, `observer`."""
        t = self.tables
        w, r = np.nonzero(seen >= 0)
        if len(w) == 0:
            return
        action = seen[w, r]
        knows = intelligence[observer[w], r]
        unseen = ~t.public[action]
        unseen &= draws[0, w, r] >= t.detection[action] * knows
        sd = misperception[r] * (1.0 - knows)
        noise = ndtri(np.clip(draws[1, w, r].astype(float), 1e-12, None))  # a standard normal by inversion
        # v3: hostility tilts the reading of a poorly informed observer only (Jervis: misperception
        # thrives on ambiguity); a fully informed one reads what happened
        reading = noise * sd + spiral_bias[r] * (1.0 - knows) * hostility[hostility_row[w], r]
        true_rung = t.rung[action]
        read_rung = np.clip(np.rint(reading + true_rung), 0, t.top).astype(np.intp)
        misread = t.read_as[pair[w], read_rung]
        perceived = np.where((read_rung == true_rung) | (misread < 0), action, misread)
        seen[w, r] = np.where(unseen, NONE, perceived)
