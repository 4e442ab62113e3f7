"""The page of `sim app` (Solara components). Every number on it comes from `views`, computed
from a results directory that `sim run` would have written; the page only arranges them.

State lives in Solara reactive variables and a run task, one set per browser session.
"""

from __future__ import annotations

import html
import os
import re
import threading
from pathlib import Path
from typing import Any

import solara
import solara.lab

from . import views
from .parameters import Parameter, catalog, command, explanation, inject, parameters, reference, set_texts
from .runner import Cancelled, run_in_folder
from .server import RESULTS_ENV
from ..experiments.destination import OutputError
from ..scenario import ScenarioError, load_scenario

SHOWN = 12  # values listed at once; the search narrows them
NOBODY = "(none)"
STYLE = """
.sim-table { border-collapse: collapse; margin: 4px 0 12px 0; font-size: 14px; }
.sim-table th, .sim-table td { text-align: left; padding: 2px 14px 2px 0; vertical-align: top; }
.sim-table th { border-bottom: 1px solid #bbb; }
.sim-command { background: #f4f4f4; padding: 6px; }
"""

CATALOG = catalog()
DEFAULT_WORLD = next((w for w, names in CATALOG.items() if "baseline" in names), next(iter(CATALOG)))

world = solara.reactive(DEFAULT_WORLD)
scenario_name = solara.reactive("baseline" if "baseline" in CATALOG[DEFAULT_WORLD] else DEFAULT_WORLD)
runs = solara.reactive(2000)
seed = solara.reactive(0)
overrides: solara.Reactive[dict[str, Any]] = solara.reactive({})
search = solara.reactive("")
problem = solara.reactive("")
versus = solara.reactive(NOBODY)
run_path: solara.Reactive[str | None] = solara.reactive(None)
run_ref = solara.reactive("")  # the scenario as named when it was run (a name or a world file)
versus_path: solara.Reactive[str | None] = solara.reactive(None)
chosen_class: solara.Reactive[str | None] = solara.reactive(None)
traced_run: solara.Reactive[int | None] = solara.reactive(None)
measure: solara.Reactive[str | None] = solara.reactive(None)
inject_count = solara.reactive(0)


def results_folder() -> Path:
    return Path(os.environ.get(RESULTS_ENV) or "results/app")


def table(header: list[str], rows: list[list[Any]], name: str) -> solara.Element:
    """An HTML table with class `name` (the browser test finds tables by it)."""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return solara.HTML(tag="table", unsafe_innerHTML=f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody>",
                       classes=[name, "sim-table"])


def pre(text: str, name: str) -> solara.Element:
    """Preformatted text with class `name`."""
    return solara.HTML(tag="pre", unsafe_innerHTML=html.escape(text), classes=[name],
                       style="white-space: pre-wrap; font-size: 12px")


def prose(text: str) -> solara.Element:
    """A little Markdown (lines of `#` headings or paragraphs, `code`, **bold**) as HTML. Not
    solara.Markdown: its math support loads KaTeX, which solara-assets lacks, from a CDN."""
    parts = []
    for line in text.split("\n"):
        level = len(line) - len(line.lstrip("#"))
        body = html.escape(line.lstrip("#").strip())
        body = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", body)
        body = re.sub(r"`(.+?)`", r"<code>\1</code>", body)
        tag = f"h{level}" if level else "p"
        parts.append(f"<{tag}>{body}</{tag}>")
    return solara.HTML(tag="div", unsafe_innerHTML="".join(parts))


def pct(p: float, low: float, high: float) -> str:
    return "–" if p != p else f"{100 * p:.1f}% [{100 * low:.1f}, {100 * high:.1f}]"


def signed(d: float, low: float, high: float) -> str:
    return f"{100 * d:+.1f} pp [{100 * low:+.1f}, {100 * high:+.1f}]"


