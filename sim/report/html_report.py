"""`sim report DIR`: one self-contained HTML file for a results directory.

Figures are embedded as base64 PNG `data:` URIs and the style sheet is inline, so the file
opens anywhere without a network. Nothing in it loads from elsewhere: sources that carry a URL
show it as text in the sources section, never as a link or an image.

The page is built with the standard library (`html.escape` and f-strings): it is a handful of
fixed sections with tables, so a template engine would add a dependency and nothing else.
Each kind of results directory (the manifest's `kind`) has one function that returns its
sections; adding a kind is one function and one line in SECTIONS.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from matplotlib.figure import Figure

from . import figure_data as fd
from .figures import figures_for
from ..experiments.destination import check_out_file, write_error
from ..scenario import Scenario
from ..experiments.summary import Tally, rate_text
from ..scenario.citations import citations

Section = tuple[str, str, str]  # (anchor id, heading, HTML body)
DPI = 100
MAX_ROWS = 40

STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222; margin: 0 auto;
       max-width: 1180px; padding: 1.5em 2em 4em; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 2px solid #0072B2; padding-bottom: 0.2em;
margin-top: 2em; } h3 { margin-bottom: 0.3em; }
.meta { color: #555; font-size: 0.92em; } .question { font-size: 1.1em; background: #f2f7fb;
border-left: 4px solid #0072B2; padding: 0.6em 1em; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; font-size: 0.9em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.7em; text-align: right; vertical-align: top; }
th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; }
figure { margin: 1em 0 2em; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.88em; } .warning { background: #fff4e5; border-left: 4px solid #D55E00;
padding: 0.6em 1em; }
pre { background: #f8f8f8; border: 1px solid #e4e4e4; padding: 0.8em; overflow-x: auto; font-size: 0.82em;
      white-space: pre-wrap; } nav a { margin-right: 1em; } .sources li { margin-bottom: 0.3em; }
"""


