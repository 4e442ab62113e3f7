"""`sim app` in a real browser: headless Chromium (Debian's package) driven by Playwright.

The browser test starts `sim app` on a free localhost port, picks precision-weapons, changes
a value, runs 2,000 runs, reads the outcome table and a measure and checks them against the
results directory the app wrote, compares with baseline, opens a traced run and downloads the
CSV. It also checks that the page asks nothing of any host but the app's own.

Without Chromium or Playwright the test skips, except where SIM_BROWSER_REQUIRED is set
(.ci/run sets it, after installing Chromium): there a missing browser fails the test.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
REQUIRED = "SIM_BROWSER_REQUIRED"
SCREENSHOTS = "SIM_APP_SCREENSHOTS"  # a folder: the test saves its screenshots there (docs/app)
CHANGED = "actors.south_korea.preferences.lethal_aid"


def browser_or_skip() -> None:
    problems = []
    if not Path(CHROMIUM).is_file():
        problems.append(f"no {CHROMIUM} (Debian: apt-get install -y chromium)")
    try:
        import playwright.sync_api  # noqa: F401
        import solara  # noqa: F401
    except ImportError as err:
        problems.append(f"{err.name} is not installed (pip install -e '.[test]')")
    if problems:
        message = "; ".join(problems)
        if os.environ.get(REQUIRED):
            pytest.fail(f"{REQUIRED} is set but the browser test cannot run: {message}")
        pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def app(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`sim app` on a free port, its runs kept in tmp_path/results; stopped by its pid afterwards."""
    browser_or_skip()
    port, results = free_port(), tmp_path / "results"
    sim = Path(sys.executable).with_name("sim")
    log = (tmp_path / "app.log").open("w")
    server = subprocess.Popen([str(sim), "app", "--port", str(port), "--results", str(results)],
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"sim app did not start: {(tmp_path / 'app.log').read_text()[-2000:]}")
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/", results
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def percent(cell: str) -> float:
    """'12.3% [11.0, 13.7]' -> 0.123"""
    return float(cell.split("%")[0]) / 100


def rows(page, name: str) -> list[list[str]]:
    return page.locator(f"table.{name} tbody tr").evaluate_all(
        "trs => trs.map(tr => Array.from(tr.cells).map(td => td.innerText))")


def pick(page, label: str, option: str) -> None:
    """Choose `option` in the Vuetify select labelled `label`."""
    page.locator(".v-select").filter(has=page.locator("label", has_text=re.compile(f"^{re.escape(label)}$"))) \
        .locator(".v-select__slot").click()
    page.locator(".menuable__content__active .v-list-item", has_text=re.compile(f"^{re.escape(option)}$")).click()


def shoot(page, name: str, top: str | None = None) -> None:
    """Save the window as SCREENSHOTS/name.png, scrolled so that the element `top` is at its top."""
    folder = os.environ.get(SCREENSHOTS)
    if folder:
        if top is not None:
            page.locator(top).first.evaluate("element => element.scrollIntoView()")
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=False)


