"""Cross-references inside a scenario: every id it names must exist and every move be allowed."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel

from .dotpath import PathError, parse_path, value_at
from .errors import did_you_mean
from .params import Distribution, numbers
from .questions import question_problems
from .sources import load_digest
from .schema import Move, Scenario, ScriptedPolicy, TitForTatPolicy, When
from .yamlio import Key

Finding = tuple[tuple[Key, ...], str]


def _unknown(kind: str, value: str, known: Mapping[str, Any] | set[str]) -> str:
    return f"unknown {kind} (expected one of the scenario's {kind}s, got '{value}'){did_you_mean(value, known)}"


def check_references(s: Scenario, source_ids: set[str]) -> list[Finding]:
    """Every dangling id or disallowed move in `s`, as (path, message)."""
    return [
        *_actor_refs(s),
        *_action_refs(s),
        *_red_line_refs(s),
        *_commitment_refs(s),
        *_agreement_refs(s),
        *_state_refs(s),
        *_incident_refs(s),
        *_inject_refs(s),
        *_outcome_refs(s),
        *_lever_refs(s),
        *_citation_refs(s),
        *_source_refs(s, source_ids),
        *_joint_samples(s),
        *((("measures", *path), message) for path, message in question_problems(s.measures, s)),
    ]


def _joint_samples(s: Scenario) -> Iterator[Finding]:
    """Empirical parameters of one joint group are rows of one table: same sample count, same weights."""
    first: dict[str, tuple[str, Distribution]] = {}
    data: Any = None
    for path, value in numbers(s):
        if not isinstance(value, Distribution) or value.joint is None:
            continue
        if value.joint not in first:
            first[value.joint] = path, value
            continue
        where, head = first[value.joint]
        if len(value.args) != len(head.args) or value.weights != head.weights:
            data = data if data is not None else s.model_dump(mode="json")
            yield parse_path(data, path), (
                f"joint group '{value.joint}' (expected the {len(head.args)} samples and weights of {where}, "
                f"got {len(value.args)} samples{' with other weights' if len(value.args) == len(head.args) else ''})"
            )


def _ref(kind: str, path: tuple[Key, ...], value: str, known: Mapping[str, Any]) -> Iterator[Finding]:
    if value not in known:
        yield path, _unknown(kind, value, known)


def _move(s: Scenario, actor: str, move: Move, path: tuple[Key, ...]) -> Iterator[Finding]:
    bad = list(_ref("action", (*path, "action"), move.action, s.actions))
    bad += list(_ref("actor", (*path, "target"), move.target, s.actors))
    yield from bad
    if not bad and move.target not in s.actions[move.action].allowed.get(actor, []):
        yield path, (
            f"move not allowed (expected a target listed in actions.{move.action}.allowed.{actor}, "
            f"got {actor} -> {move.target})"
        )


def _actor_refs(s: Scenario) -> Iterator[Finding]:
    for aid, actor in s.actors.items():
        base = ("actors", aid)
        for other in actor.hostility:
            yield from _ref("actor", (*base, "hostility", other), other, s.actors)
        for action in actor.preferences:
            yield from _ref("action", (*base, "preferences", action), action, s.actions)
        for target, preferences in actor.preferences_toward.items():
            yield from _ref("actor", (*base, "preferences_toward", target), target, s.actors)
            for action in preferences:
                yield from _ref("action", (*base, "preferences_toward", target, action), action, s.actions)
        policy = actor.policy
        if isinstance(policy, ScriptedPolicy):
            for i, move in enumerate(policy.moves):
                yield from _move(s, aid, move, (*base, "policy", "moves", i))
        if isinstance(policy, TitForTatPolicy):
            yield from _ref("actor", (*base, "policy", "opponent"), policy.opponent, s.actors)
            yield from _move(s, aid, policy.opening, (*base, "policy", "opening"))
        if not any(aid in action.allowed for action in s.actions.values()):
            yield base, "actor has no allowed action (expected it under some actions.*.allowed, got none)"
        for i, move in enumerate(actor.routine):
            yield from _move(s, aid, move, (*base, "routine", i))
        for i, move in enumerate(actor.activities):
            path = (*base, "activities", i)
            found = list(_move(s, aid, move, path))
            yield from found
            if not found and s.actions[move.action].kind != "activity":
                yield path, f"not an activity (expected an action of kind activity, got move '{move.action}')"
        if actor.sponsor is not None:
            yield from _ref("actor", (*base, "sponsor"), actor.sponsor, s.actors)
        if isinstance(actor.attribution, dict):
            for observer in actor.attribution:
                yield from _ref("actor", (*base, "attribution", observer), observer, s.actors)


def _action_refs(s: Scenario) -> Iterator[Finding]:
    yield from _ref("action", ("ladder", "neutral_action"), s.ladder.neutral_action, s.actions)
    for xid, action in s.actions.items():
        for actor, targets in action.allowed.items():
            path = ("actions", xid, "allowed", actor)
            yield from _ref("actor", path, actor, s.actors)
            if not targets and xid != s.ladder.neutral_action:
                yield path, (f"no target (expected at least one; only the neutral action "
                             f"'{s.ladder.neutral_action}' may be taken toward nobody, got [])")
            for i, target in enumerate(targets):
                yield from _ref("actor", (*path, i), target, s.actors)
                if target == actor:
                    yield (*path, i), f"an actor cannot target itself (expected another actor, got '{target}')"
        if action.levels > 1 and action.kind != "activity":
            yield ("actions", xid, "levels"), f"levels above 1 need kind: activity (expected 1 for a move, got {action.levels})"
        targets = {t for ts in action.allowed.values() for t in ts}
        for target, against in action.against.items():
            path = ("actions", xid, "against", target)
            if target not in targets:
                yield path, f"not a target of this action (expected one of {', '.join(sorted(targets))}, got '{target}')"
            yield from _ref("actor", path, against, s.actors)
        for actor, needs in action.requires.items():
            path = ("actions", xid, "requires", actor)
            if actor not in action.allowed:
                yield path, f"not an actor allowed this action (expected one of {', '.join(action.allowed)}, got '{actor}')"
            for vid in needs.state_above:
                yield from _ref("state variable", (*path, "state_above", vid), vid, s.state)


def _red_line_refs(s: Scenario) -> Iterator[Finding]:
    for lid, line in s.red_lines.items():
        base = ("red_lines", lid)
        yield from _ref("actor", (*base, "owner"), line.owner, s.actors)
        yield from _ref("actor", (*base, "trigger", "actor"), line.trigger.actor, s.actors)
        yield from _ref("actor", (*base, "trigger", "target"), line.trigger.target, s.actors)
        for key in ("actions", "ambiguous"):
            for i, action in enumerate(getattr(line.trigger, key)):
                yield from _ref("action", (*base, "trigger", key, i), action, s.actions)
        for i, action in enumerate(line.warning):
            yield from _ref("action", (*base, "warning", i), action, s.actions)
        if line.owner in s.actors:
            yield from _move(s, line.owner, line.response, (*base, "response"))


def _commitment_refs(s: Scenario) -> Iterator[Finding]:
    for cid, c in s.commitments.items():
        base = ("commitments", cid)
        for i, party in enumerate(c.parties):
            yield from _ref("actor", (*base, "parties", i), party, s.actors)
        for i, attacker in enumerate(c.trigger.attackers):
            yield from _ref("actor", (*base, "trigger", "attackers", i), attacker, s.actors)
        for key in ("actions", "ambiguous"):
            for i, action in enumerate(getattr(c.trigger, key)):
                yield from _ref("action", (*base, "trigger", key, i), action, s.actions)
        if c.nullification is not None:
            yield from _ref("state variable", (*base, "nullification", "state"), c.nullification.state, s.state)
        for guarantor, obligation in c.obligations.items():
            path = (*base, "obligations", guarantor)
            if guarantor not in c.parties:
                yield path, f"not a party (expected one of {', '.join(c.parties)}, got '{guarantor}')"
                continue
            if obligation.action not in s.actions:
                yield from _ref("action", (*path, "action"), obligation.action, s.actions)
                continue
            protected = next(p for p in c.parties if p != guarantor) if len(set(c.parties)) == 2 else guarantor
            targets = [protected] if obligation.toward == "party" else attackers_of(s, c.parties, c.trigger.attackers)
            allowed = s.actions[obligation.action].allowed.get(guarantor, [])
            missing = [t for t in targets if t not in allowed]
            if missing:
                yield path, (
                    f"obligation not allowed (expected actions.{obligation.action}.allowed.{guarantor} "
                    f"to include {', '.join(missing)})"
                )


def _agreement_refs(s: Scenario) -> Iterator[Finding]:
    for gid, g in s.agreements.items():
        base = ("agreements", gid)
        for i, party in enumerate(g.parties):
            yield from _ref("actor", (*base, "parties", i), party, s.actors)
        for i, mediator in enumerate(g.mediators):
            yield from _ref("actor", (*base, "mediators", i), mediator, s.actors)
        for i, action in enumerate(g.stops):
            yield from _ref("action", (*base, "stops", i), action, s.actions)
        for key in ("value", "mediation"):
            for party in getattr(g, key) if isinstance(getattr(g, key), dict) else ():
                if party not in g.parties:
                    yield (*base, key, party), f"not a party (expected one of {', '.join(g.parties)}, got '{party}')"
        if g.ripeness is not None:
            yield from _ref("state variable", (*base, "ripeness", "state"), g.ripeness.state, s.state)
            for party in g.ripeness.weight:
                if party not in g.parties:
                    yield (*base, "ripeness", "weight", party), f"not a party (expected one of {', '.join(g.parties)}, got '{party}')"
        missing = [p for p in g.parties if p not in g.value]
        if missing:
            yield (*base, "value"), f"missing value for {', '.join(missing)} (expected one per party)"


def attackers_of(s: Scenario, parties: list[str], attackers: list[str]) -> list[str]:
    """Who can trigger a commitment: the listed attackers, or every actor outside it."""
    return list(attackers) if attackers else [a for a in s.actors if a not in parties]


def _state_refs(s: Scenario) -> Iterator[Finding]:
    for vid, var in s.state.items():
        for i, driver in enumerate(var.drivers):
            path = ("state", vid, "drivers", i)
            yield from _ref("actor", (*path, "actor"), driver.actor, s.actors)
            for j, action in enumerate(driver.actions):
                yield from _ref("action", (*path, "actions", j), action, s.actions)
            for j, target in enumerate(driver.targets):
                yield from _ref("actor", (*path, "targets", j), target, s.actors)
        for i, effect in enumerate(var.effects):
            path = ("state", vid, "effects", i)
            yield from _ref("actor", (*path, "actor"), effect.actor, s.actors)
            yield from _ref("action", (*path, "action"), effect.action, s.actions)


def _incident_refs(s: Scenario) -> Iterator[Finding]:
    for iid, incident in s.incidents.items():
        path = ("incidents", iid)
        if incident.actor not in s.actors:
            yield from _ref("actor", (*path, "actor"), incident.actor, s.actors)
        else:
            yield from _move(s, incident.actor, incident, path)


def _inject_refs(s: Scenario) -> Iterator[Finding]:
    for iid, inject in s.injects.items():
        base = ("injects", iid)
        last = inject.until or inject.round
        if last > s.rounds:
            yield (*base, "round"), f"inject after the last round (expected <= {s.rounds}, got {last})"
        for actor, move in inject.force.items():
            if actor not in s.actors:
                yield from _ref("actor", (*base, "force", actor), actor, s.actors)
            else:
                yield from _move(s, actor, move, (*base, "force", actor))
        for vid in inject.set_state:
            yield from _ref("state variable", (*base, "set_state", vid), vid, s.state)
        for cid in inject.set_status:
            yield from _ref("commitment", (*base, "set_status", cid), cid, s.commitments)
        known = {path for path, _ in numbers(s) if not path.startswith("injects.")}
        for path in inject.set:
            if path not in known:
                yield (*base, "set", path), (
                    f"unknown parameter (expected the dotted path of a number in the scenario, got '{path}')"
                    f"{did_you_mean(path, known)}"
                )
        for gid in inject.sign:
            yield from _ref("agreement", (*base, "sign", gid), gid, s.agreements)
        for actor, moves in inject.stop.items():
            for i, move in enumerate(moves):
                if actor in s.actors:
                    yield from _move(s, actor, move, (*base, "stop", actor, i))
                else:
                    yield from _ref("actor", (*base, "stop", actor), actor, s.actors)
        if inject.when is not None:
            yield from _when_refs(s, inject.when, (*base, "when"))


def _when_refs(s: Scenario, when: When, base: tuple[Key, ...]) -> Iterator[Finding]:
    for key in ("state_above", "state_below"):
        for vid in getattr(when, key):
            yield from _ref("state variable", (*base, key, vid), vid, s.state)
    if when.actor is None or when.action is None:
        return
    if when.actor not in s.actors:
        yield from _ref("actor", (*base, "actor"), when.actor, s.actors)
    elif when.action not in s.actions:
        yield from _ref("action", (*base, "action"), when.action, s.actions)
    elif when.target is None:
        if not s.actions[when.action].allowed.get(when.actor):
            yield (*base, "action"), (f"{when.actor} may not take {when.action} (expected an action listed with "
                                      f"{when.actor} under its allowed, got '{when.action}')")
    else:
        yield from _move(s, when.actor, Move(action=when.action, target=when.target), base)


def _outcome_refs(s: Scenario) -> Iterator[Finding]:
    top = max(a.rung for a in s.actions.values())
    if any(c.easing for c in list(s.outcomes.classes.values())[1:]):
        yield ("outcomes", "classes"), "only the first class may require easing (expected easing on the first, got it later)"
    for cid, c in s.outcomes.classes.items():
        for i, dyad in enumerate(c.between):
            path = ("outcomes", "classes", cid, "between", i)
            for k, actor in enumerate(dyad):
                yield from _ref("actor", (*path, k), actor, s.actors)
            if dyad[0] == dyad[1]:
                yield path, f"a dyad needs two actors (expected two different ids, got '{dyad[0]}' twice)"
    last = list(s.outcomes.classes.values())[-1].max_rung
    if last < top:
        yield ("outcomes", "classes"), f"classes must cover the ladder (expected the last max_rung >= {top}, got {last})"


def _lever_refs(s: Scenario) -> Iterator[Finding]:
    """A lever names an actor and the path of a number elsewhere in the scenario, once."""
    data = s.model_dump(mode="json")
    seen: set[str] = set()
    for i, lever in enumerate(s.levers):
        where = ("levers", i)
        yield from _ref("actor", (*where, "actor"), lever.actor, s.actors)
        problem = lever_path_problem(s, data, lever.path)
        if problem is not None:
            yield (*where, "path"), problem
        elif lever.path in seen:
            yield (*where, "path"), f"lever given twice (expected each path once, got '{lever.path}' again)"
        seen.add(lever.path)


def lever_path_problem(s: Scenario, data: Any, path: str) -> str | None:
    """What is wrong with `path` as a lever (it must name a number, or a distribution, of `s`), or None."""
    try:
        keys = parse_path(data, path)
        value = value_at(s, keys)
    except PathError as err:
        return str(err)
    except KeyError:
        return f"no such value (expected a path to a number, got '{path}')"
    if keys[0] == "levers":
        return f"a lever cannot be part of the levers section (expected a path to a model parameter, got '{path}')"
    if isinstance(value, bool) or not isinstance(value, (int, float, Distribution)):
        kind = "section" if isinstance(value, (BaseModel, dict)) else type(value).__name__
        return f"expected a path to a number, got a {kind}"
    return None


def _citation_refs(s: Scenario) -> Iterator[Finding]:
    """Declared ids are new ids, and a claim's `source` names a reference (or the seed article)."""
    digest = load_digest()
    for section, declared in (("references", s.references), ("claims", s.claims)):
        for did in declared:
            if did in digest.ids:
                kind = "claim" if did in digest.claims else "reference"
                yield (section, did), f"id already names a {kind} in seeds/ (expected a new id, got '{did}')"
    for did in sorted(set(s.references) & set(s.claims)):
        yield ("claims", did), f"id already names one of this scenario's references (expected a new id, got '{did}')"
    documents = {*s.references, *digest.references, *([digest.source["id"]] if "id" in digest.source else [])}
    for cid, claim in s.claims.items():
        if claim.source is not None and claim.source not in documents:
            yield ("claims", cid, "source"), (
                f"unknown reference (expected a reference id from seeds/ or this scenario's references, "
                f"got '{claim.source}'){did_you_mean(claim.source, documents)}"
            )


def _source_refs(s: Scenario, source_ids: set[str]) -> Iterator[Finding]:
    yield from raw_source_refs(s.model_dump(), source_ids)


def raw_source_refs(data: Any, source_ids: set[str]) -> Iterator[Finding]:
    """Unknown ids in every `sources` list, checked on raw data so it works on invalid files too."""
    for path, sources in _all_sources(data, ()):
        if not isinstance(sources, list):
            continue
        for i, source in enumerate(sources):
            if isinstance(source, str) and source not in source_ids:  # non-strings: the schema says
                yield (*path, "sources", i), (
                    f"unknown source (expected a claim or reference id from seeds/ or this scenario's "
                    f"claims or references, got '{source}')"
                    f"{did_you_mean(source, source_ids)}"
                )


def _all_sources(node: Any, path: tuple[Key, ...]) -> Iterator[tuple[tuple[Key, ...], Any]]:
    if isinstance(node, dict):
        if "sources" in node:
            yield path, node["sources"]
        for key, value in node.items():
            yield from _all_sources(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _all_sources(value, (*path, i))
