"""Hostile or broken input to the loader (issue 11, items 11-13 and 15): refused cleanly, never hung.

Each case states what the user sees: exit code 2, one `error: ` line naming the file (and,
where the problem is inside it, the line, column and path), no traceback, nothing quoted
from a file that is not a scenario. Nothing here is timed: the size of the work is counted.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import textwrap
from collections import UserDict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.scenario import ScenarioError, load_scenario
from sim.scenario.merge import merge
from sim.scenario.params import DISTRIBUTION_SHAPES, param
from sim.scenario.yamlio import parse_yaml

REPO = Path(__file__).resolve().parents[1]


def refused(*args: str, cwd: Path = REPO) -> str:
    """The one error line of a command that must exit 2 without a traceback (run in this process)."""
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stderr(io.StringIO()) as err, contextlib.redirect_stdout(io.StringIO()):
            code = main(list(args))
    finally:
        os.chdir(previous)
    assert code == 2, err.getvalue()
    assert "Traceback" not in err.getvalue() and "internal error" not in err.getvalue(), err.getvalue()
    lines = err.getvalue().splitlines()
    assert len(lines) == 1, err.getvalue()
    return lines[0]


def only(ref: str | Path) -> Problem:
    with pytest.raises(ScenarioError) as info:
        load_scenario(ref)
    assert len(info.value.problems) == 1, str(info.value)
    return info.value.problems[0]


# --- 11: extends merges in linear time -------------------------------------------------------


class CountingLocations(UserDict):
    """A location table that counts every key it is asked about or yields, and gives up past a budget.

    Giving up makes a quadratic merge fail at once instead of running for minutes.
    """

    def __init__(self, data: dict, budget: list[int]):
        super().__init__()
        self.data = data
        self.budget = budget

    def _touch(self) -> None:
        self.budget[0] -= 1
        if self.budget[0] < 0:
            raise AssertionError("the merge touched locations more than a few times per key")

    def __getitem__(self, key: Any) -> Any:
        self._touch()
        return self.data[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        self._touch()
        self.data[key] = value

    def __delitem__(self, key: Any) -> None:
        self._touch()
        del self.data[key]

    def __contains__(self, key: object) -> bool:
        self._touch()
        return key in self.data

    def __iter__(self) -> Any:
        for key in self.data:
            self._touch()
            yield key


def _actors(n: int, resolve: Any, file: str) -> tuple[dict, dict]:
    """`n` actors as the YAML reader would return them (built directly: parsing 10,000 is slow)."""
    data = {"actors": {f"a{i}": {"label": f"A{i}", "resolve": resolve, "hostility": {"a0": 0.5}} for i in range(n)}}
    locations: dict = {}

    def locate(node: Any, path: tuple) -> None:
        locations[path] = (file, len(locations) + 1, 1)
        children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
        for key, child in children:
            locate(child, (*path, key))

    locate(data, ())
    return data, locations


def test_extends_touches_each_location_a_bounded_number_of_times() -> None:
    """10,000 actors, each merged and with one value replaced whole: at most 8 touches per key."""
    n = 10_000
    base, base_locs = _actors(n, 0.5, "parent.yaml")
    over, over_locs = _actors(n, {"beta": [2, 2]}, "child.yaml")
    keys = len(base_locs) + len(over_locs)
    budget = [8 * keys]
    counting_base, counting_over = CountingLocations(base_locs, budget), CountingLocations(over_locs, budget)

    def distributions_replace(path: tuple, old: dict, new: dict) -> bool:
        return path[-1] == "resolve"

    merge(base, counting_base, over, counting_over, distributions_replace)

    assert base["actors"]["a9999"]["resolve"] == {"beta": [2, 2]}
    assert base_locs[("actors", "a9999", "resolve", "beta")][0] == "child.yaml"
    assert ("actors", "a9999", "resolve") in base_locs
    assert all(path[:3] != ("actors", "a1", "resolve") or loc[0] == "child.yaml" for path, loc in base_locs.items())


def test_a_replaced_value_forgets_the_parent_locations_inside_it() -> None:
    base, base_locs = parse_yaml("a:\n  x: {beta: [1, 2]}\n  y: 1\n", "parent.yaml")
    over, over_locs = parse_yaml("a:\n  x: 0.5\n", "child.yaml")
    merge(base, base_locs, over, over_locs, lambda path, old, new: False)
    assert base == {"a": {"x": 0.5, "y": 1}}
    assert base_locs == {(): ("parent.yaml", 1, 1), ("a",): ("child.yaml", 1, 1),
                         ("a", "x"): ("child.yaml", 2, 3), ("a", "y"): ("parent.yaml", 3, 3)}


# --- 12: anything that is not a small regular file is refused before it is read -----------------


def _limited() -> None:
    """In the child: a regression that reads /dev/zero fails on 1 GB, not on the shared machine's memory."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30))