# -- pieces ------------------------------------------------------------------------------------


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def table(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    """A well-formed table: every row has as many cells as the header."""
    header = list(header)
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = list(row)
        cells += [""] * (len(header) - len(cells))
        body.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in cells[: len(header)]) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def figure_html(name: str, figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (f'<figure><img alt="{esc(name)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{esc(name)}</figcaption></figure>")


def figures_html(figures: Iterator[tuple[str, Figure]]) -> str:
    return "".join(figure_html(name, figure) for name, figure in figures)


def pct(p: float) -> str:
    return "–" if p != p else f"{100 * p:.2f}%"


def interval(low: float, high: float) -> str:
    return "–" if low != low else f"{100 * low:.2f}% to {100 * high:.2f}%"


def pre(text: str) -> str:
    return f"<pre>{esc(text)}</pre>"


# -- sections shared by every kind ---------------------------------------------------------------


def sources_section(scenario: Scenario) -> Section:
    """Every claim and reference the scenario cites, with where it is cited (URLs as text only)."""
    known = citations(scenario.references, scenario.claims)
    cited: dict[str, list[str]] = {}
    for path, sources in _cited(scenario.model_dump(), ""):
        for sid in sources:
            cited.setdefault(sid, []).append(path or "(the scenario)")
    items = []
    for sid in sorted(cited, key=lambda s: (known[s].kind if s in known else "z", s)):
        c = known.get(sid)
        text = f"{c.kind}: {c.text}" if c is not None else "(a judgement of the scenario's authors: see its note)"
        where = ", ".join(cited[sid][:6]) + (f" and {len(cited[sid]) - 6} more" if len(cited[sid]) > 6 else "")
        items.append(f"<li><b>[{esc(sid)}]</b> {esc(text)}<br><span class=meta>cited by {esc(where)}</span></li>")
    return "sources", "The scenario's sources", f"<ul class=sources>{''.join(items)}</ul>"


def _cited(node: Any, path: str) -> Iterator[tuple[str, list[str]]]:
    if isinstance(node, dict):
        if isinstance(node.get("sources"), list):
            yield path, [str(s) for s in node["sources"]]
        for key, value in node.items():
            if key != "sources":
                yield from _cited(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _cited(value, f"{path}[{i}]")


def scenario_section(scenario: Scenario) -> Section:
    from .explain import explain

    return "scenario", "The scenario", pre(explain(scenario))


def overrides_html(manifest: dict[str, Any]) -> str:
    """The --set overrides a run was made with, for the top of its report."""
    texts = manifest.get("overrides") or []
    return f"<p class=meta>with --set {esc(', '.join(texts))}</p>" if texts else ""


def manifest_section(manifest: dict[str, Any]) -> Section:
    return "manifest", "Manifest", pre(json.dumps(manifest, indent=2, default=str))


# -- each kind of directory ----------------------------------------------------------------------


def run_sections(path: Path, manifest: dict[str, Any], scenario: Scenario) -> list[Section]:
    classes = {cid: c.label or cid for cid, c in scenario.outcomes.classes.items()}
    columns = ["outcome", *(f"{k}.{lid}" for lid in scenario.red_lines for k in ("crossed", "seen", "enforced", "round"))]
    runs = fd.read_table(path / "runs.parquet", columns, missing_ok=True)  # older results have no seen.*
    outcomes = fd.outcome_table(runs, list(classes), classes)
    body = overrides_html(manifest)
    body += table(["outcome", "probability [95% interval]", "runs"],
                  ([r.label, rate_text(r.count, r.n), f"{r.count:,}"] for r in outcomes.itertuples()))
    tally = Tally(list(classes), list(scenario.red_lines), scenario.rounds)  # as `sim run` counts them
    tally.add(pa.Table.from_pandas(runs, preserve_index=False))
    lines = [[lid, rate_text(tally.crossed[lid], tally.runs), rate_text(tally.seen[lid], tally.runs),
              rate_text(tally.enforced[lid], tally.seen[lid])] for lid in scenario.red_lines]
    if lines:
        body += table(["red line", "crossed [95% interval]", "seen by its owner [95% interval]",
                       "enforced when seen [95% interval]"], lines)
    measures = fd.measure_table(path, scenario)
    if len(measures):
        body += table(["measure", "question", "probability [95% interval]"],
                      ([r.measure, r.label, rate_text(r.count, r.n)] for r in measures.itertuples()))
    return [("outcomes", "Outcomes", body), ("figures", "Figures", figures_html(figures_for(path))),
            ("traces", "Three traced runs", traces_html(path, scenario))]


def traces_html(path: Path, scenario: Scenario) -> str:
    """A typical run, the most frequent path to the worst class reached, and a red-line crossing."""
    from .paths import pick_report_runs
    from .trace import format_trace, trace_run

    runs = pd.read_parquet(path / "runs.parquet")
    parts = []
    for pick in pick_report_runs(runs, scenario):
        parts.append(f"<h3>{esc(pick.label.capitalize())}: run {pick.run}</h3><p>{esc(pick.why)}</p>")
        parts.append(pre(format_trace(trace_run(path, pick.run))))
    return "".join(parts) or "<p>No run to trace.</p>"


def sweep_sections(path: Path, manifest: dict[str, Any], scenario: Scenario) -> list[Section]:
    points, summary = fd.read_sweep(path)
    outcomes = summary[summary["metric"].astype(str).str.startswith("outcome.")]
    metrics = list(dict.fromkeys(outcomes["metric"].astype(str)))
    cells = outcomes.assign(text=[f"{pct(p)} ({interval(lo, hi)})" for p, lo, hi in
                                  zip(outcomes["p"], outcomes["low"], outcomes["high"])])
    wide = cells.pivot(index="point", columns="metric", values="text")
    paths = [str(p) for p in manifest.get("paths", [])]
    rows = []
    for row in points.head(MAX_ROWS).itertuples(index=False):
        values = [f"{points.loc[row.point, p]:g}" if p in points else "" for p in paths]
        texts = [wide.loc[row.point, m] if row.point in wide.index else "failed" for m in metrics]
        rows.append([row.point, *values, *texts])
    body = table(["point", *paths, *(m.removeprefix("outcome.") for m in metrics)], rows)
    if len(points) > MAX_ROWS:
        body += f"<p class=meta>{len(points) - MAX_ROWS} more points in summary.parquet.</p>"
    return [("outcomes", "Outcomes at each point (probability, 95% interval)", body),
            ("figures", "Figures", figures_html(figures_for(path))),
            ("traces", "Traced runs", "<p>A sweep keeps no trajectories: trace a point by running it with "
                                      "<code>sim run --set PATH=VALUE</code> and reporting that directory.</p>")]


def robust_sections(path: Path, manifest: dict[str, Any], scenario: Scenario) -> list[Section]:
    options = fd.read_table(path / "options.parquet")
    metric = manifest.get("minimise", "escalation_score")
    ranked = options[options["metric"] == metric].sort_values(["rank_regret", "rank_expected", "option"])
    probability = metric != "escalation_score"
    show = pct if probability else (lambda v: f"{v:.3f}")
    rows = ([r.label, show(r.expected), f"{show(r.low)} to {show(r.high)}", show(r.mean_regret),
             show(r.max_regret), r.rank_expected, r.rank_regret] for r in ranked.itertuples())
    body = (f"<p>Minimising <b>{esc(metric)}</b> over {manifest.get('states')} uncertainty points × "
            f"{manifest.get('runs'):,} runs per option, with common random numbers.</p>"
            + table(["option", "expected", "95% interval", "mean regret", "worst regret", "rank (expected)",
                     "rank (worst regret)"], rows))
    worse = options[options["metric"].astype(str).str.startswith("at_least.")]
    if len(worse):
        names = list(dict.fromkeys(worse["metric"].astype(str)))
        wide = worse.assign(text=[f"{pct(p)} ({interval(lo, hi)})" for p, lo, hi in
                                  zip(worse["expected"], worse["low"], worse["high"])]).pivot(
            index="label", columns="metric", values="text")
        body += "<h3>Each class or worse, per option</h3>" + table(
            ["option", *(n.removeprefix("at_least.") + " or worse" for n in names)],
            ([label, *(wide.loc[label, n] for n in names)] for label in ranked["label"]))
    levers = "".join(f"<li><b>{esc(lv.path)}</b> ({esc(lv.actor)}): {esc(lv.meaning)}</li>" for lv in scenario.levers)
    if levers:
        body += f"<h3>The levers the scenario declares</h3><ul>{levers}</ul>"
    return [("outcomes", "Options, ranked by worst-case regret", body),
            ("figures", "Figures", figures_html(figures_for(path)))]


def comparison_sections(path: Path, sides: tuple[Path, Path]) -> list[Section]:
    from .compare import comparison_table, interval_note, read_sides
    from .plots import comparison_figure

    a, b = read_sides(*sides)
    compared = comparison_table(a, b)
    rows = ([r["label"], r["kind"], pct(r["a_p"]), pct(r["b_p"]), pct(r["diff"]),
             interval(r["diff_low"], r["diff_high"]), r["interval"],
             "" if not np.isfinite(r["diff"]) else ("yes" if r["significant"] else "no (n.s.)")]
            for _, r in compared.iterrows())
    body = table(["", "kind", f"A: {a.name}", f"B: {b.name}", "B − A", "95% interval of B − A", "interval",
                  "significant"], rows) + f"<p>{esc(interval_note(compared))}</p>"
    figure = comparison_figure(compared, a=f"A: {a.name}", b=f"B: {b.name}")
    return [("outcomes", "A against B", body), ("figures", "Figures", figure_html("comparison", figure))]


def backtest_sections(path: Path, manifest: dict[str, Any], scenario: Scenario) -> list[Section]:
    from ..backtest.run import MODEL, forecaster_names, headline_scores

    events = fd.read_table(path / "backtest.parquet")
    scores = headline_scores(events)
    body = table(["forecaster", "Brier", "95% interval", "log score", "95% interval", "Brier minus model"],
                 ([r.forecaster, f"{r.brier:.3f}", f"{r.brier_low:.3f} to {r.brier_high:.3f}", f"{r.log:.3f}",
                   f"{r.log_low:.3f} to {r.log_high:.3f}",
                   "" if r.forecaster == MODEL else f"{r.brier_minus_model:+.3f}"] for r in scores.itertuples()))
    names = forecaster_names(events)
    rows = events[["event", "date", "observed", *(f"p.{n}" for n in names)]].itertuples(index=False)
    body += "<h3>Each event: what happened and each forecaster's probability</h3>" + table(
        ["event", "date", "happened", *names],
        ([event, date, "yes" if observed else "no", *map(pct, ps)] for event, date, observed, *ps in rows))
    return [("scores", "Scores against the record (lower is better; the headline: each cluster of nested events "
                       "counted once, events true by construction left out)", body),
            *run_sections(path, manifest, scenario)]


def sensitivity_sections(path: Path, manifest: dict[str, Any], scenario: Scenario) -> list[Section]:
    indices = fd.read_table(path / "sensitivity.parquet")
    names = list(dict.fromkeys(indices["index"].astype(str)))
    cells = indices.assign(text=[f"{v:.3f} ({lo:.3f} to {hi:.3f})" for v, lo, hi in
                                 zip(indices["value"], indices["low"], indices["high"])])
    wide = cells.pivot(index=["metric", "parameter"], columns="index", values="text")
    body = (f"<p>{esc(manifest.get('method', '?'))} indices over {manifest.get('points')} points × "
            f"{manifest.get('runs', 0):,} runs, common random numbers; 95% bootstrap intervals.</p>"
            + table(["metric", "parameter", *names],
                    ([metric, parameter, *(wide.loc[(metric, parameter), n] for n in names)]
                     for metric, parameter in wide.index)))
    return [("outcomes", "Sensitivity indices", body), ("figures", "Figures", figures_html(figures_for(path)))]


def edited_warning(path: Path, manifest: dict[str, Any], scenario: Scenario) -> str:
    """A warning (on stderr, and the HTML for the page) when scenario.yaml is not the scenario the
    manifest's sha256 records: the report would show the edited file as the one that ran."""
    from ..experiments.results import sha256
    from ..scenario import dump_scenario

    made_with = manifest.get("scenario_sha256")
    if made_with is None or sha256(dump_scenario(scenario)) == made_with:
        return ""
    text = (f"{path / 'scenario.yaml'} differs from the scenario these results were made with (its sha256 is "
            "not the manifest's scenario_sha256): the report shows the edited file")
    warnings.warn(text, stacklevel=2)
    return f"<p class=warning><b>Warning:</b> {esc(text)}</p>"


SectionMaker = Callable[[Path, dict[str, Any], Scenario], list[Section]]
# The sections of each kind of results directory (a new kind adds a function and a line).
SECTIONS: dict[str, SectionMaker] = {"run": run_sections, "sweep": sweep_sections, "robust": robust_sections,
                                     "backtest": backtest_sections, "sensitivity": sensitivity_sections}


# -- the page ------------------------------------------------------------------------------------


def comparison_sides(path: Path) -> tuple[Path, Path] | None:
    """The two run directories `sim compare --out DIR` leaves (A-<name>, B-<name>), if DIR is one."""
    if (path / "manifest.json").exists() or not path.is_dir():
        return None
    a = sorted(p for p in path.glob("A-*") if (p / "manifest.json").is_file())
    b = sorted(p for p in path.glob("B-*") if (p / "manifest.json").is_file())
    return (a[0], b[0]) if len(a) == 1 and len(b) == 1 else None


def build_report(path: str | Path) -> str:
    """The report's HTML for a run, sweep, robust or comparison directory."""
    path = Path(path)
    sides = comparison_sides(path)
    if sides is not None:
        manifest = {"kind": "comparison", "A": fd.read_manifest(sides[0]), "B": fd.read_manifest(sides[1])}
        scenario = fd.load_run_scenario(sides[1])
        title = f"{fd.load_run_scenario(sides[0]).name} against {scenario.name}"
        sections = comparison_sections(path, sides)
        facts = f"comparison of two run directories: {sides[0].name} and {sides[1].name}"
        warning = ""
    else:
        manifest = fd.read_manifest(path)
        kind = manifest["kind"]
        if kind not in SECTIONS:
            raise fd.ResultsDirError(f"{path}: no report for a {kind} directory (expected one of "
                                     f"{', '.join(SECTIONS)}, or a comparison directory)")
        scenario = fd.load_run_scenario(path)
        title = scenario.name
        warning = edited_warning(path, manifest, scenario)
        sections = SECTIONS[kind](path, manifest, scenario)
        facts = (f"{kind} · seed {manifest.get('seed')} · {manifest.get('runs', 0):,} runs"
                 f"{' per point' if kind in ('sweep', 'robust') else ''} · {manifest.get('rounds')} rounds from "
                 f"{manifest.get('start', '?')} · version {manifest.get('version', '?')}"
                 + (f" · --set {', '.join(manifest['overrides'])}" if manifest.get("overrides") else ""))
    sections = [*sections, scenario_section(scenario), sources_section(scenario), manifest_section(manifest)]
    nav = "".join(f'<a href="#{anchor}">{esc(heading)}</a>' for anchor, heading, _ in sections)
    body = "".join(f'<section id="{anchor}"><h2>{esc(heading)}</h2>{content}</section>'
                   for anchor, heading, content in sections)
    made = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    return (f"<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>{esc(title)}: report</title>"
            f"<style>{STYLE}</style></head><body><h1>{esc(title)}</h1>"
            f"<p class=meta>{esc(facts)} · report made {esc(made)}</p>"
            f"{warning}<p class=question>{esc(scenario.description)}</p><nav>{nav}</nav>{body}</body></html>\n")


def write_report(path: str | Path, out: str | Path | None = None) -> Path:
    """Write the report (default DIR/report.html) whole: under a temporary name, then renamed."""
    import matplotlib

    matplotlib.use("Agg")
    path = Path(path)
    target = Path(out) if out is not None else path / "report.html"
    if comparison_sides(path) is None:
        fd.read_manifest(path)  # a directory that is not one of results is named before the --out
    check_out_file(target)
    text = build_report(path)
    staging = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        staging.write_text(text, encoding="utf-8")
        check_out_file(target)  # again: the report replaces a regular file or nothing, never a device
        os.replace(staging, target)
    except OSError as err:
        raise write_error(err, target) from None
    finally:
        staging.unlink(missing_ok=True)
    return target


__all__ = ["SECTIONS", "build_report", "write_report"]
