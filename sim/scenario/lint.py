"""Warnings about a valid scenario that likely does not say what its author meant: it runs, but a
part of it does nothing or is undone at once. `sim validate` prints them (docs/scenarios.md,
"Warnings"); none stops a run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from .calendar import DAYS, from_round, round_dates
from .errors import Problem, ScenarioError
from .loader import load_located, load_scenario, locate
from .params import Distribution
from .questions import Finding
from .schema import Inject, Scenario, Stop, TitForTatPolicy
from .yamlio import Key, Locations

# The values that count per round, not per real time (docs/scenarios.md, "What scales with the
# round"): a world of shorter rounds applies each of them more often in a month.
PER_ROUND = (
    "moves_per_round", "actors.*.moves_per_round", "actors.*.preferences.*", "actors.*.preferences_toward.*.*",
    "actors.*.reciprocity", "actors.*.policy.temperature", "actions.*.taboo", "actions.*.reach",
    "dynamics.reach.rungs", "dynamics.hostility.reaction", "dynamics.hostility.approach",
    "dynamics.utility.hostility", "dynamics.utility.escalation_aversion", "dynamics.utility.deterrence",
    "dynamics.utility.emboldening", "dynamics.utility.convexity", "red_lines.*.cost", "red_lines.*.response.lag",
    "commitments.*.caution", "commitments.*.obligations.*.cost", "commitments.*.obligations.*.lag",
    "state.*.effects.*.weight", "state.*.drivers.*.delta", "agreements.*.value.*", "agreements.*.mediation", "agreements.*.mediation.*",
    "agreements.*.break_cost",
)
SHORT_ROUND_DAYS = 7  # a round shorter than a week ...
MONTHLY_ROUND_DAYS = 28  # ... keeping values set in a world whose rounds last a month or more


def scenario_warnings(ref: str | Path) -> list[Problem]:
    """Every warning about scenario `ref` (a name or a file), located where the value was written."""
    scenario, locations = load_located(ref)
    return [locate(path, message, locations) for path, message in lint(scenario, locations)]


def lint(s: Scenario, locations: Locations) -> Iterator[Finding]:
    """(path, message) for each thing in `s` that probably does not work as written."""
    yield from _stops_undone(s)
    yield from _actions_nothing_reads(s)
    yield from _obligations_costing_nothing(s)
    yield from _dated_beyond_the_run(s)
    yield from _monthly_values_in_short_rounds(s, locations)


def _central(value: float | Distribution) -> float:
    return value.mean if isinstance(value, Distribution) else float(value)


def preference(s: Scenario, actor: str, action: str, target: str) -> tuple[str, float]:
    """The parameter the engine reads as the actor's preference for the action toward the target
    (the per-target value if given, else the per-action one) and its value (0 if not written)."""
    a = s.actors[actor]
    toward = a.preferences_toward.get(target, {})
    if action in toward:
        return f"actors.{actor}.preferences_toward.{target}.{action}", _central(toward[action])
    return f"actors.{actor}.preferences.{action}", _central(a.preferences.get(action, 0.0))


def barred_through(inject: Inject, stop: Stop) -> int:
    """The last round a stop bars its actor from restarting the activity, counted from the inject's
    `round` (a conditional inject may act later): `for` rounds from then, else through `until`,
    else none (the round of the stop itself)."""
    if stop.for_ is not None:
        return (inject.until if inject.until is not None and inject.when is None else inject.round) + stop.for_ - 1
    return inject.until if inject.until is not None and inject.when is None else inject.round


def _stops_undone(s: Scenario) -> Iterator[Finding]:
    """A `stop` of an activity its actor (choosing by utility) still likes once the stop no longer
    holds: a stop ends the activity in force and bars a restart only for its `for` rounds (or
    through the inject's `until`), so the actor may start it again once they are over."""
    for iid, inject in s.injects.items():
        for actor, moves in inject.stop.items():
            if s.actors[actor].policy.name != "utility":
                continue
            for i, move in enumerate(moves):
                last = barred_through(inject, move)
                if last >= s.rounds:
                    continue
                path, written = preference(s, actor, move.action, move.target)
                liking = inject.set.get(path, written)
                if liking > 0:
                    yield ("injects", iid, "stop", actor, i), (
                        f"stops {move.action} toward {move.target} in round {inject.round}, but {actor}'s preference "
                        f"for it stays {liking:+g}: it may start it again from round {last + 1} (expected "
                        f"`for: {s.rounds - inject.round + 1}` on the stop to bar a restart to the end of the run, "
                        f"or `set: {{{path}: 0 or less}}` on the inject)")


def escalation_points(s: Scenario, action: str) -> float:
    """The action's escalation points: its own, else its category's on the ladder."""
    a = s.actions[action]
    return a.points if a.points is not None else s.ladder.points[a.category]


def actions_read(s: Scenario) -> set[str]:
    """The actions some part of the model reacts to: by name or category, a state driver, a red
    line's or commitment's trigger, a red line's `warning` band, an agreement's `stops`, a measure,
    a conditional inject's event; by its rung, a tit-for-tat actor answering its actor, and (with `dynamics.reach`) the threat
    that opens replies, when the rung is above the neutral action's."""
    triggers = [line.trigger for line in s.red_lines.values()] + [c.trigger for c in s.commitments.values()]
    categories = {c for t in triggers for c in t.categories}
    read = {a for t in triggers for a in (*t.actions, *t.ambiguous)}
    read |= {a for line in s.red_lines.values() for a in line.warning}
    answered = {a.policy.opponent for a in s.actors.values() if isinstance(a.policy, TitForTatPolicy)}
    neutral = s.actions[s.ladder.neutral_action].rung
    read |= {aid for aid, a in s.actions.items()
             if answered & set(a.allowed) or (s.dynamics.reach is not None and a.rung > neutral)}
    read |= {aid for aid, a in s.actions.items() if a.category in categories}
    read |= {a for v in s.state.values() for d in v.drivers for a in d.actions}
    read |= {a for g in s.agreements.values() for a in g.stops}
    read |= {m.action for m in s.measures.values() if m.action is not None}
    read |= {i.when.action for i in s.injects.values() if i.when is not None and i.when.action is not None}
    return read


def _actions_nothing_reads(s: Scenario) -> Iterator[Finding]:
    """A move with 0 escalation points (it moves no hostility, and the outcome classes never count
    it) that no driver, trigger, agreement or measure reads: taking it changes nothing in a run."""
    read = actions_read(s)
    for aid, action in s.actions.items():
        if (action.kind == "move" and aid != s.ladder.neutral_action and aid not in read
                and escalation_points(s, aid) == 0 and any(action.allowed.values())):
            yield ("actions", aid), (
                "nothing reads this move: it has 0 escalation points (no hostility, no outcome class) and no "
                "state driver, red line or commitment trigger, agreement or measure names it, so a question "
                "about it gets an answer the rest of the run ignores (expected points, a driver, a trigger "
                "or a measure naming it)")


def _obligations_costing_nothing(s: Scenario) -> Iterator[Finding]:
    for cid, commitment in s.commitments.items():
        for guarantor, obligation in commitment.obligations.items():
            if _central(obligation.cost) == 0:
                yield ("commitments", cid, "obligations", guarantor, "cost"), (
                    f"{guarantor}'s obligation costs an attacker 0: it deters nothing (expected a cost > 0 in "
                    f"utility units, the default being 0)")


def _dated_beyond_the_run(s: Scenario) -> Iterator[Finding]:
    """A line drawn, a commitment signed or an agreement holding from a date after the run's last
    round: it never takes effect."""
    dated = [(("red_lines", lid, "drawn"), line.drawn, "drawn") for lid, line in s.red_lines.items()]
    dated += [(("commitments", cid, "signed"), c.signed, "signed") for cid, c in s.commitments.items()]
    dated += [(("agreements", gid, "from"), g.from_, "from") for gid, g in s.agreements.items()]
    for path, day, word in dated:
        if from_round(day, s) > s.rounds:
            yield path, (f"{word} {day}, after the run's last round (round {s.rounds} starts "
                         f"{round_dates(s)[-1]}): it never takes effect in the run (expected a date "
                         f"by the end of round {s.rounds})")


def round_days(s: Scenario) -> float:
    return s.round.length * DAYS[s.round.unit]


def _round_days_of_file(file: str) -> float:
    """The round of the world `file` describes on its own (0 when it is no whole scenario alone)."""
    try:
        return round_days(load_scenario(Path(file)))
    except ScenarioError:
        return 0.0


def _per_round(key: tuple[Key, ...]) -> bool:
    return any(len(key) == len(parts) and all(p in ("*", k) for p, k in zip(parts, key))
               for parts in (pattern.split(".") for pattern in PER_ROUND))


def _monthly_values_in_short_rounds(s: Scenario, locations: Locations) -> Iterator[Finding]:
    """Rounds shorter than a week keeping per-round values inherited from a file whose own world
    has rounds of a month or more: those values were set for that round, not this one."""
    if round_days(s) >= SHORT_ROUND_DAYS:
        return
    counts = Counter(file for key, (file, _, _) in locations.items()
                     if _per_round(key) and not file.startswith(("--set", "<")))
    unit = s.round.unit + "s" * (s.round.length != 1)
    for file, count in sorted(counts.items()):
        if _round_days_of_file(file) >= MONTHLY_ROUND_DAYS:
            yield ("round",), (f"rounds of {s.round.length} {unit}, but {count} per-round values (preferences, "
                               f"reaction, lags, ...) come from {file}, written for rounds of a month or more "
                               f"(expected them restated for this round; docs/scenarios.md, \"What scales with "
                               f"the round\")")
