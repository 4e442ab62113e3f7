"""The scenario loader on broken input: every problem, located and explained, all at once.

Each test writes a small file (usually one that `extends: baseline` and breaks one thing)
and states the exact Problem(s) raised: file, line, column, dotted path and message. A few
also run `sim validate` as a user would: exit code 2, one `error: ` line per problem on
stderr, no traceback. A property test mutates a valid file at random and requires that
the loader either accepts it or explains every problem, never crashing.
"""

from __future__ import annotations

import copy
import math
import os
import subprocess
import sys
import textwrap
import types
import typing
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from sim.scenario import Problem, Scenario, ScenarioError, dump_scenario, load_scenario
from sim.scenario.params import Distribution
from sim.scenario.yamlio import MAX_BYTES, MAX_DEPTH

REPO = Path(__file__).resolve().parents[1]


# --- helpers ----------------------------------------------------------------------------


def write(directory: Path, name: str, text: str) -> Path:
    """Write a scenario file; `text` is dedented, so line 1 is its first line."""
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(ref: str | Path, overrides: Any = None) -> list[Problem]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(ref, overrides)
    assert info.value.problems, "a ScenarioError always carries its problems"
    return info.value.problems


def only(found: list[Problem]) -> Problem:
    assert len(found) == 1, "\n".join(map(str, found))
    return found[0]


def at(p: Problem) -> tuple[str, int, int, str]:
    return p.file, p.line, p.column, p.path


def sim_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )


def assert_cli_reports(found: list[Problem], *args: str) -> None:
    """The command exits 2 and prints exactly these problems, one `error: ` line each."""
    result = sim_cli(*args)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [f"error: {p}" for p in found]


EXTENDS_BASELINE = """\
    name: mine
    extends: baseline
    description: A user's scenario.
    sources: [judgement]
"""


def mine(tmp_path: Path, body: str, name: str = "mine.yaml") -> Path:
    """A scenario extending baseline; `body` starts at line 5."""
    return write(tmp_path, name, EXTENDS_BASELINE + textwrap.indent(textwrap.dedent(body), "    "))


# --- YAML itself ------------------------------------------------------------------------


def test_yaml_syntax_error_is_located(tmp_path: Path) -> None:
    path = mine(tmp_path, "actors:\n  south_korea: {resolve: 0.5\n  russia: {resolve: 0.5}\n")
    p = only(problems(path))
    assert at(p) == (str(path), 7, 9, "")
    assert p.message == "while parsing a flow mapping; expected ',' or '}', but got ':'"
    assert_cli_reports([p], "validate", str(path))


def test_alias_is_refused(tmp_path: Path) -> None:
    path = mine(tmp_path, "actors:\n  south_korea: {resolve: &r 0.5}\n  russia: {resolve: *r}\n")
    p = only(problems(path))
    assert at(p) == (str(path), 7, 21, "")
    assert p.message == "YAML aliases are not allowed (expected a plain value, got alias *r)"


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "deep.yaml", "name: deep\nsources: " + "[" * 100 + "]" * 100 + "\n")
    p = only(problems(path))
    # The root mapping is level 1 and `sources` level 2, so the 40th "[" opens level 41.
    assert at(p) == (str(path), 2, len("sources: ") + MAX_DEPTH, "")
    assert p.message == f"nesting too deep (expected at most {MAX_DEPTH} levels, got more)"


def test_deep_nesting_is_refused_before_it_is_built(tmp_path: Path) -> None:
    """100,000 nested lists would exhaust the recursion limit if they were ever composed."""
    depth = 100_000
    path = write(tmp_path, "deeper.yaml", "sources: " + "[" * depth + "]" * depth + "\n")
    assert path.stat().st_size < MAX_BYTES
    p = only(problems(path))
    assert (p.line, p.column) == (1, len("sources: ") + MAX_DEPTH)
    assert p.message.startswith("nesting too deep")


def test_oversized_file_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"name: huge\n" + b"#" * (MAX_BYTES - 11) + b"\n")
    assert path.stat().st_size == MAX_BYTES + 1
    p = only(problems(path))
    assert at(p) == (str(path), 1, 1, "")
    assert p.message == f"file too large (expected at most 1000000 bytes, got {MAX_BYTES + 1})"


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    path = mine(tmp_path, "description: Again.\nactors:\n  south_korea:\n    resolve: 0.5\n    resolve: 0.6\n")
    found = problems(path)
    assert [at(p) for p in found] == [
        (str(path), 5, 1, "description"),
        (str(path), 9, 5, "actors.south_korea.resolve"),
    ]
    assert {p.message for p in found} == {"duplicate key (expected each key once, got it again)"}


def test_a_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "list.yaml", "- name: a\n- name: b\n")
    p = only(problems(path))
    assert at(p) == (str(path), 1, 1, "")
    assert p.message == (
        "not a scenario (expected a YAML mapping of scenario keys such as name, actors, extends, got a list)"
    )