def refused_within_limits(*args: str, cwd: Path) -> str:
    """`refused`, but a command that hangs or reads without end fails in seconds, not minutes."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=30, preexec_fn=_limited)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


NOT_REGULAR = "not a regular file (expected a scenario file, got {})"


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_dev_zero_is_refused_unread(tmp_path: Path) -> None:
    assert refused_within_limits("validate", "/dev/zero", cwd=tmp_path) == (
        "error: /dev/zero: " + NOT_REGULAR.format("a character device")
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    assert refused_within_limits("validate", "pipe.yaml", cwd=tmp_path) == (
        "error: pipe.yaml: " + NOT_REGULAR.format("a FIFO (named pipe)")
    )


def test_a_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dir.yaml").mkdir()
    assert refused("validate", "dir.yaml", cwd=tmp_path) == "error: dir.yaml: " + NOT_REGULAR.format("a directory")


def test_a_symlink_loop_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").symlink_to("b.yaml")
    (tmp_path / "b.yaml").symlink_to("a.yaml")
    assert refused("validate", "a.yaml", cwd=tmp_path) == (
        "error: a.yaml: cannot read file (Too many levels of symbolic links)"
    )


@pytest.mark.parametrize(("character", "code"), [("\x00", "0000"), ("\x07", "0007"), ("\x1b", "001B")])
def test_control_characters_in_a_file_are_located(tmp_path: Path, character: str, code: str) -> None:
    (tmp_path / "ctl.yaml").write_text(f"name: mine\ndescription: a{character}b\n", encoding="utf-8")
    assert refused("validate", "ctl.yaml", cwd=tmp_path) == (
        f"error: ctl.yaml:2:15: unprintable character (expected printable text, got U+{code})"
    )


def test_a_control_character_in_a_file_name_keeps_the_message_on_one_line(tmp_path: Path) -> None:
    (tmp_path / "new\nline.yaml").write_text("- a list\n", encoding="utf-8")
    assert refused("validate", "new\nline.yaml", cwd=tmp_path) == (
        "error: new\\x0aline.yaml:1:1: not a scenario (expected a YAML mapping of scenario keys such as name, "
        "actors, extends, got a list)"
    )


def test_a_file_larger_than_it_claims_is_read_only_up_to_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files under /proc claim a size of 0; reading stops one byte past the limit all the same."""
    status = Path("/proc/self/status")
    if not status.exists() or status.stat().st_size != 0:
        pytest.skip("needs a /proc file that claims size 0")
    monkeypatch.setattr("sim.scenario.yamlio.MAX_BYTES", 10)
    with pytest.raises(ScenarioError) as info:
        load_scenario(status)
    assert [str(p) for p in info.value.problems] == [
        "/proc/self/status:1:1: file too large (expected at most 10 bytes, got more)"
    ]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: (d / "dir").mkdir(), "dir: " + NOT_REGULAR.format("a directory")),
        (lambda d: (d / "dir").symlink_to("dir"), "dir: cannot read file (Too many levels of symbolic links)"),
        (lambda d: os.mkfifo(d / "dir"), "dir: " + NOT_REGULAR.format("a FIFO (named pipe)")),
        (lambda d: (d / "dir").symlink_to("/dev/zero"), "dir: " + NOT_REGULAR.format("a character device")),
    ],
    ids=["directory", "symlink-loop", "fifo", "dev-zero"],
)
def test_extending_what_is_not_a_file_is_refused_at_the_extends(tmp_path: Path, make: Any, message: str) -> None:
    make(tmp_path)
    (tmp_path / "mine.yaml").write_text("name: mine\nextends: ./dir\n", encoding="utf-8")
    # What could hang or fill memory if it were read runs in a child with a timeout and a memory limit.
    risky = "FIFO" in message or "device" in message
    run = refused_within_limits if risky else refused
    assert run("validate", "mine.yaml", cwd=tmp_path) == f"error: mine.yaml:2:1: extends: {message}"