@pytest.mark.slow  # about 40 s wall: the server's start, two runs of 2,000, a trace and a cancelled run
def test_an_analyst_explores_precision_weapons_in_the_browser(app: tuple[str, Path], tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, results = app
    asked: list[str] = []
    refused: list[str] = []  # a missing local asset is one Solara's server would fetch from a CDN
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page.set_default_timeout(60_000)
        expect.set_options(timeout=60_000)
        page.on("request", lambda request: asked.append(request.url))
        page.on("requestfailed", lambda request: refused.append(request.url))
        page.on("response", lambda response: refused.append(response.url) if response.status >= 400 else None)
        page.goto(url)

        pick(page, "Scenario", "precision-weapons")
        expect(page.get_by_text("Russia starts handing North Korea high-precision weapons").first).to_be_visible()
        page.get_by_label("Search values by path").fill(CHANGED)
        field = page.get_by_label(f"new value for {CHANGED}")
        field.fill("1")
        field.press("Enter")
        expect(page.locator(".sim-changes")).to_contain_text(f"--set '{CHANGED}=1'")
        page.locator(".sim-add-inject").click()  # the default inject: south_korea, month 2, probability 1
        expect(page.locator(".sim-changes")).to_contain_text("--set 'injects.added_in_app_1={")
        page.get_by_label("Runs").fill("2000")
        page.get_by_label("Runs").press("Enter")
        shoot(page, "values", ".sim-value")

        page.locator(".sim-run").click()
        expect(page.locator("table.sim-outcomes")).to_be_visible()
        shown = rows(page, "sim-outcomes")
        [run_dir] = list(results.iterdir())
        recorded = pd.read_parquet(run_dir / "runs.parquet")
        assert len(recorded) == 2000
        ran = (run_dir / "scenario.yaml").read_text()
        assert "lethal_aid: 1" in ran and "added_in_app_1:" in ran  # the change and the inject reached the run
        counts = recorded["outcome"].astype(str).value_counts()
        assert [r[0] for r in shown] == list(recorded["outcome"].cat.categories)
        for outcome, probability, _, runs in shown:
            assert int(runs.replace(",", "")) == counts.get(outcome, 0)
            assert percent(probability) == pytest.approx(counts.get(outcome, 0) / 2000, abs=0.000501)  # shown to 0.1 percentage point
        shoot(page, "outcomes", ".sim-command")

        declared = "Seoul starts lethal aid to Ukraine (measure)"  # precision-weapons' own measure
        pick(page, "Measure", declared)
        expect(page.locator("table.sim-measure thead")).to_contain_text(declared)
        measure = rows(page, "sim-measure")
        assert measure[-1][0] == "2026-05-23"  # the round starting on the last date of the manifest
        by_the_end = recorded["measure.seoul_lethal_aid"].mean()
        assert percent(measure[-1][1]) == pytest.approx(by_the_end, abs=0.000501)  # shown to 0.1 percentage point
        assert percent(measure[0][1]) < by_the_end  # none before the transfers start in month 2

        pick(page, "Compare with (A)", "baseline")
        page.locator(".sim-run-versus").click()
        expect(page.locator("table.sim-compare")).to_be_visible()
        compared = {r[0]: r for r in rows(page, "sim-compare")}
        expect(page.locator(".sim-run")).to_be_enabled()  # the run of A has finished
        shoot(page, "compare", "table.sim-measure tr:nth-child(18)")
        assert "B − A" in page.locator("table.sim-compare thead").inner_text()
        assert re.fullmatch(r"[+-]\d+\.\d pp \[[+-]\d+\.\d, [+-]\d+\.\d\]", compared["crossed south_korea.precision_weapons"][3])

        worst = next(r[0] for r in reversed(shown) if percent(r[1]) > 0)
        page.locator(".sim-classes").get_by_role("button", name=worst).click()
        expect(page.locator("table.sim-paths")).to_be_visible()
        page.locator(".sim-trace-button").first.click()
        expect(page.locator(".sim-trace")).to_contain_text("of precision-weapons (seed 0)")
        story = page.locator(".sim-trace").inner_text()
        assert f"End · {worst}" in story and "DIFFERS" not in story  # a run of the class picked, replayed as recorded
        shoot(page, "trace", ".sim-classes")

        with page.expect_download() as download:
            page.get_by_role("button", name="Download CSV (runs, tidy)").click()
        saved = tmp_path / "runs.csv"
        download.value.save_as(saved)
        table = pd.read_csv(saved, dtype={"text": str, "date": str})
        outcome = table[table["quantity"] == "outcome"]
        assert list(outcome["run"]) == list(recorded["run"]) and list(outcome["text"]) == list(recorded["outcome"].astype(str))

        page.get_by_label("Runs").fill("20000")  # two blocks: the cancel lands after the first
        page.get_by_label("Runs").press("Enter")
        page.locator(".sim-run").click()
        page.locator(".sim-cancel").click()
        expect(page.locator(".sim-problem")).to_contain_text("Run cancelled: nothing was kept.")
        expect(page.locator(".sim-run")).to_be_enabled()
        assert sorted(p.name for p in results.iterdir()) == ["1-precision-weapons", "2-baseline"]
        browser.close()
    elsewhere = [u for u in asked if not u.startswith(url) and not u.startswith(("data:", "blob:"))]
    assert elsewhere == [] and refused == []


# --- the app's parts, without a browser (default suite) ---------------------------------------


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory):
    import sim
    from sim.app import views

    out = tmp_path_factory.mktemp("app") / "run"
    sim.run("precision-weapons", runs=300, seed=4, out=out)
    return views.Results.read(out)