def test_tags_that_build_objects_are_refused(tmp_path: Path) -> None:
    path = mine(tmp_path, "rounds: !!python/object/apply:os.system [echo]\nmoves_per_round: !!int twelve\n")
    found = problems(path)
    assert [at(p) for p in found] == [(str(path), 5, 9, "rounds"), (str(path), 6, 18, "moves_per_round")]
    assert found[0].message == (
        "cannot read value (expected a plain mapping or list, got tag:yaml.org,2002:python/object/apply:os.system)"
    )
    assert found[1].message == (
        "cannot read value (expected a plain YAML value, got tag:yaml.org,2002:int: "
        "invalid literal for int() with base 10: 'twelve')"
    )


# --- keys and types ---------------------------------------------------------------------


def test_unknown_key_says_what_is_allowed_and_did_you_mean(tmp_path: Path) -> None:
    path = mine(tmp_path, "actors:\n  south_korea:\n    resolv: 0.5\n")
    p = only(problems(path))
    assert at(p) == (str(path), 7, 5, "actors.south_korea.resolv")
    assert p.message == (
        "unknown key 'resolv' (expected one of: activities, attribution, audience_cost_weight, hostility, "
        "intelligence, label, moves_per_round, note, persistence, policy, preferences, preferences_toward, "
        "reciprocity, resolve, risk_tolerance, routine, sources, sponsor) (did you mean 'resolve'?)"
    )


def test_unknown_top_level_key(tmp_path: Path) -> None:
    path = mine(tmp_path, "roundss: 12\n")
    p = only(problems(path))
    assert at(p) == (str(path), 5, 1, "roundss")
    assert p.message.startswith("unknown key 'roundss' (expected one of: actions, actors, ")
    assert p.message.endswith("(did you mean 'rounds'?)")


def test_unknown_key_in_a_policy_lists_that_policys_keys(tmp_path: Path) -> None:
    path = mine(
        tmp_path,
        """\
        actors:
          north_korea:
            policy: {name: tit_for_tat, opponent: south_korea, opening: {action: warn, target: south_korea}, temprature: 1}
        """,
    )
    p = only(problems(path))
    assert at(p) == (str(path), 7, 102, "actors.north_korea.policy.temprature")
    assert p.message == "unknown key 'temprature' (expected one of: name, opening, opponent)"


def test_unknown_policy_did_you_mean(tmp_path: Path) -> None:
    path = mine(tmp_path, "actors:\n  north_korea:\n    policy: {name: scriptd, moves: []}\n")
    p = only(problems(path))
    assert at(p) == (str(path), 7, 5, "actors.north_korea.policy")
    assert p.message == (
        "unknown policy (expected one of: utility, scripted, tit_for_tat, got 'scriptd') (did you mean 'scripted'?)"
    )


def test_missing_required_key_is_located_at_its_block(tmp_path: Path) -> None:
    path = mine(
        tmp_path,
        """\
        red_lines:
          japan.missile_test:
            trigger: {actor: north_korea, actions: [missile_test], target: south_korea}
            response: {action: warn, target: north_korea}
            cost: 1.0
            publicity: 0.5
            specificity: 0.5
            drawn: 2024-01-01
            sources: [judgement]
        """,
    )
    found = problems(path)
    assert [at(p) for p in found] == [
        (str(path), 6, 3, "red_lines.japan.missile_test.credibility"),
        (str(path), 6, 3, "red_lines.japan.missile_test.owner"),
    ]
    assert [p.message for p in found] == [
        "missing required key 'credibility' (expected a value, got nothing)",
        "missing required key 'owner' (expected a value, got nothing)",
    ]


def test_missing_top_level_keys_of_a_file_written_from_scratch(tmp_path: Path) -> None:
    path = write(tmp_path, "bare.yaml", "# a start\nname: bare\ndescription: Nothing yet.\nsources: [judgement]\n")
    found = problems(path)
    assert [p.path for p in found] == ["actions", "actors", "dynamics", "ladder", "outcomes", "start"]
    assert {(p.file, p.line, p.column) for p in found} == {(str(path), 2, 1)}
    assert found[0].message == "missing required key 'actions' (expected a value, got nothing)"


def test_missing_policy_name(tmp_path: Path) -> None:
    data = copy.deepcopy(VALID)
    data["actors"]["north_korea"]["policy"] = {"moves": [{"action": "warn", "target": "south_korea"}]}
    path = tmp_path / "full.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    lines = path.read_text(encoding="utf-8").splitlines()
    line = lines.index("    policy:", lines.index("  north_korea:")) + 1
    p = only(problems(path))
    assert at(p) == (str(path), line, 5, "actors.north_korea.policy")
    assert p.message == "missing required key 'name' (expected a policy name, got nothing)"


