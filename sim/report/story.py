"""A traced replicate told as a dated story: one block of lines per round (sim trace).

Each round reads in the order the engine plays it (see engine/model.py): what the observers
made of last round's events where it differs from the truth, red lines approached and crossed
with the owner's decision, commitments triggered, agreements offered and broken, then the
round's moves and activities started and stopped (each choice with the utility terms that
weighed most and what opened it: a reply, a threshold met, or a choice within reach), and
incidents (events nobody chose). Neutral moves (the ladder's `neutral_action`) are left out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..engine.clock import Clock
from ..engine.tables import Tables, compile_tables
from ..engine.tracer import Fact, RoundState, Tracer
from ..scenario import Scenario
from .paths import posturing_ceiling

TERMS_SHOWN = 3  # the largest terms of a choice's utility; the rest rarely change the reading
AFTER_ACTS = ("broken",)  # facts the engine makes after the actors' choices (model.step)
UNLIKELY = 0.05  # a choice drawn with less chance than this is marked: its largest terms argued against it


@dataclass(frozen=True)
class TracedRound:
    number: int
    date: str
    lines: list[str]
    routine: frozenset[int] = frozenset()  # lines a brief story leaves out (see `brief`)

    @property
    def brief(self) -> list[str]:
        """The lines without routine: refused proposals, and misperceptions, choices and stops at
        or below the posturing band (forced acts and incidents stay)."""
        return [line for k, line in enumerate(self.lines) if k not in self.routine]


class Namer:
    """Names for the indices a tracer records."""

    def __init__(self, scenario: Scenario, tables: Tables):
        self.s, self.t = scenario, tables
        self.lines = list(scenario.red_lines)
        self.commitments = list(scenario.commitments)
        self.agreements = list(scenario.agreements)

    def actor(self, i: int) -> str:
        return self.t.actors[i]

    def action(self, k: int) -> str:
        return self.t.actions[k] if k >= 0 else "nothing"

    def option(self, o: int) -> str:
        """`actor action>target`, the actor's view of one option."""
        t = self.t
        return f"{t.actors[t.actor[o]]} {t.actions[t.action[o]]}>{t.actors[t.target[o]]}"


def chance(p: float) -> str:
    """A probability to three decimals, or `<0.001`: small chances of incidents and picks still show."""
    return f"{p:.3f}" if p >= 0.001 or p == 0 else "<0.001"


def _terms(parts: list[tuple[str, float]]) -> str:
    return ", ".join(f"{name} {value:+.2f}" for name, value in parts[:TERMS_SHOWN]) or "no term"


def _forced_reason(o: int, facts: list[Fact], name: Namer, scenario: Scenario, round_number: int,
                   fired: dict[str, bool]) -> str:
    """Why an option was forced: the latest enforced crossing whose response it is, or honoured
    obligation of its actor, or an inject in force."""
    t = name.t
    for fact in reversed(facts):
        if fact.round > round_number:
            continue
        if fact.kind == "crossed" and fact.data["enforced"]:
            line = scenario.red_lines[name.lines[fact.data["line"]]]
            if t.option(line.owner, line.response.action, line.response.target) == o:
                return f"the response to red line {name.lines[fact.data['line']]}"
        if fact.kind == "triggered" and fact.data["honoured"] and fact.data["guarantor"] == t.actor[o]:
            return f"honouring {name.commitments[fact.data['commitment']]}"
    for iid, inject in scenario.injects.items():
        if fired.get(iid) and inject.round <= round_number <= (inject.until or inject.round):
            return f"inject {iid}"
    return "forced"


def _fact_line(fact: Fact, name: Namer) -> str | None:
    d = fact.data
    if fact.kind == "misperceived":
        truth = f"{name.actor(d['actor'])} {name.action(d['truth'])}>{name.actor(d['target'])}"
        if d["seen"] < 0:
            return f"perceived   {name.actor(d['observer'])} did not see last round's {truth}"
        return f"perceived   {name.actor(d['observer'])} saw last round's {truth} as {name.action(d['seen'])}"
    if fact.kind == "approached":
        return f"red line    {name.lines[d['line']]} approached (warning band)"
    if fact.kind == "crossed":
        decision = "enforces" if d["enforced"] else "backs down"
        return (f"red line    {name.lines[d['line']]} crossed last round as its owner saw it: {decision} "
                f"(P(enforce) {chance(d['probability'])})")
    if fact.kind == "triggered":
        who = "an unknown attacker" if d["attacker"] < 0 else name.actor(d["attacker"])
        answer = "honours it" if d["honoured"] else "does not honour it: the commitment lapses"
        return (f"commitment  {name.commitments[d['commitment']]}: {who} attacked {name.actor(d['protected'])}; "
                f"{name.actor(d['guarantor'])} {answer} (P(honour) {chance(d['honour'])})")
    if fact.kind == "nullified":
        return f"commitment  {name.commitments[d['commitment']]} nullified (its state eroded)"
    if fact.kind == "offered":
        answer = "accepted" if d["accepted"] else "refused"
        return (f"agreement   {name.actor(d['proposer'])} proposes {name.agreements[d['agreement']]} to "
                f"{name.actor(d['other'])}: {answer}")
    if fact.kind == "broken":
        by = "; ".join(name.option(o) for o in d["by"])
        return f"agreement   {name.agreements[d['agreement']]} broken by {by}"
    return None


