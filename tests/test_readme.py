"""The README's shell examples run, in the order written, in a fresh clone of the repository.

Each ```bash block runs whole (so heredocs and continued lines work) and each `$ ` line of the
other code blocks runs as a command, in one clone, one after another: a command that needs a
directory an earlier one makes fails if the order is wrong. The first block (install, test
suite) is not rerun: the clone's `.venv` is this interpreter's environment, which CI installed
exactly as that block does. Multi-minute (the examples run some 800,000 runs), so slow-marked.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def examples(readme: str) -> list[str]:
    """The README's shell examples in order: whole bash blocks, and `$ ` lines of plain blocks."""
    found = []
    for language, body in FENCE.findall(readme):
        if language == "bash":
            found.append(body)
        elif language == "":
            found += [line[2:] for line in body.splitlines() if line.startswith("$ ")]
    return found


def test_examples_are_found_in_order_and_the_first_block_is_the_install() -> None:
    found = examples((ROOT / "README.md").read_text(encoding="utf-8"))
    assert "pip install -e ." in found[0] and "sim run precision-weapons" in found[0]
    order = [i for i, text in enumerate(found) if "results/baseline-s1" in text]
    assert "--out results/baseline-s1" in found[order[0]], "the directory is made before it is used"


@pytest.mark.slow
def test_every_readme_example_runs_in_order_from_a_fresh_clone(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone)], check=True)
    (clone / ".venv").symlink_to(Path(sys.prefix))
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
    found = examples((clone / "README.md").read_text(encoding="utf-8"))
    install, rest = found[0], found[1:]
    run_line = next(line for line in install.splitlines() if "sim run" in line)
    steps = [run_line.split("&& ")[-1], *rest]
    for step in steps:
        if "pytest" in step or "pip install" in step:
            continue
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", step], cwd=clone, env=env,
                              capture_output=True, text=True)
        assert done.returncode == 0, f"README example failed:\n{step}\n--- stderr ---\n{done.stderr[-3000:]}"
    tracked = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=clone,
                             capture_output=True, text=True, check=True).stdout
    assert tracked == "", f"the examples changed tracked files (the gallery?):\n{tracked}"
    shutil.rmtree(clone / "results", ignore_errors=True)
