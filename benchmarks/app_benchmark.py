"""sim app: how long a run takes to answer in the browser, and whether the page stays responsive.

    python benchmarks/app_benchmark.py                    # 10,000 runs of precision-weapons, 3 times
    python benchmarks/app_benchmark.py --runs 2000 --repeat 5

Starts `sim app` on a free localhost port and drives it with headless Chromium (Playwright,
Debian's /usr/bin/chromium). For each repeat it clicks Run and reports:

- answer: wall seconds from the click to the outcome table (the run, then the page's tables,
  the P(class or worse) figure and the measure by date, all computed from the results directory);
- server CPU: user + system CPU seconds of the app's process over the same span (from
  /proc/PID/stat), the cost on a shared machine that wall time cannot give;
- responsiveness: while the run is going, the search field is typed into and the wall seconds
  until the page shows the narrowed list of values are measured (the server answers the page
  from its event loop while the run holds a worker thread).

Figures go in BENCHMARKS.md; the README quotes the 10,000-run answer.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scenario", default="precision-weapons")
    args = parser.parse_args()
    from playwright.sync_api import expect, sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sim = Path(sys.executable).with_name("sim")
    with tempfile.TemporaryDirectory() as results:
        server = subprocess.Popen([str(sim), "app", "--port", str(port), "--results", results],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.2)
            answers, cpus, latencies = [], [], []
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.set_default_timeout(300_000)
                expect.set_options(timeout=300_000)
                page.goto(f"http://127.0.0.1:{port}/")
                page.locator(".v-select").filter(has_text="Scenario").locator(".v-select__slot").click()
                page.locator(".menuable__content__active .v-list-item", has_text=args.scenario).first.click()
                page.get_by_label("Runs").fill(str(args.runs))
                page.get_by_label("Runs").press("Enter")
                for i in range(args.repeat):
                    page.get_by_label("Seed").fill(str(i + 1))
                    page.get_by_label("Seed").press("Enter")
                    search = page.get_by_label("Search values by path")
                    search.fill("")
                    command = page.locator(".sim-command")
                    before, started = cpu_seconds(server.pid), time.perf_counter()
                    page.locator(".sim-run").click()
                    typed = time.perf_counter()
                    search.fill("resolve")  # answered while the run goes on?
                    expect(page.get_by_text("actors.south_korea.resolve", exact=False).first).to_be_visible()
                    latencies.append(time.perf_counter() - typed)
                    expect(command).to_contain_text(f"--seed {i + 1}")
                    answers.append(time.perf_counter() - started)
                    cpus.append(cpu_seconds(server.pid) - before)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"sim app, {args.runs:,} runs of {args.scenario}, {args.repeat} repeats "
          f"({platform.processor() or platform.machine()}, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')})")
    print(f"  answer (click to outcome table): median {statistics.median(answers):.1f} s wall "
          f"(each: {', '.join(f'{a:.1f}' for a in answers)})")
    print(f"  server CPU over the same span:   median {statistics.median(cpus):.1f} s "
          f"(each: {', '.join(f'{c:.1f}' for c in cpus)})")
    print(f"  search answered during the run:  median {statistics.median(latencies):.2f} s wall "
          f"(each: {', '.join(f'{x:.2f}' for x in latencies)})")


if __name__ == "__main__":
    main()