def execute(start: solara.lab.Task, stop: threading.Event, which: str) -> None:
    """The body of the session's run task `start`: run the edited scenario (`which` = "run") or
    the second scenario with the same seed and runs (`which` = "versus"), writing a results
    directory; the page shows it when done. `stop`, set by Cancel, ends it after the block under
    way (or before it starts: the event is cleared by the click that starts the run, not here)."""
    name, changes = (scenario_name.value, overrides.value) if which == "run" else (versus.value, {})
    ref = reference(name)
    problem.set("")

    def progress(share: float) -> None:
        start.progress = 100 * share

    try:
        path = run_in_folder(results_folder(), ref, runs.value, seed.value, set_texts(changes), progress,
                            stopped=stop.is_set)
    except Cancelled:
        problem.set("Run cancelled: nothing was kept.")
        return
    except ScenarioError as err:
        problem.set("; ".join(str(p) for p in err.problems))
        return
    except (ValueError, OutputError) as err:
        problem.set(str(err))
        return
    except Exception as err:  # shown on the page rather than lost in the server's log
        problem.set(f"internal error: {type(err).__name__}: {err}")
        raise
    if which == "run":
        run_ref.set(ref)
        run_path.set(str(path))
        chosen_class.set(None)
        traced_run.set(None)
    else:
        versus_path.set(str(path))


def launch(start: solara.lab.Task, stop: threading.Event, which: str) -> None:
    stop.clear()
    start(which)


@solara.component
def Picker(start: solara.lab.Task, stop: threading.Event) -> None:
    def pick_world(value: str) -> None:
        world.set(value)
        scenario_name.set(CATALOG[value][0])
        overrides.set({})

    def pick_scenario(value: str) -> None:
        scenario_name.set(value)
        overrides.set({})

    solara.Select("World", value=world.value, values=list(CATALOG), on_value=pick_world)
    solara.Select("Scenario", value=scenario_name.value, values=CATALOG[world.value], on_value=pick_scenario)
    solara.InputInt("Runs", value=runs, continuous_update=False)
    solara.InputInt("Seed", value=seed, continuous_update=False)
    running = start.pending
    with solara.Row():
        solara.Button("Run", on_click=lambda: launch(start, stop, "run"), disabled=running, color="primary",
                      classes=["sim-run"])
        solara.Button("Cancel", on_click=stop.set, disabled=not running, classes=["sim-cancel"])
    share = start.progress
    solara.ProgressLinear(value=(share if share else True) if running else False, classes=["sim-progress"])
    if problem.value:
        solara.Error(problem.value, classes=["sim-problem"])


def apply(path: str, value: Any) -> None:
    """Change one value (None: back to the scenario's), refused with the loader's message if invalid."""
    changed = {k: v for k, v in overrides.value.items() if k != path}
    if value is not None:
        changed[path] = value
    try:
        load_scenario(reference(scenario_name.value), changed)
    except ScenarioError as err:
        problem.set("; ".join(str(p) for p in err.problems))
        return
    problem.set("")
    overrides.set(changed)


def parse_value(text: str) -> Any:
    import yaml

    return yaml.safe_load(text)


@solara.component
def ValueRow(p: Parameter, scenario: Any) -> None:
    explained = explanation(scenario, p.path)
    cited = re.findall(r"^\s+\[([^\]]+)\]", explained, re.M)
    with solara.Card(classes=["sim-value"], margin=0):
        prose(f"**`{p.path}`** = {p.text}" + (f"  (range {p.low:g} to {p.high:g})" if p.bounded else ""))
        solara.Text(f"rests on: {', '.join(cited) or 'no source named'}", style="font-size: 12px; color: #555")
        with solara.Row():
            solara.InputText(f"new value for {p.path}", value="", continuous_update=False,
                             on_value=lambda text: apply(p.path, parse_value(text)) if text.strip() else None)
            if p.bounded and isinstance(p.value, float | int):
                solara.SliderFloat("", value=p.number, min=p.low, max=p.high, step=(p.high - p.low) / 100,
                                   on_value=lambda x: apply(p.path, round(x, 6)))
        with solara.Details("source and note"):
            pre(explained, "sim-explain")


@solara.component
def Values(scenario: Any) -> None:
    prose("### Values\nEvery value by its dotted path (as `--set` and `sim explain` name them). "
                    "Type a number, or a distribution such as `{beta: [5, 3]}`.")
    solara.InputText("Search values by path", value=search, continuous_update=True)
    rows = parameters(scenario)
    if search.value:
        shown = [p for p in rows if search.value.lower() in p.path.lower()]
    else:  # the scenario's own levers and its uncertain values first
        levers = {lever.path for lever in scenario.levers}
        shown = [p for p in rows if p.path in levers] + [p for p in rows if p.path not in levers and
                                                         not isinstance(p.value, float | int)]
    solara.Text(f"{len(shown)} of {len(rows)} values" + (f"; the first {SHOWN} shown" if len(shown) > SHOWN else ""))
    for p in shown[:SHOWN]:
        ValueRow(p, scenario)
    if overrides.value:
        prose("**Your changes** (as `sim run` arguments)")
        pre("\n".join(f"--set '{text}'" for text in set_texts(overrides.value)), "sim-changes")
        solara.Button("Undo all changes", on_click=lambda: overrides.set({}))


