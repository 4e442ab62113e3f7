"""`sim app` in a real browser: headless Chromium (Debian's package) driven by Playwright.

The browser test starts `sim app` on a free localhost port, picks precision-weapons, changes
a value, runs 2,000 runs, reads the outcome table and a measure and checks them against the
results directory the app wrote, compares with baseline, opens a traced run and downloads the
CSV. It also checks that the page asks nothing of any host but the app's own.

Without Chromium or Playwright the test skips, except where SIM_BROWSER_REQUIRED is set
(.ci/run sets it, after installing Chromium): there a missing browser fails the test.
"""

from __future__ import annotations

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


def shoot(page, name: str) -> None:
    folder = os.environ.get(SCREENSHOTS)
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=False)


@pytest.mark.slow  # about 40 s wall: the server's start, two runs of 2,000 and a trace
def test_an_analyst_explores_precision_weapons_in_the_browser(app: tuple[str, Path], tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, results = app
    asked: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page.set_default_timeout(60_000)
        expect.set_options(timeout=60_000)
        page.on("request", lambda request: asked.append(request.url))
        page.goto(url)

        pick(page, "Scenario", "precision-weapons")
        expect(page.get_by_text("Russia starts handing North Korea high-precision weapons").first).to_be_visible()
        page.get_by_label("Search values by path").fill(CHANGED)
        field = page.get_by_label(f"new value for {CHANGED}")
        field.fill("1")
        field.press("Enter")
        expect(page.locator(".sim-changes")).to_contain_text(f"--set '{CHANGED}=1'")
        page.get_by_label("Runs").fill("2000")
        page.get_by_label("Runs").press("Enter")
        shoot(page, "values")

        page.locator(".sim-run").click()
        expect(page.locator("table.sim-outcomes")).to_be_visible()
        shown = rows(page, "sim-outcomes")
        [run_dir] = list(results.iterdir())
        recorded = pd.read_parquet(run_dir / "runs.parquet")
        assert len(recorded) == 2000
        assert "lethal_aid: 1" in (run_dir / "scenario.yaml").read_text()  # the change reached the run
        counts = recorded["outcome"].astype(str).value_counts()
        assert [r[0] for r in shown] == list(recorded["outcome"].cat.categories)
        for outcome, probability, _, runs in shown:
            assert int(runs.replace(",", "")) == counts.get(outcome, 0)
            assert percent(probability) == pytest.approx(counts.get(outcome, 0) / 2000, abs=0.000501)  # shown to 0.1 percentage point
        shoot(page, "outcomes")

        pick(page, "Measure", "south_korea takes lethal_aid")
        expect(page.locator("table.sim-measure thead")).to_contain_text("south_korea takes lethal_aid")
        measure = rows(page, "sim-measure")
        assert measure[-1][0] == "2026-05-23"  # the round starting on the last date of the manifest
        took = pd.to_numeric(recorded["first.south_korea.lethal_aid"], errors="coerce").to_numpy(dtype=float)
        assert percent(measure[-1][1]) == pytest.approx(np.mean(took > 0), abs=0.000501)  # shown to 0.1 percentage point

        pick(page, "Compare with (A)", "baseline")
        page.locator(".sim-run-versus").click()
        expect(page.locator("table.sim-compare")).to_be_visible()
        compared = {r[0]: r for r in rows(page, "sim-compare")}
        assert "B − A" in page.locator("table.sim-compare thead").inner_text()
        assert re.fullmatch(r"[+-]\d+\.\d pp \[[+-]\d+\.\d, [+-]\d+\.\d\]", compared["crossed south_korea.precision_weapons"][3])

        worst = next(r[0] for r in reversed(shown) if percent(r[1]) > 0)
        page.locator(".sim-classes").get_by_role("button", name=worst).click()
        expect(page.locator("table.sim-paths")).to_be_visible()
        page.locator(".sim-trace-button").first.click()
        expect(page.locator(".sim-trace")).to_contain_text("of precision-weapons (seed 0)")
        assert f"End · {worst}" in page.locator(".sim-trace").inner_text()  # a run of the class picked
        shoot(page, "trace")

        with page.expect_download() as download:
            page.get_by_role("button", name="Download CSV").click()
        saved = tmp_path / "runs.csv"
        download.value.save_as(saved)
        table = pd.read_csv(saved)
        assert len(table) == 2000 and list(table["outcome"]) == list(recorded["outcome"].astype(str))
        browser.close()
    elsewhere = [u for u in asked if not u.startswith(url) and not u.startswith(("data:", "blob:"))]
    assert elsewhere == []
