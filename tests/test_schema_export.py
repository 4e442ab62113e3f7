"""`sim schema`: the JSON Schema editors use to complete and check scenario files.

It is derived from the typed scenario, so the checks here are that it accepts every file the
project ships, refuses what the loader refuses by shape (a misspelt key, a number out of range,
an unknown distribution), and that docs/scenarios.md documents every key it names.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from sim.cli import main
from sim.scenario.json_schema import scenario_file_schema

REPO = Path(__file__).resolve().parents[1]
SHIPPED = sorted((REPO / "scenarios").rglob("*.yaml")) + sorted((REPO / "tests" / "data").glob("*.yaml"))


def as_editor_sees(value: Any) -> Any:
    """YAML as a YAML 1.2 editor reads it: dates are strings."""
    if isinstance(value, dict):
        return {str(k): as_editor_sees(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_editor_sees(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = scenario_file_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def problems(validator, data: dict) -> list[str]:
    return sorted(f"{'.'.join(map(str, e.absolute_path))}: {e.validator}" for e in validator.iter_errors(data))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_scenario_file_fits_the_schema(validator, path: Path) -> None:
    assert problems(validator, as_editor_sees(yaml.safe_load(path.read_text(encoding="utf-8")))) == []


def test_a_misspelt_key_a_number_out_of_range_and_an_unknown_distribution_are_flagged(validator) -> None:
    data = {
        "extends": "baseline",
        "actors": {"south_korea": {"resolv": 0.9, "risk_tolerance": 1.5, "intelligence": {"gamma": [1, 2]}}},
    }
    assert problems(validator, data) == [
        "actors.south_korea.intelligence: anyOf",
        "actors.south_korea.risk_tolerance: anyOf",
        "actors.south_korea: additionalProperties",
    ]


def test_a_file_that_extends_another_may_set_one_value_deep_inside_a_block(validator) -> None:
    data = {"extends": "baseline", "red_lines": {"south_korea.precision_weapons": {"credibility": {"beta": [2, 2]}}}}
    assert problems(validator, data) == []


def schema_keys(node: Any) -> set[str]:
    keys: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("properties"), dict):
            keys |= set(node["properties"])
        for value in node.values():
            keys |= schema_keys(value)
    elif isinstance(node, list):
        for value in node:
            keys |= schema_keys(value)
    return keys


def test_docs_scenarios_md_documents_every_key_of_the_schema() -> None:
    """A key appears in docs/scenarios.md's prose or tables in backticks, not only in an example."""
    text = re.sub(r"```.*?```", "", (REPO / "docs" / "scenarios.md").read_text(encoding="utf-8"), flags=re.S)
    documented = {word for span in re.findall(r"`([^`]+)`", text) for word in re.findall(r"[a-z_][a-z0-9_]*", span)}
    assert sorted(schema_keys(scenario_file_schema()) - documented) == []


def test_sim_schema_prints_the_schema_as_json() -> None:
    with contextlib.redirect_stdout(io.StringIO()) as out:
        assert main(["schema"]) == 0
    printed = json.loads(out.getvalue())
    assert printed["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert printed == json.loads(json.dumps(scenario_file_schema()))
