"""`sim explain`: what a scenario's parts are and the words and works they rest on.

`explain(s)` gives each red line, commitment, agreement and inject with what triggers it and its sources;
`explain(s, PATH)` gives any part of the scenario: a parameter's value or distribution, a
whole block, or a section of blocks, each with the sources of the block it belongs to (the
quote of each claim, the citation of each reference) and that block's note.
"""

from __future__ import annotations

import textwrap
from typing import Any

from pydantic import BaseModel

from ..scenario import Distribution, Scenario
from ..scenario.citations import Citation, DeclaredClaim, DeclaredReference, citations
from ..scenario.dotpath import PathError, parse_path, value_at
from ..scenario.params import EMPIRICAL, number_text, value_text
from ..scenario.schema import Agreement, Commitment, Inject, RedLine, Sourced, When
from ..scenario.yamlio import Key, dotted

WIDTH = 96


def _v(value: Any) -> str:
    return value_text(value.model_dump() if isinstance(value, BaseModel) else value)


def _sources(s: Scenario, ids: list[str], indent: str = "    ") -> list[str]:
    known = citations(s.references, s.claims)
    return [_citation(known[sid], indent) if sid in known else f"{indent}[{sid}] (unknown source)" for sid in ids]


def _citation(c: Citation, indent: str) -> str:
    return f"{indent}[{c.id}] {c.text}"


def _note(note: str, indent: str = "  ") -> list[str]:
    lead = f"{indent}why: "
    return textwrap.wrap(note, width=WIDTH, initial_indent=lead, subsequent_indent=" " * len(lead)) if note else []


def _provenance(s: Scenario, block: Sourced, indent: str = "  ") -> list[str]:
    return [*_note(block.note, indent), f"{indent}sources:", *_sources(s, block.sources, indent + "  ")]


# --- the overview: red lines, commitments, injects ----------------------------------------------


def _red_line(s: Scenario, lid: str, line: RedLine) -> list[str]:
    t = line.trigger
    ambiguous = f", or {' or '.join(t.ambiguous)} read as such with probability {_v(t.slack)}" if t.ambiguous else ""
    return [
        f"red line {lid} (owner {line.owner}, drawn {line.drawn})",
        f"  crossed when {t.actor} starts or takes {' or '.join(t.actions)} toward {t.target}{ambiguous}",
        f"  warning band: {', '.join(line.warning) or 'none'}",
        f"  declared response: {line.response.action} toward {line.response.target}, "
        f"after {_v(line.response.lag)} rounds; its cost to the crosser {_v(line.cost)}",
        f"  publicity {_v(line.publicity)}, specificity {_v(line.specificity)}, "
        f"initial credibility {_v(line.credibility)}, propensity {_v(line.propensity)}",
        *_provenance(s, line),
    ]


def _commitment(s: Scenario, cid: str, c: Commitment) -> list[str]:
    tr = c.trigger
    readable = list(dict.fromkeys(tr.actions + tr.ambiguous))
    kind = "mutual" if len(c.obligations) == 2 else "one-way"
    lines = [
        f"commitment {cid} ({' and '.join(c.parties)}, {kind}), status {c.status}"
        + (f", signed {c.signed}" if c.signed is not None else ""),
        f"  triggered by aggression against a guaranteed party ({' or '.join(tr.actions)}); with probability "
        f"{_v(c.slack)}, {' or '.join(readable)} read as aggression whoever started the fight",
    ]
    for guarantor, o in c.obligations.items():
        lines.append(
            f"  {guarantor} owes {o.action} toward the {o.toward}, honoured with probability {_v(o.honour)}, "
            f"after {_v(o.lag)} rounds; its cost to an attacker {_v(o.cost)}"
        )
    if c.nullification:
        n = c.nullification
        lines.append(f"  nullified at rate {_v(n.rate)} per {s.rates_per} once {n.state} < {_v(n.below)}")
    return [*lines, *_provenance(s, c)]


def _agreement(s: Scenario, gid: str, g: Agreement) -> list[str]:
    values = ", ".join(f"{p} {_v(v)}" for p, v in g.value.items())
    return [
        f"agreement {gid} ({' and '.join(g.parties)}){', in force at the start' if g.in_force else ''}"
        + (f", from {g.from_}" if g.from_ is not None else ""),
        f"  stops {', '.join(g.stops) or 'nothing (talks)'} between them; values {values}; "
        f"proposed at rate {_v(g.proposal_rate)} per {s.rates_per}",
        f"  mediators: {', '.join(g.mediators) or 'none'} (mediation {_v(g.mediation)}); eases {_v(g.eases)}, "
        f"break cost {_v(g.break_cost)}",
        *_provenance(s, g),
    ]