def test_policy_missing_its_moves(tmp_path: Path) -> None:
    path = write(tmp_path, "bare.yaml", "extends: baseline\nactors:\n  north_korea:\n    policy: {name: scripted}\n")
    p = only(problems(path))
    assert at(p) == (str(path), 4, 5, "actors.north_korea.policy.moves")
    assert p.message == "missing required key 'moves' (expected a value, got nothing)"


def test_wrong_types(tmp_path: Path) -> None:
    path = mine(
        tmp_path,
        """\
        rounds: twelve
        actors:
          russia:
            label: [Russia]
            audience_cost_weight: high
        actions:
          warn: {public: maybe, rung: 2.5}
        """,
    )
    found = problems(path)
    assert [(at(p), p.message) for p in found] == [
        ((str(path), 5, 1, "rounds"), "expected a valid integer, unable to parse string as an integer, got 'twelve'"),
        ((str(path), 8, 5, "actors.russia.label"), "expected a valid string, got ['Russia']"),
        ((str(path), 9, 5, "actors.russia.audience_cost_weight"), "expected a number, got 'high'"),
        ((str(path), 11, 10, "actions.warn.public"), "expected a valid boolean, unable to interpret input, got 'maybe'"),
        ((str(path), 11, 25, "actions.warn.rung"), "expected a valid integer, got 2.5"),
    ]


def test_bad_id(tmp_path: Path) -> None:
    path = write(tmp_path, "mine.yaml", "extends: baseline\nname: My Scenario\n")
    p = only(problems(path))
    assert at(p) == (str(path), 2, 1, "name")
    assert p.message == "expected an id of lowercase letters, digits, '_', '.' or '-', got 'My Scenario'"


def test_an_invalid_mapping_key_is_located_at_the_key(tmp_path: Path) -> None:
    path = mine(tmp_path, "ladder:\n  points: {posturin: 4}\n")
    p = only(problems(path))
    assert at(p) == (str(path), 6, 12, "ladder.points.posturin")
    assert p.message.startswith("expected 'de_escalation', 'status_quo', 'posturing', ")
    assert p.message.endswith(", got 'posturin' (did you mean 'posturing'?)")


# --- numbers and distributions ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1.5", "expected a number in [0, 1], got 1.5"),
        ("-0.1", "expected a number in [0, 1], got -0.1"),
        (".nan", "expected a finite number, got nan"),
        (".inf", "expected a finite number, got inf"),
        ("-.inf", "expected a finite number, got -inf"),
        ("true", "expected a number, got true"),
        ("{beta: [0, 2]}", "expected beta shape parameters > 0, got beta(0, 2)"),
        ("{uniform: [0.9, 0.1]}", "expected uniform lo <= hi, got uniform(0.9, 0.1)"),
        ("{triangular: [0.2, 0.1, 0.9]}", "expected triangular lo <= mode <= hi, got triangular(0.2, 0.1, 0.9)"),
        ("{triangular: [0.5, 0.5, 0.5]}", "expected triangular lo < hi (or a plain number), got triangular(0.5, 0.5, 0.5)"),
        ("{normal: [0.5, -0.1]}", "expected a normal sd >= 0, got -0.1"),
        ("{normal: [0.5]}", "expected normal to take a list of 2 numbers, got [0.5]"),
        ("{beta: [2, .nan]}", "expected a finite number, got nan"),
        ("{uniform: [0.5, 1.5]}", "expected a distribution within [0, 1], got uniform(0.5, 1.5)"),
        ("{normal: [1.2, 0.1]}", "expected a normal mean within [0, 1], got normal(1.2, 0.1)"),
        (
            "{poisson: [1]}",
            "expected a number or one distribution ({beta: [a, b]}, {uniform: [lo, hi]}, {normal: [mean, sd]}, "
            "{triangular: [lo, mode, hi]}, {empirical: {values: [...], weights: [...]}}), got {poisson: [1]}",
        ),
        (
            "{beta: [2, 2], uniform: [0, 1]}",
            "expected a number or one distribution ({beta: [a, b]}, {uniform: [lo, hi]}, {normal: [mean, sd]}, "
            "{triangular: [lo, mode, hi]}, {empirical: {values: [...], weights: [...]}}), got {beta: [2, 2], uniform: [0, 1]}",
        ),
    ],
)
def test_bad_probability(tmp_path: Path, value: str, message: str) -> None:
    path = mine(tmp_path, f"actors:\n  south_korea:\n    resolve: {value}\n")
    p = only(problems(path))
    assert at(p) == (str(path), 7, 5, "actors.south_korea.resolve")
    assert p.message == message


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("rounds", "0", "expected greater than or equal to 1, got 0"),
        ("rounds", "601", "expected less than or equal to 600, got 601"),
        ("moves_per_round", ".nan", "expected a finite number, got nan"),
    ],
)
def test_bad_top_level_number(tmp_path: Path, key: str, value: str, message: str) -> None:
    path = mine(tmp_path, f"{key}: {value}\n")
    p = only(problems(path))
    assert at(p) == (str(path), 5, 1, key)
    assert p.message == message