# --- 15: a file that is not a scenario is named, never quoted ----------------------------------

SHADOW = "root:$6$SALTSALT$SECRETHASHSECRETHASH:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n"
NOT_A_SCENARIO = "not a scenario (expected a YAML mapping of scenario keys such as name, actors, extends, got {})"


@pytest.mark.parametrize(
    ("content", "found"),
    [
        (SHADOW, "a mapping with none of them"),
        ("SECRET line one\nSECRET line two\n", "text"),
        ("- SECRET\n- list\n", "a list"),
        ("", "an empty file"),
        ("SECRET: [unclosed\n", "invalid YAML at line 2, column 1"),
        ("SECRET: 1\nSECRET: 2\n", "invalid YAML at line 2, column 1"),
        ("SECRET\x00\n", "invalid YAML at line 1, column 7"),
    ],
    ids=["shadow", "text", "list", "empty", "bad-yaml", "duplicate-keys", "nul"],
)
def test_extending_a_file_that_is_not_a_scenario_says_so_in_one_line(tmp_path: Path, content: str, found: str) -> None:
    (tmp_path / "shadow").write_text(content, encoding="utf-8")
    mine = tmp_path / "mine.yaml"
    mine.write_text("name: mine\nextends: ./shadow\n", encoding="utf-8")
    assert str(only(mine)) == f"{mine}:2:1: extends: {tmp_path / 'shadow'}: {NOT_A_SCENARIO.format(found)}"
    line = refused("validate", "mine.yaml", cwd=tmp_path)
    assert line == f"error: mine.yaml:2:1: extends: shadow: {NOT_A_SCENARIO.format(found)}"
    assert "SECRET" not in line and "root" not in line


def test_a_file_named_directly_that_is_not_a_scenario_is_not_quoted_either(tmp_path: Path) -> None:
    (tmp_path / "shadow").write_text(SHADOW, encoding="utf-8")
    line = refused("validate", "shadow", cwd=tmp_path)
    assert line == f"error: shadow:1:1: {NOT_A_SCENARIO.format('a mapping with none of them')}"