def _inject(s: Scenario, iid: str, inject: Inject) -> list[str]:
    span = f"round {inject.round}" + (f" to {inject.until}" if inject.until else "")
    if inject.when is not None:
        span = f"once, from {span}, when {_condition(inject.when)}"
    forced = [f"{a} {m.action} toward {m.target}" for a, m in inject.force.items()]
    stopped = [f"{a} stops {m.action} toward {m.target}" + (f" for {m.for_} rounds" if m.for_ else "")
               for a, ms in inject.stop.items() for m in ms]
    signed = [f"{gid} signed" for gid in inject.sign]
    changes = [f"{k} := {_v(v)}" for k, v in {**inject.set_state, **inject.set_status, **inject.set}.items()]
    return [
        f"inject {iid}: {span}, probability {_v(inject.probability)}: {'; '.join(forced + stopped + signed + changes)}",
        *_provenance(s, inject),
    ]


def _condition(when: When) -> str:
    parts = []
    if when.actor is not None:
        toward = f" toward {when.target}" if when.target else ""
        parts.append(f"{when.actor} has taken {when.action}{toward}")
    parts += [f"{v} >= {_v(level)}" for v, level in when.state_above.items()]
    parts += [f"{v} < {_v(level)}" for v, level in when.state_below.items()]
    return " and ".join(parts)


def _overview(s: Scenario) -> str:
    out = [f"{s.name}: {s.description}", ""]
    for lid, line in s.red_lines.items():
        out += [*_red_line(s, lid, line), ""]
    for cid, c in s.commitments.items():
        out += [*_commitment(s, cid, c), ""]
    for gid, g in s.agreements.items():
        out += [*_agreement(s, gid, g), ""]
    for iid, inject in s.injects.items():
        out += [*_inject(s, iid, inject), ""]
    out += ["scenario sources:", *_sources(s, s.sources)]
    return "\n".join(out)


# --- any path -----------------------------------------------------------------------------------

_SPECIAL = {RedLine: _red_line, Commitment: _commitment, Agreement: _agreement, Inject: _inject}


def _owner(s: Scenario, keys: tuple[Key, ...]) -> tuple[tuple[Key, ...], Sourced | Scenario]:
    """The innermost sourced block holding `keys` (the scenario itself at the top)."""
    for n in range(len(keys), 0, -1):
        node = value_at(s, keys[:n])
        if isinstance(node, Sourced):
            return keys[:n], node
    return (), s


def _owner_lines(s: Scenario, keys: tuple[Key, ...]) -> list[str]:
    where, owner = _owner(s, keys)
    if isinstance(owner, Scenario):
        return ["  sources (of the scenario):", *_sources(s, s.sources)]
    lines = _note(owner.note)
    if where != keys:
        return [*lines, f"  sources (of {dotted(where)}):", *_sources(s, owner.sources)]
    return [*lines, "  sources:", *_sources(s, owner.sources)]


def _parameter(s: Scenario, keys: tuple[Key, ...], value: Any) -> list[str]:
    path = dotted(keys)
    if isinstance(value, Distribution):
        head = f"{path} = {value}: drawn once per run"
        if value.kind != EMPIRICAL:  # an empirical prints its mean already
            head += f", mean {number_text(value.mean)}"
        elif value.joint:
            head += f" (one row of the joint group '{value.joint}' for every member)"
        if value.kind == "normal":
            head += f", draws clipped to [{number_text(value.low)}, {number_text(value.high)}]"
        head += f" (results: param.{path})"
    else:
        head = f"{path} = {_v(value)}"
    lines = [head]
    parent = value_at(s, keys[:-1]) if keys else None
    if isinstance(parent, BaseModel) and not isinstance(parent, Sourced | Scenario):
        lines.append(f"  part of {dotted(keys[:-1])}: {_v(parent)}")  # a driver, an effect, a policy
    known = citations(s.references, s.claims)
    if isinstance(value, str) and keys and keys[-2:-1] == ("sources",) and value in known:
        lines.append(_citation(known[value], "  "))
    return [*lines, *_owner_lines(s, keys)]