def test_numbers_with_other_ranges(tmp_path: Path) -> None:
    path = mine(
        tmp_path,
        """\
        actors:
          russia:
            preferences: {warn: 11}
            reciprocity: {uniform: [-1, 2]}
        actions:
          war: {goldstein: -.inf, mid_level: 6}
        dynamics:
          enforcement: {bias: -25}
        """,
    )
    found = problems(path)
    assert [(at(p)[1:], p.message) for p in found] == [
        ((7, 19, "actors.russia.preferences.warn"), "expected a number in [-10, 10], got 11"),
        ((8, 5, "actors.russia.reciprocity"), "expected a distribution within [0, 10], got uniform(-1, 2)"),
        ((10, 9, "actions.war.goldstein"), "expected a finite number, got -inf"),
        ((10, 27, "actions.war.mid_level"), "expected less than or equal to 5, got 6"),
        ((12, 17, "dynamics.enforcement.bias"), "expected a number in [-20, 20], got -25"),
    ]


def test_distributions_load_and_a_normal_is_clipped_to_the_range(tmp_path: Path) -> None:
    path = mine(
        tmp_path,
        """\
        actors:
          south_korea: {resolve: {normal: [0.9, 0.5]}, risk_tolerance: {triangular: [0.1, 0.2, 0.6]}}
          russia: {resolve: {uniform: [0, 1]}, risk_tolerance: {beta: [2, 5]}}
        """,
    )
    s = load_scenario(path)
    resolve = s.actors["south_korea"].resolve
    assert resolve == Distribution("normal", (0.9, 0.5))
    draws = resolve.sample(np.random.default_rng(np.random.SeedSequence(2024)), 10_000)
    assert draws.min() >= 0.0 and draws.max() <= 1.0
    # About 42% of normal(0.9, 0.5) lies above 1: those draws sit exactly on the bound.
    assert 0.38 < np.mean(draws == 1.0) < 0.46
    assert s.actors["south_korea"].risk_tolerance == Distribution("triangular", (0.1, 0.2, 0.6))
    assert s.actors["russia"].risk_tolerance == Distribution("beta", (2.0, 5.0))


# --- references -------------------------------------------------------------------------


def test_misspelt_references_say_did_you_mean(tmp_path: Path) -> None:
    path = mine(
        tmp_path,
        """\
        actors:
          south_korea:
            hostility: {north_kore: 0.5}
            preferences: {lethal_ad: 1.0}
        red_lines:
          russia.lethal_aid:
            trigger: {actor: south_kora}
        injects:
          surprise:
            round: 5
            force: {russia: {action: precision_weapon, target: north_korea}}
            sources: [putin-countermeasur]
        """,
    )
    found = problems(path)
    assert [(at(p), p.message) for p in found] == [
        (
            (str(path), 7, 17, "actors.south_korea.hostility.north_kore"),
            "unknown actor (expected one of the scenario's actors, got 'north_kore') (did you mean 'north_korea'?)",
        ),
        (
            (str(path), 8, 19, "actors.south_korea.preferences.lethal_ad"),
            "unknown action (expected one of the scenario's actions, got 'lethal_ad') (did you mean 'lethal_aid'?)",
        ),
        (
            (str(path), 11, 15, "red_lines.russia.lethal_aid.trigger.actor"),
            "unknown actor (expected one of the scenario's actors, got 'south_kora') (did you mean 'south_korea'?)",
        ),
        (
            (str(path), 15, 22, "injects.surprise.force.russia.action"),
            "unknown action (expected one of the scenario's actions, got 'precision_weapon') "
            "(did you mean 'precision_weapons'?)",
        ),
        (
            (str(path), 16, 15, "injects.surprise.sources[0]"),
            "unknown source (expected a claim or reference id from seeds/ or this scenario's claims or references, got 'putin-countermeasur') "
            "(did you mean 'putin-countermeasure'?)",
        ),
    ]
    assert_cli_reports(found, "validate", str(path))


def test_unknown_source_is_reported_with_schema_errors(tmp_path: Path) -> None:
    path = mine(tmp_path, "actors:\n  russia:\n    resolve: 2\n    sources: [putin-grave-mistak]\n")
    found = problems(path)
    assert [at(p)[1:] for p in found] == [(7, 5, "actors.russia.resolve"), (8, 15, "actors.russia.sources[0]")]
    assert found[1].message.endswith("(did you mean 'putin-grave-mistake'?)")