def _routine(fact: Fact, t: Tables, ceiling: int) -> bool:
    """Whether a brief story leaves the fact out: a misperception at or below the posturing band
    (both what was done and what was seen), or a proposal refused."""
    if fact.kind == "misperceived":
        return max(t.rung[fact.data["truth"]], t.rung[fact.data["seen"]] if fact.data["seen"] >= 0 else 0) <= ceiling
    return fact.kind == "offered" and not fact.data["accepted"]


def _choices(facts: list[Fact]) -> tuple[dict[int, str], set[int]]:
    """The round's picks with their chance and largest terms (utility policies), and the options
    their actors chose to stop."""
    reasons: dict[int, str] = {}
    own_stops: set[int] = set()
    for fact in facts:
        if fact.kind == "decided":
            own_stops.update(fact.data["stops"])
            why = fact.data.get("why", {})
            for option, p, parts in fact.data["picks"]:
                if p is not None:
                    odds = ", against the odds" if p < UNLIKELY else ""
                    opened = f"{why[option]}; " if why.get(option, "choice") != "choice" else ""
                    reasons[option] = f"{opened}P {chance(p)}{odds}: {_terms(parts)}"
    return reasons, own_stops


def _acts(state: RoundState, facts: list[Fact], tracer: Tracer, name: Namer, scenario: Scenario,
          number: int, ceiling: int) -> list[tuple[str, bool]]:
    """The round's starts and moves (neutral moves left out) and stops, each with its reason and
    whether it is routine: chosen at or below the posturing band."""
    t = name.t
    reasons, own_stops = _choices(facts)
    lines: list[tuple[str, bool]] = []
    for o in state.events:
        if t.action[o] == t.neutral:
            continue
        verb = "raises" if o in state.raised else "starts" if t.activity[t.action[o]] else "moves "
        if o in state.forced:
            why = _forced_reason(o, tracer.facts, name, scenario, number, tracer.injects)
        elif o in state.chosen:
            why = reasons.get(o, "its policy")
        else:
            incident = next((f.data for f in facts if f.kind == "incident" and f.data["option"] == o), None)
            why = (f"incident {incident['incident']}, P {chance(incident['probability'])} this round" if incident
                   else state.causes.get(o, "incident"))
        routine = o in state.chosen and o not in state.forced and t.rung[t.action[o]] <= ceiling
        lines.append((f"{verb}      {name.option(o)}  ({why})", routine))
    for o in state.stopped:
        why = state.stopped_by.get(o) or ("its choice" if o in own_stops else "forced")
        lines.append((f"stops       {name.option(o)}  ({why})", t.rung[t.action[o]] <= ceiling))
    return lines


def tell(scenario: Scenario, tracer: Tracer) -> list[TracedRound]:
    """The traced replicate's rounds as dated lines."""
    name, clock = Namer(scenario, compile_tables(scenario)), Clock.of(scenario)
    ceiling = posturing_ceiling(scenario)
    rounds = []
    agreed_before = tracer.agreed_at_start
    for number, state in enumerate(tracer.states, start=1):
        facts = [f for f in tracer.facts if f.round == number]
        before = [f for f in facts if f.kind not in AFTER_ACTS]
        lines = [(f"inject      {iid} fires", False) for iid, inject in scenario.injects.items()
                 if tracer.injects.get(iid) and inject.round == number]
        lines += [(text, _routine(f, name.t, ceiling)) for f in before if (text := _fact_line(f, name)) is not None]
        lines += _acts(state, facts, tracer, name, scenario, number, ceiling)
        lines += [(text, False) for f in facts if f.kind in AFTER_ACTS and (text := _fact_line(f, name)) is not None]
        lines += [(f"agreement   {name.agreements[g]} in force", False) for g, now in enumerate(state.agreed)
                  if now and not agreed_before[g]]
        agreed_before = state.agreed
        rounds.append(TracedRound(number, clock.date(number).isoformat(), [text for text, _ in lines],
                                  frozenset(k for k, (_, routine) in enumerate(lines) if routine)))
    return rounds


def epilogue(scenario: Scenario, tracer: Tracer, recorded: dict, threshold: float = 0.1) -> list[str]:
    """How the run ended: red lines, commitments, agreements in force (as recorded), and the
    hostility that moved by more than `threshold` over the run (largest first)."""
    lines = []
    for lid in scenario.red_lines:
        if recorded.get(f"crossed.{lid}"):
            answer = "enforced" if recorded.get(f"enforced.{lid}") else "not enforced"
            lines.append(f"red line    {lid} first crossed in round {recorded.get(f'round.{lid}')}, {answer}")
    for cid in scenario.commitments:
        lines.append(f"commitment  {cid} {recorded.get(f'status.{cid}')}")
    agreed = [gid for gid in scenario.agreements if recorded.get(f"in_force.{gid}")]
    lines.append(f"agreements  in force: {', '.join(agreed) if agreed else 'none'}")
    t = compile_tables(scenario)
    if tracer.states and tracer.hostility_at_start is not None:
        before, after = tracer.hostility_at_start, tracer.states[-1].hostility
        change = after - before
        moved = sorted(zip(*np.nonzero(np.abs(change) > threshold)), key=lambda ij: -abs(change[ij]))
        lines += [f"hostility   {t.actors[i]} toward {t.actors[j]} {before[i, j]:.2f} -> {after[i, j]:.2f}" for i, j in moved]
    return lines
