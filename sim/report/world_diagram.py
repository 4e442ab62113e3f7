"""Who is committed to whom: a diagram of a world's actors, red lines, commitments and agreements."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..scenario import Scenario
from .figure_data import Meta
from .plots import BLUE, GREEN, VERMILLION, caption, styled

SPACING = 0.09  # how far parallel arrows between the same two actors are drawn apart


@styled
def world_diagram(scenario: Scenario, meta: Meta | None = None) -> Figure:
    """Actors on a circle; red lines as red arrows from the owner to the actor it deters (labelled
    with the line's id and trigger actions), commitments as blue arrows from each obliged party
    to the one it protects, agreements as green dashed lines between the parties (dotted to
    mediators)."""
    figure = Figure(figsize=(9.0, 8.0), layout="constrained")
    ax = figure.add_subplot()
    actors = list(scenario.actors)
    angles = np.linspace(np.pi / 2, np.pi / 2 - 2 * np.pi, len(actors), endpoint=False)
    where = {a: np.array([math.cos(t), math.sin(t)]) for a, t in zip(actors, angles)}
    drawn: dict[frozenset[str], int] = {}

    def link(a: str, b: str, colour: str, label: str, style: str = "-", heads: str = "-|>", along: float = 0.5) -> None:
        key = frozenset((a, b))
        k = drawn.get(key, 0)
        drawn[key] = k + 1
        start, end = where[a], where[b]
        normal = np.array([-(end - start)[1], (end - start)[0]])
        normal = normal / (np.linalg.norm(normal) or 1.0)
        offset = normal * SPACING * k * (1 if min(a, b) == a else -1)  # the k-th link between two actors, beside the first
        head, tail = start + 0.14 * (end - start) + offset, end - 0.14 * (end - start) + offset
        ax.annotate("", xy=tail, xytext=head, arrowprops={"arrowstyle": heads, "color": colour,
                                                          "linestyle": style, "linewidth": 1.6})
        at = head + (along - 0.22 * k) * (tail - head)  # labels of parallel links apart along the line
        ax.text(*at, label, fontsize=7, color=colour, ha="center", va="center",
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 0.5})

    for lid, line in scenario.red_lines.items():
        link(line.owner, line.trigger.actor, VERMILLION, f"red line {lid}\n({', '.join(line.trigger.actions)} "
                                                         f"→ {line.trigger.target})")
    for cid, commitment in scenario.commitments.items():
        label = f"{cid}\n({commitment.status})"
        if len(commitment.obligations) == 2:  # mutual: one line with both heads
            link(*commitment.parties, BLUE, f"{label}, mutual", heads="<|-|>", along=0.38)
            continue
        for obligor in commitment.obligations:
            protected = next(p for p in commitment.parties if p != obligor)
            link(obligor, protected, BLUE, label, along=0.38)
    for gid, agreement in scenario.agreements.items():
        a, b = agreement.parties
        link(a, b, GREEN, f"{gid}{' (in force)' if agreement.in_force else ''}", style="--", heads="-", along=0.62)
        for mediator in agreement.mediators:
            if mediator in where:
                link(mediator, a, GREEN, f"mediates {gid}", style=":", heads="-", along=0.7)
    for actor, xy in where.items():
        ax.text(*xy, scenario.actors[actor].label or actor, ha="center", va="center", fontsize=10, weight="bold",
                bbox={"boxstyle": "round,pad=0.5", "facecolor": "#F2F2F2", "edgecolor": "#444444"})
    ax.set_xlim(-1.4, 1.4)
    ax.set_ylim(-1.3, 1.3)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"{scenario.name}: actors, red lines, commitments and agreements", loc="left")
    ax.legend(handles=[Line2D([], [], color=VERMILLION, label="red line: owner → the actor it deters"),
                       Line2D([], [], color=BLUE, label="commitment: obliged party → the party it protects (both heads: mutual)"),
                       Line2D([], [], color=GREEN, linestyle="--", label="agreement between its parties"),
                       Line2D([], [], color=GREEN, linestyle=":", label="mediator")],
              loc="lower center", bbox_to_anchor=(0.5, -0.08), ncols=2, fontsize=8, frameon=False)
    return caption(figure, meta if meta is not None else f"{scenario.name} · start {scenario.start}")