def test_python_object_tag_on_a_scalar_is_refused(tmp_path: Path) -> None:
    path = mine(tmp_path, "moves_per_round: !!python/object:os.system x\n")
    p = only(problems(path))
    assert at(p) == (str(path), 5, 18, "moves_per_round")
    assert p.message == (
        "cannot read value (expected a plain YAML value, got tag:yaml.org,2002:python/object:os.system: "
        "could not determine a constructor for the tag 'tag:yaml.org,2002:python/object:os.system')"
    )


def test_sources_must_be_strings(tmp_path: Path) -> None:
    path = mine(tmp_path, "actors:\n  russia:\n    sources: [[judgement], judgment]\n")
    found = problems(path)
    assert [(at(p)[1:], p.message) for p in found] == [
        ((7, 15, "actors.russia.sources[0]"), "expected a valid string, got ['judgement']"),
        (
            (7, 28, "actors.russia.sources[1]"),
            "unknown source (expected a claim or reference id from seeds/ or this scenario's claims or references, got 'judgment') "
            "(did you mean 'judgement'?)",
        ),
    ]


def test_disallowed_move_in_a_scripted_policy(tmp_path: Path) -> None:
    path = mine(
        tmp_path,
        """\
        actors:
          north_korea:
            policy:
              name: scripted
              moves:
                - {action: warn, target: south_korea}
                - {action: missile_test, target: russia}
                - {action: lethal_aid, target: ukraine}
        """,
    )
    found = problems(path)
    assert [(at(p), p.message) for p in found] == [
        (
            (str(path), 11, 11, "actors.north_korea.policy.moves[1]"),
            "move not allowed (expected a target listed in actions.missile_test.allowed.north_korea, "
            "got north_korea -> russia)",
        ),
        (
            (str(path), 12, 11, "actors.north_korea.policy.moves[2]"),
            "move not allowed (expected a target listed in actions.lethal_aid.allowed.north_korea, "
            "got north_korea -> ukraine)",
        ),
    ]


def test_inject_after_the_last_round(tmp_path: Path) -> None:
    path = mine(
        tmp_path,
        """\
        rounds: 12
        injects:
          late: {round: 13, set_state: {war_intensity: 0.5}, sources: [judgement], note: Too late.}
          long: {round: 10, until: 14, set_state: {war_intensity: 0.5}, sources: [judgement], note: Too long.}
        """,
    )
    found = problems(path)
    assert [(at(p), p.message) for p in found] == [
        ((str(path), 7, 10, "injects.late.round"), "inject after the last round (expected <= 12, got 13)"),
        ((str(path), 8, 10, "injects.long.round"), "inject after the last round (expected <= 12, got 14)"),
    ]


def test_inject_checks(tmp_path: Path) -> None:
    path = mine(
        tmp_path,
        """\
        injects:
          empty: {round: 3, sources: [judgement]}
          backwards: {round: 5, until: 4, set_status: {us_rok_alliance: lapsed}, sources: [judgement]}
        """,
    )
    found = problems(path)
    assert [(at(p), p.message) for p in found] == [
        (
            (str(path), 6, 3, "injects.empty"),
            "an inject needs force, stop, sign, set_state, set_status or set (expected one, got none)",
        ),
        ((str(path), 7, 3, "injects.backwards"), "until must be >= round (expected >= 5, got 4)"),
    ]


# --- several problems at once -----------------------------------------------------------


def test_every_problem_in_a_file_is_reported_at_once(tmp_path: Path) -> None:
    path = mine(
        tmp_path,
        """\
        rounds: -3
        actors:
          south_korea:
            resolv: 0.5
            risk_tolerance: .nan
            intelligence: {uniform: [0.5, 1.5]}
          russia:
            resolve: {beta: [0, 2]}
            audience_cost_weight: high
        actions:
          war: {rung: 200}
        red_lines:
          russia.lethal_aid: {publicity: 1.1, sources: [grave-mistake]}
        """,
    )
    found = problems(path)
    assert [(p.line, p.path) for p in found] == [
        (5, "rounds"),
        (8, "actors.south_korea.resolv"),
        (9, "actors.south_korea.risk_tolerance"),
        (10, "actors.south_korea.intelligence"),
        (12, "actors.russia.resolve"),
        (13, "actors.russia.audience_cost_weight"),
        (15, "actions.war.rung"),
        (17, "red_lines.russia.lethal_aid.publicity"),
        (17, "red_lines.russia.lethal_aid.sources[0]"),
    ]
    assert all(p.file == str(path) and "expected" in p.message for p in found)
    assert_cli_reports(found, "validate", str(path))