def test_an_extended_scenario_with_mistakes_is_still_checked_in_full(tmp_path: Path) -> None:
    """Only a file with no scenario key at all is 'not a scenario': one with a typo is reported in it."""
    parent = tmp_path / "parent.yaml"
    parent.write_text("extends: baseline\nrounds: 700\nroundz: 6\n", encoding="utf-8")
    mine = tmp_path / "mine.yaml"
    mine.write_text("name: mine\nextends: parent.yaml\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(mine)
    assert [(p.file, p.line, p.path) for p in info.value.problems] == [
        (str(parent), 2, "rounds"), (str(parent), 3, "roundz")
    ]


# --- 13: a distribution numpy cannot sample is refused at load, with its location ----------------

RANGES = [(0.0, 1.0), (-10.0, 10.0), (0.01, 100.0), (0.0, 50.0), (-1.0, 1.0)]
ARGUMENT = st.one_of(
    st.sampled_from([0.0, 0.5, 1.0, -1.0, 1e-300, 5e-324, 1e300, 0.01, 100.0]),
    st.floats(allow_nan=False, allow_infinity=False),
)


@settings(max_examples=400, deadline=None)
@given(kind=st.sampled_from(sorted(DISTRIBUTION_SHAPES)), data=st.data(), bounds=st.sampled_from(RANGES))
def test_any_distribution_the_loader_accepts_numpy_samples(kind: str, data: st.DataObject, bounds: tuple) -> None:
    """Accepted at load means sampled at run time: finite draws within the parameter's range."""
    args = data.draw(st.lists(ARGUMENT, min_size=DISTRIBUTION_SHAPES[kind], max_size=DISTRIBUTION_SHAPES[kind]))
    if kind == "triangular" and data.draw(st.booleans()):
        args = [args[0]] * 3  # the degenerate case, often
    validate = param(*bounds).__metadata__[0].func
    try:
        dist = validate({kind: args})
    except ValueError:
        return
    draws = dist.sample(np.random.default_rng(0), 64)
    assert np.isfinite(draws).all() and (draws >= bounds[0]).all() and (draws <= bounds[1]).all()


def test_a_degenerate_triangle_fails_validate_with_its_location(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(
        textwrap.dedent(
            """\
            name: mine
            extends: baseline
            actors:
              russia:
                resolve: {triangular: [0.5, 0.5, 0.5]}
            """
        ),
        encoding="utf-8",
    )
    assert refused("validate", "mine.yaml", cwd=tmp_path) == (
        "error: mine.yaml:5:5: actors.russia.resolve: "
        "expected triangular lo < hi (or a plain number), got triangular(0.5, 0.5, 0.5)"
    )


def test_an_extended_scenario_with_a_duplicate_key_is_reported_in_its_own_file(tmp_path: Path) -> None:
    parent = tmp_path / "parent.yaml"
    parent.write_text("extends: baseline\nrounds: 6\nrounds: 7\n", encoding="utf-8")
    mine = tmp_path / "mine.yaml"
    mine.write_text("name: mine\nextends: parent.yaml\n", encoding="utf-8")
    assert str(only(mine)) == f"{parent}:3:1: rounds: duplicate key (expected each key once, got it again)"


def test_a_path_with_a_nul_character_is_refused() -> None:
    assert str(only(Path("a\x00b.yaml"))) == (
        "a\\x00b.yaml: cannot read file (expected a path without NUL characters, got one with)"
    )


@pytest.mark.parametrize(
    ("written", "code"),
    [('"a\\eb"', "001B"), ('"a\\x1b[31mred"', "001B"), ('"a\\u202eb"', "202E"), ("a\u202eb", "202E"), ('"a\\rb"', "000D")],
)
def test_control_and_direction_characters_in_strings_are_located(tmp_path: Path, written: str, code: str) -> None:
    """Escapes build control characters the reader never sees, and U+202E is printable to YAML;
    both would reach the terminal through `sim explain`, so a string holding one is refused."""
    (tmp_path / "ctl.yaml").write_text(f"name: mine\ndescription: {written}\n", encoding="utf-8")
    assert refused("validate", "ctl.yaml", cwd=tmp_path) == (
        f"error: ctl.yaml:2:14: description: unprintable character (expected printable text, got U+{code})"
    )


def test_a_control_character_in_a_set_value_is_refused() -> None:
    assert refused("show", "baseline", "--set", 'description="x\\e[2Jy"') == (
        "error: --set:1:13: description: unprintable character (expected printable text, got U+001B)"
    )


def test_tabs_line_breaks_and_the_persian_zero_width_non_joiner_are_text() -> None:
    data, _ = parse_yaml('a: "x\\ty\\nz"\nb: "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"\n', "ok.yaml")
    assert data == {"a": "x\ty\nz", "b": "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"}