@solara.component
def Injects(scenario: Any) -> None:
    actors, actions = list(scenario.actors), list(scenario.actions)
    actor = solara.use_reactive(actors[0])
    action = solara.use_reactive(actions[len(actions) // 2])
    target = solara.use_reactive(actors[-1])
    when = solara.use_reactive(2)
    chance = solara.use_reactive(1.0)

    def add() -> None:
        number = inject_count.value + 1
        path, value = inject(number, when.value, actor.value, action.value, target.value, chance.value)
        apply(path, value)
        if path in overrides.value:
            inject_count.set(number)

    prose("### Add an inject\nForce an actor to take an action at a round, with a probability per run.")
    with solara.Row():
        solara.Select("Actor", value=actor, values=actors)
        solara.Select("Action", value=action, values=actions)
        solara.Select("Target", value=target, values=actors)
    with solara.Row():
        solara.InputInt("Round", value=when)
        solara.SliderFloat("Probability", value=chance, min=0.0, max=1.0, step=0.05)
    solara.Button("Add inject", on_click=add, classes=["sim-add-inject"])


@solara.component
def Outcomes(results: views.Results) -> None:
    table_ = views.outcomes(results)
    prose(f"### Outcomes\n{len(results.runs):,} runs of `{results.scenario.name}`, seed "
                    f"{results.manifest['seed']}, 95% intervals (Wilson)")
    table(["outcome", "probability", "this class or worse", "runs"],
          [[r.outcome, pct(r.p, r.low, r.high), pct(r.p_or_worse, r.or_worse_low, r.or_worse_high), f"{r.runs:,}"]
           for r in table_.itertuples()], "sim-outcomes")
    lines = views.red_lines(results)
    if len(lines):
        prose("### Red lines")
        table(["red line", "crossed", "seen by its owner", "enforced when seen", "crossings"],
              [[r.red_line, pct(r.crossed, r.crossed_low, r.crossed_high), pct(r.seen, r.seen_low, r.seen_high),
                pct(r.enforced, r.enforced_low, r.enforced_high), f"{r.crossings:,}"] for r in lines.itertuples()],
              "sim-red-lines")


@solara.component
def ByDate(results: views.Results) -> None:
    from matplotlib.figure import Figure

    dated = views.classes_by_date(results)
    classes = [c for c in results.classes if c in dated.columns]
    figure = Figure(figsize=(8, 3.2))
    ax = figure.subplots()
    for name in classes:
        ax.plot(range(len(dated)), dated[name], label=f"{name} or worse")
        ax.fill_between(range(len(dated)), dated[f"{name} low"], dated[f"{name} high"], alpha=0.2)
    step = max(1, len(dated) // 8)
    ax.set_xticks(range(0, len(dated), step), dated["date"][::step], fontsize=8)
    ax.set_ylabel("probability by date")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7, loc="upper left")
    figure.tight_layout()
    prose("### P(class or worse) by date\nThe share of runs that reached each class or worse by the "
                    "round starting on each date (shaded: 95% intervals).")
    solara.FigureMatplotlib(figure)
    asked = views.questions(results)
    labels = list(asked)
    chosen = measure.value if measure.value in asked else labels[0]
    prose("### A measure by date\nThe scenario's declared measures first, then any event the runs date.")
    solara.Select("Measure", value=chosen, values=labels, on_value=measure.set)
    frame = views.question_by_date(results, asked[chosen])
    table(["round starting", f"P({chosen} by then)"],
          [[r.date, pct(r.p, r.low, r.high)] for r in frame.itertuples()], "sim-measure")


@solara.component
def Paths(results: views.Results) -> None:
    prose("### How runs got there\nPick a class: the most common first events of the runs that reach "
                    "it or worse (`sim paths`), then read one of them as a story (`sim trace`).")
    counts = views.outcomes(results)
    with solara.Row(classes=["sim-classes"]):
        for r in counts.itertuples():
            solara.Button(r.outcome, disabled=r.p_or_worse == 0, on_click=lambda c=r.outcome: pick_class(c),
                          text=chosen_class.value != r.outcome)
    if chosen_class.value is None:
        return
    found = views.paths(results, chosen_class.value)
    if not len(found):
        solara.Text("No run reaches that class.")
        return
    table(["share", "95% interval", "runs", "e.g. run", "first events"],
          [[f"{r.share:.3f}", f"[{r.low:.3f}, {r.high:.3f}]", f"{r.runs:,}", r.example, r.sequence]
           for r in found.itertuples()], "sim-paths")
    with solara.Row():
        for example in found["example"].head(3):
            solara.Button(f"Trace run {example}", on_click=lambda n=int(example): traced_run.set(n), text=True,
                          classes=["sim-trace-button"])
    if traced_run.value is not None:
        pre(views.trace_text(results, traced_run.value), "sim-trace")


def pick_class(name: str) -> None:
    chosen_class.set(name)
    traced_run.set(None)


@solara.component
def Compare(results: views.Results, start: solara.lab.Task, stop: threading.Event) -> None:
    prose("### Against a second scenario\nThe second scenario runs with the same seed and number of runs: "
                    "common random numbers, so run i of each shares its draws and B − A is a paired difference "
                    "(Newcombe's paired interval, 95%).")
    names = [n for names in CATALOG.values() for n in names]
    with solara.Row():
        solara.Select("Compare with (A)", value=versus, values=[NOBODY, *names])
        solara.Button("Run A", on_click=lambda: launch(start, stop, "versus"),
                      disabled=versus.value == NOBODY or start.pending, classes=["sim-run-versus"])
    if versus_path.value is None:
        return
    other = views.Results.read(versus_path.value)
    if len(other.runs) != len(results.runs) or other.manifest["seed"] != results.manifest["seed"]:
        solara.Warning("A was run with another seed or number of runs: run A again to pair them.")
        return
    try:
        diff = views.comparison(other, results)
    except ValueError as err:
        solara.Error(str(err))
        return
    table(["", f"A: {other.scenario.name}", f"B: {results.scenario.name}", "B − A (95%)", ""],
          [[r.measure, f"{100 * r.a:.1f}%", f"{100 * r.b:.1f}%", signed(r.diff, r.low, r.high),
            "*" if r.significant else ""] for r in diff.itertuples()], "sim-compare")
    solara.Text("* the interval excludes zero")


@solara.component
def Downloads(results: views.Results) -> None:
    prose("### Take it elsewhere")
    name = results.scenario.name
    with solara.Row():
        solara.FileDownload(lambda: views.summary_csv(results), filename=f"{name}-summary.csv",
                            label="Download CSV (summary)", mime_type="text/csv")
        solara.FileDownload(lambda: views.runs_csv(results), filename=f"{name}-runs.csv",
                            label="Download CSV (runs, tidy)", mime_type="text/csv")
        solara.FileDownload(lambda: views.report_html(results), filename=f"{name}-report.html",
                            label="Download HTML report", mime_type="text/html")
    solara.Text(f"Results directory: {results.path}")


@solara.component
def Page() -> None:
    solara.Title("sim app")
    solara.Style(STYLE)
    # One run task and one stop signal per browser session (a module-level task would share its
    # thread across tabs).
    holder = solara.use_ref(None)
    stop = solara.use_memo(threading.Event, dependencies=[])
    start = solara.lab.use_task(lambda which: execute(holder.current, stop, which), dependencies=None)
    holder.current = start
    key = (scenario_name.value, repr(sorted(overrides.value.items(), key=lambda kv: kv[0])))
    scenario = solara.use_memo(lambda: load_scenario(reference(scenario_name.value), overrides.value),
                               dependencies=[key])
    results = solara.use_memo(lambda: views.Results.read(run_path.value) if run_path.value else None,
                              dependencies=[run_path.value])
    with solara.Sidebar():
        prose("## sim app")
        Picker(start, stop)
        prose(scenario.description)
    with solara.Column():
        if results is not None:
            pre(command(run_ref.value, len(results.runs), results.manifest["seed"],
                        results.manifest.get("overrides", [])), "sim-command")
            Outcomes(results)
            ByDate(results)
            Paths(results)
            Compare(results, start, stop)
            Downloads(results)
        else:
            solara.Info("Pick a scenario, change what you like, then Run.")
        Values(scenario)
        Injects(scenario)