def test_validate_reports_every_file_and_passes_good_ones(tmp_path: Path) -> None:
    bad_one = mine(tmp_path, "rounds: 0\n", "bad-one.yaml")
    bad_two = mine(tmp_path, "moves_per_round: -1\n", "bad-two.yaml")
    good = mine(tmp_path, "rounds: 12\n", "good.yaml")
    result = sim_cli("validate", str(bad_one), str(good), str(bad_two))
    assert result.returncode == 2
    assert result.stdout == f"ok: {good}\n"
    assert result.stderr.splitlines() == [
        f"error: {bad_one}:5:1: rounds: expected greater than or equal to 1, got 0",
        f"error: {bad_two}:5:1: moves_per_round: expected greater than or equal to 0, got -1",
    ]


# --- extends ----------------------------------------------------------------------------


def test_extends_a_misspelt_name(tmp_path: Path) -> None:
    path = write(tmp_path, "mine.yaml", "name: mine\nextends: baselin\n")
    p = only(problems(path))
    assert at(p) == (str(path), 2, 1, "extends")
    assert p.message == (
        "no such scenario (expected a name from 'sim list' or a .yaml file, got 'baselin') (did you mean 'baseline'?)"
    )


def test_extends_a_missing_relative_path(tmp_path: Path) -> None:
    path = write(tmp_path, "sub/mine.yaml", "name: mine\nextends: ../base/parent.yaml\n")
    p = only(problems(path))
    assert at(p) == (str(path), 2, 1, "extends")
    assert p.message == (
        f"no such file (expected an existing scenario file, got {tmp_path / 'sub' / '..' / 'base' / 'parent.yaml'})"
    )


def test_extends_must_be_a_string(tmp_path: Path) -> None:
    path = write(tmp_path, "mine.yaml", "name: mine\nextends: [baseline]\n")
    p = only(problems(path))
    assert at(p) == (str(path), 2, 1, "extends")
    assert p.message == "expected a scenario name or path, got ['baseline']"


