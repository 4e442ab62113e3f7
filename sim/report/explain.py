"""`sim explain`: each red line and commitment with what triggers it and the words it rests on."""

from __future__ import annotations

import textwrap

from ..scenario import Scenario, load_digest


def _sources(ids: list[str]) -> list[str]:
    digest = load_digest()
    lines = []
    for sid in ids:
        if sid in digest.claims:
            c = digest.claims[sid]
            lines.append(f'    [{sid}] {c.speaker} ({c.role}), {c.date}: "{c.quote}"')
        elif sid in digest.references:
            lines.append(f"    [{sid}] {digest.references[sid].citation}")
    return lines


def _note(note: str) -> list[str]:
    return textwrap.wrap(note, width=96, initial_indent="  why: ", subsequent_indent="       ") if note else []


def explain(s: Scenario) -> str:
    """A readable account of the scenario's red lines, commitments and injects, with sources."""
    out = [f"{s.name}: {s.description}", ""]
    for lid, line in s.red_lines.items():
        t = line.trigger
        out += [
            f"red line {lid} (owner {line.owner})",
            f"  crossed when {t.actor} takes {' or '.join(t.actions)} toward {t.target}",
            f"  warning band: {', '.join(line.warning) or 'none'}",
            f"  declared response: {line.response.action} toward {line.response.target}",
            f"  publicity {line.publicity}, specificity {line.specificity}, initial credibility {line.credibility}",
            *_note(line.note),
            "  sources:",
            *_sources(line.sources),
            "",
        ]
    for cid, c in s.commitments.items():
        tr = c.trigger
        out += [
            f"commitment {cid} ({' and '.join(c.parties)}), status {c.status}",
            f"  triggered by {' or '.join(tr.actions)} against a party"
            + (f", or {' or '.join(tr.ambiguous)} read as one with probability {c.slack}" if tr.ambiguous else ""),
            f"  obligation: {c.obligation.action} toward the {c.obligation.toward}, honoured with probability {c.honour}",
            *(
                [f"  nullified at rate {c.nullification.rate} a round once {c.nullification.state} < {c.nullification.below}"]
                if c.nullification
                else []
            ),
            *_note(c.note),
            "  sources:",
            *_sources(c.sources),
            "",
        ]
    for iid, inject in s.injects.items():
        span = f"round {inject.round}" + (f" to {inject.until}" if inject.until else "")
        forced = [f"{a} {m.action} toward {m.target}" for a, m in inject.force.items()]
        changes = [f"{k} := {v}" for k, v in {**inject.set_state, **inject.set_status}.items()]
        out += [
            f"inject {iid}: {span}, probability {inject.probability}: {'; '.join(forced + changes)}",
            *_note(inject.note),
            "  sources:",
            *_sources(inject.sources),
            "",
        ]
    out += ["scenario sources:", *_sources(s.sources)]
    return "\n".join(out)