@pytest.mark.slow  # 4 s: a run of 300
def test_the_red_lines_table_has_the_shares_sim_run_prints(small_run) -> None:
    from sim.app import views

    runs = small_run.runs
    for row in views.red_lines(small_run).itertuples():
        crossed, seen = (runs[f"{k}.{row.red_line}"].astype(bool) for k in ("crossed", "seen"))
        assert (row.crossed, row.seen) == (crossed.mean(), seen.mean())
        enforced = runs.loc[seen, f"enforced.{row.red_line}"].astype(bool).mean()  # an owner enforces what it saw
        assert row.enforced == pytest.approx(enforced, nan_ok=True)


@pytest.mark.slow  # 4 s: a run of 300
def test_p_class_or_worse_by_the_last_date_is_the_share_of_runs_in_that_class_or_worse(small_run) -> None:
    from sim.app import views

    table = views.outcomes(small_run).set_index("outcome")
    dated = views.classes_by_date(small_run)
    assert len(dated) == small_run.scenario.rounds and dated["date"].iloc[0] == small_run.manifest["round_dates"][0]
    assert [c for c in small_run.classes if c in dated.columns] == ["proxy_escalation", "militarized_crisis",
                                                                    "regional_war", "nuclear_use"]
    for name in ("proxy_escalation", "militarized_crisis", "regional_war", "nuclear_use"):
        assert np.all(np.diff(dated[name]) >= 0)  # reached by a date stays reached
        assert dated[name].iloc[-1] == pytest.approx(table.loc[name, "p_or_worse"])


@pytest.mark.slow  # 5 s: P(class or worse) asked of the measures' evaluation at three dates
def test_p_class_or_worse_by_date_is_what_a_measure_at_least_that_class_by_that_round_answers(small_run) -> None:
    from sim.app import views
    from sim.experiments.questions import evaluate, trajectory_columns
    from sim.scenario.questions import Question

    s = small_run.scenario
    dated = views.classes_by_date(small_run)
    asked = {(c, k): Question(question=c, kind="outcome", at_least=c, by=k)
             for c in ("militarized_crisis", "nuclear_use") for k in (1, 6, s.rounds - 1)}
    answers = evaluate({str(key): q for key, q in asked.items()}, small_run.runs,
                       small_run.trajectories(trajectory_columns(asked, s)), s)
    for (name, k) in asked:
        assert dated[name].iloc[k - 1] == answers[str((name, k))].mean()


@pytest.mark.slow  # 3 s: the scenario loaded five times
def test_the_range_a_slider_offers_is_the_range_the_schema_accepts() -> None:
    from sim.app.parameters import declared_range, parameters
    from sim.scenario import ScenarioError, load_scenario

    s = load_scenario("precision-weapons")
    assert declared_range(s, "actors.south_korea.resolve") == (0.0, 1.0)
    assert declared_range(s, "actors.south_korea.preferences.lethal_aid") == (-10.0, 10.0)
    assert declared_range(s, "rounds") == (-np.inf, np.inf)
    per_actor = load_scenario("israel-iran", {"actors.hezbollah.attribution": {"israel": 0.9},
                                             "agreements.lebanon_ceasefire.mediation": {"israel": 0.5}})
    assert declared_range(per_actor, "actors.hezbollah.attribution.israel") == (0.0, 1.0)
    assert declared_range(per_actor, "agreements.lebanon_ceasefire.mediation.israel") == (0.0, 20.0)
    for path in ("actors.south_korea.preferences.lethal_aid", "red_lines.south_korea.precision_weapons.specificity"):
        low, high = declared_range(s, path)
        load_scenario("precision-weapons", {path: low})
        load_scenario("precision-weapons", {path: high})
        with pytest.raises(ScenarioError):
            load_scenario("precision-weapons", {path: high + 1})
    for p in parameters(s):
        if p.bounded:
            assert p.low <= p.number <= p.high, p.path


