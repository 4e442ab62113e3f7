"""Import discipline of the command line (docs/design.md, "Performance": `sim --help` and `sim list` start in
at most 0.5 CPU seconds because heavy packages load only in the commands that use them).

Nothing here is timed: each check runs the command in a fresh interpreter and looks at which
modules it imported. benchmarks/startup_benchmark.py measures the CPU seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sim.cli import main
from sim.scenario import load_scenario, read_description, scenario_names

ROOT = Path(__file__).resolve().parent.parent

# What a command that only prints help or the list of scenarios has no use for. pydantic is here
# too: validating a scenario (the schema) is the largest cost left once the rest is gone.
HEAVY = ("pandas", "scipy", "matplotlib", "pyarrow", "dask", "distributed", "mesa", "numpy", "tqdm", "pydantic")


def imported_by(code: str) -> list[str]:
    """The HEAVY modules a fresh interpreter has imported after running `code`."""
    probe = textwrap.dedent(
        f"""
        import contextlib, io, json, sys
        with contextlib.redirect_stdout(io.StringIO()):
            {code}
        print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize(
    "code",
    [
        "import sim",
        "import sim.cli",
        "from sim.cli import build_parser; build_parser()",
        "from sim.cli import main\n            try: main(['--help'])\n            except SystemExit: pass",
        "from sim.cli import main; main(['list'])",
        "import sim.scenario; from sim.scenario import ScenarioError, scenario_names, read_description",
    ],
    ids=["import-sim", "import-cli", "parser", "help", "list", "scenario-names"],
)
def test_help_and_list_import_nothing_heavy(code: str) -> None:
    assert imported_by(code) == []


def test_showing_a_scenario_needs_none_of_the_run_stack() -> None:
    """Validation (pydantic) and one trial draw of each distribution (numpy, so that whatever numpy
    would refuse is refused at load, with a location) are all `sim show` needs."""
    assert imported_by("from sim.cli import main; main(['show', 'baseline'])") == ["numpy", "pydantic"]


def test_sim_list_lists_exactly_the_named_scenarios_with_their_validated_descriptions(capsys) -> None:
    assert main(["list"]) == 0
    lines = [line[2:] for line in capsys.readouterr().out.splitlines() if line.startswith("  ")]
    assert sorted(line.split()[0] for line in lines) == scenario_names()
    for line in lines:
        first = load_scenario(line.split()[0]).description.split(". ")[0].rstrip(".") + "."
        assert line[26:].split(" [...]")[0] in first


def test_a_description_is_read_from_the_file_or_the_nearest_file_it_extends(tmp_path: Path) -> None:
    (tmp_path / "own.yaml").write_text("extends: baseline\ndescription: My own crisis.\n", encoding="utf-8")
    (tmp_path / "inherits.yaml").write_text("extends: own.yaml\nname: mine\n", encoding="utf-8")
    assert read_description(tmp_path / "own.yaml") == "My own crisis."
    assert read_description(tmp_path / "inherits.yaml") == "My own crisis."
    assert load_scenario(tmp_path / "inherits.yaml").description == "My own crisis."


@pytest.mark.parametrize(
    "files",
    [
        {"broken.yaml": "description: [unclosed\n"},
        {"broken.yaml": "extends: nowhere-at-all\n"},
        {"broken.yaml": "extends: other.yaml\n", "other.yaml": "extends: broken.yaml\n"},
        {"broken.yaml": "description: 7\n"},
        {"broken.yaml": "- a list\n"},
    ],
    ids=["bad-yaml", "missing-parent", "cycle", "not-text", "not-a-mapping"],
)
def test_a_description_that_cannot_be_read_plainly_is_none_so_list_falls_back_to_a_full_load(
    tmp_path: Path, files: dict[str, str]
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert read_description(tmp_path / "broken.yaml") is None


def test_sim_list_reports_a_named_scenario_it_cannot_read_plainly_through_the_full_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sim.scenario import catalog

    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "odd.yaml").write_text("name: odd\ndescription: 7\n", encoding="utf-8")
    monkeypatch.setattr(catalog, "scenario_dir", lambda: tmp_path)
    assert main(["list"]) == 2
    assert "odd/odd.yaml:2:1: description: " in capsys.readouterr().err  # located, as a full load reports it