def test_extends_cycle_is_located_where_it_closes(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", "name: a\nextends: b.yaml\n")
    b = write(tmp_path, "b.yaml", "name: b\n\nextends: a.yaml\n")
    p = only(problems(a))
    assert at(p) == (str(b), 3, 1, "extends")
    assert p.message == "extends cycle (expected a chain, got a.yaml -> b.yaml -> a.yaml)"
    p = only(problems(b))
    assert at(p) == (str(a), 2, 1, "extends")
    assert p.message == "extends cycle (expected a chain, got b.yaml -> a.yaml -> b.yaml)"


def test_extends_itself(tmp_path: Path) -> None:
    path = write(tmp_path, "self.yaml", "name: self\nextends: self.yaml\n")
    p = only(problems(path))
    assert at(p) == (str(path), 2, 1, "extends")
    assert p.message == "extends cycle (expected a chain, got self.yaml -> self.yaml)"


def test_users_file_extending_baseline_changes_only_what_it_overrides(tmp_path: Path) -> None:
    path = write(tmp_path, "anywhere/mine.yaml", "extends: baseline\nactors:\n  south_korea:\n    resolve: 0.9\n")
    expected = load_scenario("baseline").model_dump()
    expected["actors"]["south_korea"]["resolve"] = 0.9
    assert load_scenario(path).model_dump() == expected


def test_extends_by_relative_path_through_a_chain(tmp_path: Path) -> None:
    write(tmp_path, "base/parent.yaml", "name: parent\nextends: baseline\nrounds: 12\n")
    path = write(tmp_path, "sub/child.yaml", "name: child\nextends: ../base/parent.yaml\nmoves_per_round: 3\n")
    s = load_scenario(path)
    assert (s.name, s.rounds, s.moves_per_round) == ("child", 12, 3)
    assert s.description == load_scenario("baseline").description


def test_problems_in_an_extended_file_are_located_there(tmp_path: Path) -> None:
    parent = write(tmp_path, "parent.yaml", "name: parent\nextends: baseline\nrounds: 700\n")
    child = write(tmp_path, "child.yaml", "name: child\nextends: parent.yaml\n")
    p = only(problems(child))
    assert at(p) == (str(parent), 3, 1, "rounds")
    # ...and an override in the child replaces the parent's value and its location.
    write(tmp_path, "child.yaml", "name: child\nextends: parent.yaml\nrounds: 6\n")
    assert load_scenario(child).rounds == 6


def test_inherited_value_is_located_where_it_is_written(tmp_path: Path) -> None:
    """Shortening the run below an inherited inject blames the inject in the parent file."""
    parent = mine(
        tmp_path,
        "injects:\n  late:\n    round: 20\n    set_state: {war_intensity: 0.1}\n    sources: [judgement]\n",
        "parent.yaml",
    )
    path = write(tmp_path, "short.yaml", "name: short\nextends: parent.yaml\nrounds: 12\n")
    p = only(problems(path))
    assert at(p) == (str(parent), 7, 5, "injects.late.round")
    assert p.message == "inject after the last round (expected <= 12, got 20)"


def test_mappings_merge_lists_and_distributions_replace(tmp_path: Path) -> None:
    path = mine(
        tmp_path,
        """\
        actors:
          south_korea:
            hostility: {north_korea: 0.9}
            resolve: {uniform: [0.4, 0.9]}
        red_lines:
          south_korea.precision_weapons:
            warning: [tech_transfer]
        """,
    )
    s, base = load_scenario(path), load_scenario("baseline")
    assert s.actors["south_korea"].hostility == {**base.actors["south_korea"].hostility, "north_korea": 0.9}
    assert s.red_lines["south_korea.precision_weapons"].warning == ["tech_transfer"]
    assert s.sources == ["judgement"]
    assert isinstance(base.actors["south_korea"].resolve, Distribution)  # the world's beta...
    assert s.actors["south_korea"].resolve == Distribution("uniform", (0.4, 0.9))  # ...replaced whole


def test_a_different_policy_replaces_the_inherited_one(tmp_path: Path) -> None:
    parent = write(
        tmp_path,
        "parent.yaml",
        "extends: baseline\nactors:\n  north_korea:\n    policy: {name: utility, temperature: 2.0}\n",
    )
    child = write(
        tmp_path,
        "child.yaml",
        "extends: parent.yaml\nactors:\n  north_korea:\n    policy: {name: scripted, moves: [{action: warn, target: south_korea}]}\n",
    )
    assert load_scenario(parent).actors["north_korea"].policy.temperature == 2.0
    policy = load_scenario(child).actors["north_korea"].policy
    assert policy.model_dump() == {"name": "scripted", "moves": [{"action": "warn", "target": "south_korea"}]}
    # The same policy's keys still merge one by one.
    write(tmp_path, "child.yaml", "extends: parent.yaml\nactors:\n  north_korea:\n    policy: {name: utility}\n")
    assert load_scenario(child).actors["north_korea"].policy.temperature == 2.0


# --- --set overrides --------------------------------------------------------------------


def test_set_overrides_a_value_and_is_validated_like_the_file() -> None:
    s = load_scenario("baseline", ["actors.south_korea.resolve=0.9", "rounds=12"])
    assert (s.actors["south_korea"].resolve, s.rounds) == (0.9, 12)
    s = load_scenario("baseline", {"actors.russia.resolve": {"beta": [2, 2]}})
    assert s.actors["russia"].resolve == Distribution("beta", (2.0, 2.0))


def test_set_reaches_into_ids_that_contain_dots() -> None:
    s = load_scenario("baseline", ["red_lines.south_korea.precision_weapons.credibility=0.9"])
    assert s.red_lines["south_korea.precision_weapons"].credibility == 0.9
    assert s.red_lines["russia.lethal_aid"].credibility == 0.5


def test_set_with_a_bad_value_is_located_at_the_set() -> None:
    overrides = ["rounds=12", "actors.south_korea.resolve=1.5"]
    p = only(problems("baseline", overrides))
    assert at(p) == ("--set", 2, 1, "actors.south_korea.resolve")
    assert p.message == "expected a number in [0, 1], got 1.5"
    assert str(p) == "--set:2:1: actors.south_korea.resolve: expected a number in [0, 1], got 1.5"
    p = only(problems("baseline", ["red_lines.russia.lethal_aid.publicity=.nan"]))
    assert at(p) == ("--set", 1, 1, "red_lines.russia.lethal_aid.publicity")
    assert p.message == "expected a finite number, got nan"


def test_set_with_a_bad_value_on_the_command_line() -> None:
    p = Problem("--set", 1, 1, "actors.south_korea.resolve", "expected a number in [0, 1], got 1.5")
    assert_cli_reports([p], "show", "baseline", "--set", "actors.south_korea.resolve=1.5")


def test_set_value_that_is_not_yaml_is_located_in_its_text() -> None:
    p = only(problems("baseline", ["rounds=12", "actors.south_korea.resolve={beta: [1, 2]"]))
    assert at(p) == ("--set", 2, len("actors.south_korea.resolve={beta: [1, 2]") + 1, "actors.south_korea.resolve")
    assert "expected ',' or '}'" in p.message


def test_set_without_equals() -> None:
    p = only(problems("baseline", ["rounds=12", "actors.south_korea.resolve"]))
    assert at(p) == ("--set", 2, 1, "actors.south_korea.resolve")
    assert p.message == "expected PATH=VALUE, got no '='"


def test_set_an_unknown_key_says_did_you_mean() -> None:
    p = only(problems("baseline", ["actors.south_korea.resolv=0.5"]))
    assert at(p) == ("--set", 1, 1, "actors.south_korea.resolv")
    assert p.message.endswith("(did you mean 'resolve'?)")


def test_set_inside_a_number_is_refused() -> None:
    p = only(problems("baseline", ["actors.russia.resolve.beta=[2, 2]"]))
    assert at(p) == ("--set", 1, 1, "actors.russia.resolve.beta")
    assert p.message == "cannot look up 'beta' inside a number (expected a mapping at actors.russia.resolve)"


# --- property: any mutation of a valid file is accepted or explained -------------------

VALID = yaml.safe_load(dump_scenario(load_scenario("baseline")))


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths to every number (not bool) in `node`."""
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _leaves(v, (*path, k))]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _leaves(v, (*path, i))]
    return [path] if isinstance(node, int | float) and not isinstance(node, bool) else []


def _keys(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths to every mapping key in `node`."""
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in [(*path, k), *_keys(v, (*path, k))]]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _keys(v, (*path, i))]
    return []


