"""`sim discover`: where in parameter space an outcome concentrates (PRIM scenario discovery).

Reads a sweep or sensitivity directory (each run's point values), or a run directory whose
scenario samples parameters per run (param.<path> columns), and prints the boxes of parameter
values in which runs end in --outcome CLASS: each box's coverage (share of all such runs inside
it), density (share of the box's runs that end so) and limits, as `--vary PATH=lo:hi` ranges to
explore further and `--set PATH=VALUE` middles to run. Draws the peeling trade-off figure.

Example:  sim discover results/baseline/sweep-... --outcome militarized_crisis --threshold 0.2
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got '{text}'") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {value:g}")
    return value


def add_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    disc = command("discover", _discover, "PRIM boxes: where in parameter space an outcome concentrates")
    disc.description = __doc__
    disc.formatter_class = argparse.RawDescriptionHelpFormatter
    disc.add_argument("dir", type=Path, metavar="DIR", help="a sweep, sensitivity or run directory")
    disc.add_argument("--outcome", required=True, metavar="CLASS", help="the outcome class of interest")
    disc.add_argument("--threshold", type=_fraction, default=0.5,
                      help="the density a box must reach: share of its runs ending in CLASS (default 0.5)")
    disc.add_argument("--boxes", type=int, choices=range(1, 6), default=1, metavar="{1..5}",
                      help="how many boxes to look for, each among the runs outside the earlier ones (default 1)")
    disc.add_argument("--step", type=int, metavar="K",
                      help="take the first box at peeling step K (numbered on the figure) instead of by --threshold")
    disc.add_argument("--plot", type=Path, metavar="FILE",
                      help="the peeling figure (default DIR/figures/discover-CLASS.png)")


def _discover(args: argparse.Namespace) -> int:
    from . import UsageError
    from .plot import _agg
    from ..experiments.designs import SweepInputError
    from ..experiments.destination import check_out_place
    from ..experiments.discovery import discover, read_cases
    from ..report.analysis_plots import peeling_figure
    from ..report.figures import write_figures

    _agg()
    plot = args.plot or args.dir / "figures" / f"discover-{args.outcome}.png"
    if plot.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise UsageError(f"--plot {plot}: unknown figure format (expected a .png, .svg or .pdf file)")
    check_out_place(plot, "--plot")
    try:
        cases = read_cases(args.dir, args.outcome)
        boxes = discover(cases, args.threshold, args.boxes, args.step)
    except SweepInputError as err:
        raise UsageError(str(err)) from None
    total = int(cases.y.sum())
    runs = f"{len(cases.y):,} runs" + (f" drawn at random from its {cases.total:,}" if cases.total else "")
    print(f"{args.dir} ({cases.source}): {runs}, {total:,} ending in {args.outcome} "
          f"({total / len(cases.y):.1%}); {cases.x.shape[1]} parameters vary: {', '.join(cases.x.columns)}")
    for i, box in enumerate(boxes, start=1):
        if box.reached:
            status = ""
        elif args.step is not None and i == 1:
            status = f"  (the step asked for; its density is below {args.threshold:g})"
        else:
            status = (f"  (density never reaches {args.threshold:g}: the densest box, often over-fitted; "
                      "pick a simpler one with --step K from the figure)")
        print(f"\nbox {i}: coverage {box.coverage:.3f}, density {box.density:.3f}, mass {box.mass:.3f} "
              f"(peeling step {box.chosen}){status}")
        if not box.limits:
            print("  restricts nothing: the outcome does not concentrate anywhere")
            continue
        for line in box.vary():
            print(f"  --vary {line}")
        print("  run its middle:  " + " ".join(f"--set {s}" for s in box.set()))
    if len(boxes) < args.boxes and boxes[-1].reached:
        print(f"\nno further box reaches density {args.threshold:g} among the runs outside box {len(boxes)}")
    name = plot.stem
    figure = peeling_figure(boxes[0].trajectory, boxes[0].chosen, outcome=args.outcome, threshold=args.threshold,
                            meta=f"{args.dir} · {len(cases.y):,} runs · PRIM peel_alpha 0.05")
    written = write_figures({name: figure}, plot.parent, plot.suffix.lstrip(".").lower())
    print(f"\n{written[0]}")
    return 0