def _block(s: Scenario, keys: tuple[Key, ...], block: BaseModel) -> list[str]:
    special = next((f for kind, f in _SPECIAL.items() if isinstance(block, kind)), None)
    if special is not None:
        return special(s, str(keys[-1]), block)
    if isinstance(block, DeclaredClaim | DeclaredReference):
        return _own_source(s, str(keys[-1]), block)
    label = getattr(block, "label", "")
    lines = [f"{dotted(keys)}" + (f": {label}" if label else "")]
    for name in type(block).model_fields:
        value = getattr(block, name)
        if name not in ("label", "sources", "note") and value not in ("", None):
            lines.append(f"  {name}: {_v(value)}")
    return [*lines, *_owner_lines(s, keys)]


def _own_source(s: Scenario, sid: str, block: DeclaredClaim | DeclaredReference) -> list[str]:
    """A claim or reference the scenario declares: what it says, what it informs, who cites it."""
    kind = "claim" if isinstance(block, DeclaredClaim) else "reference"
    informs = block.informs if isinstance(block.informs, list) else [block.informs] if block.informs else []
    cited = [dotted(path) or "the scenario" for path in _cited_by(s.model_dump(mode="json"), sid)]
    return [
        f"{kind} {sid} (declared in the scenario)",
        _citation(citations(s.references, s.claims)[sid], "  "),
        *([f"  informs: {'; '.join(informs)}"] if informs else []),
        *_note(block.note),
        f"  cited by: {', '.join(cited) or 'nothing yet'}",
    ]


def _cited_by(node: Any, sid: str, path: tuple[Key, ...] = ()) -> list[tuple[Key, ...]]:
    """The blocks whose `sources` list `sid`, at any depth (() for the scenario itself)."""
    found: list[tuple[Key, ...]] = []
    if isinstance(node, dict):
        if sid in (node.get("sources") or []):
            found.append(path)
        for key, value in node.items():
            found += _cited_by(value, sid, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _cited_by(value, sid, (*path, i))
    return found


def _section(s: Scenario, keys: tuple[Key, ...], entries: dict | list) -> list[str]:
    items = entries.items() if isinstance(entries, dict) else enumerate(entries)
    lines = [f"{dotted(keys)}: {len(entries)} entr{'y' if len(entries) == 1 else 'ies'}"]
    for key, value in items:
        child = (*keys, key)
        if isinstance(value, BaseModel):
            lines += ["", *_block(s, child, value)]
        else:
            lines.append(f"  {dotted(child)} = {_v(value)}")
    return lines


def explain_path(s: Scenario, path: str) -> str:
    """Any part of the scenario at a dotted path (`actors.south_korea.resolve`,
    `state.x.drivers[0].delta`, `actors.russia`, `red_lines`), with its sources and note.

    Raises PathError (with a "did you mean") for a path that is not in the scenario.
    """
    keys = parse_path(s.model_dump(mode="json"), path)
    keys, value = _deepest_value(s, keys)
    if isinstance(value, Scenario):
        return _overview(s)
    if _only_blocks(value):  # `dynamics`: a group of sourced blocks reads as a section of them
        return "\n".join(_section(s, keys, {name: getattr(value, name) for name in type(value).model_fields}))
    if isinstance(value, BaseModel):
        return "\n".join(_block(s, keys, value))
    if isinstance(value, dict | list) and any(isinstance(v, BaseModel) for v in _values(value)):
        return "\n".join(_section(s, keys, value))
    return "\n".join(_parameter(s, keys, value))


def _only_blocks(value: Any) -> bool:
    fields = type(value).model_fields if isinstance(value, BaseModel) and not isinstance(value, Sourced) else {}
    return bool(fields) and all(isinstance(getattr(value, name), Sourced) for name in fields)


def _values(container: dict | list) -> list[Any]:
    return list(container.values()) if isinstance(container, dict) else list(container)


def _deepest_value(s: Scenario, keys: tuple[Key, ...]) -> tuple[tuple[Key, ...], Any]:
    """The value at `keys`; a path into a distribution's own arguments (`resolve.beta[0]`) stops at it."""
    node: Any = s
    for n, key in enumerate(keys):
        if isinstance(node, Distribution):
            return keys[:n], node
        node = value_at(node, (key,))
    return keys, node


def explain(s: Scenario, path: str | None = None) -> str:
    """The scenario's red lines, commitments and injects with their sources; or, given a dotted
    `path`, that part of the scenario (see explain_path)."""
    return _overview(s) if not path else explain_path(s, path)


__all__ = ["PathError", "explain", "explain_path"]