NUMBERS = _leaves(VALID)
KEYS = _keys(VALID)

BAD_VALUES = st.one_of(
    st.sampled_from(["", "high", "0.5", "nan", "1e9", "-1"]),
    st.floats(max_value=-1e-6, allow_nan=False, allow_infinity=False),
    st.integers(max_value=-1),
    st.just(1e9),
    st.just(math.nan),
    st.sampled_from([math.inf, -math.inf]),
    st.lists(st.floats(-2, 2), max_size=3),
)


def _parent(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        data = data[key]
    return data


@st.composite
def mutations(draw: st.DrawFn) -> tuple[dict, str, tuple[Any, ...], Any]:
    data = copy.deepcopy(VALID)
    kind = draw(st.sampled_from(["replace", "delete", "rename"]))
    if kind == "replace":
        path = draw(st.sampled_from(NUMBERS))
        _parent(data, path)[path[-1]] = draw(BAD_VALUES)
        return data, kind, path, None
    path = draw(st.sampled_from(KEYS))
    parent, key = _parent(data, path), path[-1]
    if kind == "delete":
        del parent[key]
        return data, kind, path, None
    i = draw(st.integers(0, len(key) - 1))
    new = key[:i] + draw(st.sampled_from("abcdefghijklmnopqrstuvwxyz_.-Z9")) + key[i + 1 :]
    value = parent.pop(key)
    parent[new] = value
    return data, kind, path, new


@pytest.mark.slow  # several seconds: moved out of the default suite to keep it near 60 s; CI runs it
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=mutations())
def test_any_mutation_is_accepted_or_explained(tmp_path: Path, mutation: tuple[dict, str, tuple, Any]) -> None:
    data, kind, path, new = mutation
    file = tmp_path / "mutant.yaml"
    file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    try:
        load_scenario(file)
    except ScenarioError as err:
        assert err.problems
        for p in err.problems:
            assert p.file == str(file) and p.line >= 1 and p.column >= 1, str(p)
            assert "expected" in p.message, str(p)
        if kind == "rename" and new in _allowed_names(path):
            return  # renamed into another valid key: any verdict is fine
        if kind == "rename" and path[-1] in _allowed_names(path):
            # The new name is unknown, or (a policy's `name`, which picks the schema) the old one missing.
            unknown, missing = f"unknown key '{new}'", f"missing required key '{path[-1]}'"
            assert any(unknown in p.message or missing in p.message for p in err.problems), err
    else:
        if kind == "delete" and _required(path):
            pytest.fail(f"deleting required key {path} was accepted")


def _models_at(path: tuple[Any, ...]) -> list[type[BaseModel]]:
    """The schema models of which `path[-1]` would be a field (none when it is an id or index)."""
    kinds: list[Any] = [Scenario]
    for key in path[:-1]:
        kinds = [child for kind in kinds for child in _children(kind, key)]
    return [k for kind in kinds for k in _unwrap(kind) if isinstance(k, type) and issubclass(k, BaseModel)]


def _unwrap(kind: Any) -> list[Any]:
    while typing.get_origin(kind) is typing.Annotated:
        kind = typing.get_args(kind)[0]
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(kind) for m in _unwrap(arg)]
    return [kind]


def _children(kind: Any, key: Any) -> list[Any]:
    found = []
    for member in _unwrap(kind):
        origin = typing.get_origin(member)
        if origin is dict:
            found.append(typing.get_args(member)[1])
        elif origin is list:
            found.append(typing.get_args(member)[0])
        elif isinstance(member, type) and issubclass(member, BaseModel) and key in member.model_fields:
            found.append(member.model_fields[key].annotation)
    return found


def _allowed_names(path: tuple[Any, ...]) -> set[str]:
    return {name for m in _models_at(path) for name in m.model_fields}


def _required(path: tuple[Any, ...]) -> bool:
    owners = [m for m in _models_at(path) if path[-1] in m.model_fields]
    return bool(owners) and all(m.model_fields[path[-1]].is_required() for m in owners)