def test_the_catalog_puts_every_named_scenario_under_the_world_it_extends(tmp_path, monkeypatch) -> None:
    from sim.app.parameters import catalog, reference
    from sim.scenario import load_scenario, scenario_names

    worlds = catalog()
    listed = [name for names in worlds.values() for name in names[1:]]
    assert sorted(listed) == scenario_names()
    baseline_world = yaml.safe_load((Path(__file__).parents[1] / "scenarios/korea-2024/baseline.yaml").read_text(encoding="utf-8"))["extends"]
    assert "baseline" in worlds[f"korea-2024/{baseline_world}"]
    assert all(names[0] == world for world, names in worlds.items())
    monkeypatch.chdir(tmp_path)  # sim app started anywhere finds the world files
    assert load_scenario(reference("korea-2024/world/korea-2024.yaml")).name == "korea-2024-world"


def test_an_inject_added_in_the_app_is_an_override_the_loader_accepts() -> None:
    from sim.app.parameters import inject
    from sim.scenario import load_scenario

    path, value = inject(1, 3, "south_korea", "lethal_aid", "ukraine", 0.5)
    s = load_scenario("baseline", {path: value})
    added = s.injects["added_in_app_1"]
    assert (added.round, added.probability, added.force["south_korea"].action) == (3, 0.5, "lethal_aid")


def test_a_cancelled_run_leaves_nothing_behind(tmp_path: Path) -> None:
    from sim.app.runner import Cancelled, run_in_folder

    asked = []

    def stopped() -> bool:  # not before the run starts; yes once a block is done
        asked.append(True)
        return len(asked) > 1

    with pytest.raises(Cancelled):
        run_in_folder(tmp_path, "baseline", 50, 0, [], progress=lambda share: None, stopped=stopped)
    assert len(asked) == 2 and list(tmp_path.iterdir()) == []


@pytest.mark.slow  # 2 s: a run of 20
def test_the_command_the_page_prints_makes_the_scenario_the_app_ran(tmp_path: Path) -> None:
    from sim.app.parameters import command, inject, set_texts
    from sim.app.runner import run_in_folder
    from sim.scenario import dump_scenario, load_scenario
    from sim.scenario.loader import parse_assignment

    changes = dict([inject(1, 3, "south_korea", "lethal_aid", "ukraine", 0.5), (CHANGED, 2.5),
                    ("actors.south_korea.resolve", {"beta": [3, 3]})])
    path = run_in_folder(tmp_path, "precision-weapons", 20, 5, set_texts(changes), progress=lambda share: None,
                         stopped=lambda: False)
    manifest = json.loads((path / "manifest.json").read_text())
    printed = command("precision-weapons", 20, 5, manifest["overrides"])
    texts = [part.strip().strip("'") for part in printed.split("--set")[1:]]
    assert printed.startswith("sim run precision-weapons --runs 20 --seed 5 --set ")
    assert dict(parse_assignment(text) for text in texts) == changes
    assert dump_scenario(load_scenario("precision-weapons", texts)) == (path / "scenario.yaml").read_text()


def test_sim_app_without_the_app_extra_says_how_to_install_it(monkeypatch, capsys) -> None:
    import importlib.util

    from sim.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "solara" else real(name, *a))
    assert main(["app", "--port", "8999"]) == 2
    assert "pip install 'escalation-sim[app]'" in capsys.readouterr().err


def test_sim_app_switches_off_solaras_usage_statistics_before_solara_reads_its_settings() -> None:
    """Solara reports usage to a statistics service unless told not to, at import; `sim app` must
    say so before anything imports Solara (seen: DNS queries for that service from the server)."""
    probe = ("import uvicorn\n"
             "def report(*args, **kwargs):\n"
             "    import solara.server.settings as s\n"
             "    print('statistics', s.telemetry.mixpanel_enable)\n"
             "uvicorn.run = report\n"
             "from sim.cli import main\n"
             "main(['app', '--port', '9'])\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert "statistics False" in done.stdout, done.stdout + done.stderr


def test_two_runs_started_at_once_get_two_directories(tmp_path: Path) -> None:
    from sim.app.runner import next_directory

    (tmp_path / "1-baseline").mkdir()
    first, second = next_directory(tmp_path, "baseline"), next_directory(tmp_path, "korea-2024/world/korea-2024.yaml")
    assert (first.name, second.name) == ("2-baseline", "3-korea-2024")  # neither exists yet: both are claimed
