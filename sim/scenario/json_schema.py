"""The JSON Schema of scenario files, for editors that complete and check YAML (`sim schema`).

It is derived from the typed scenario (schema.py), so it cannot drift from what the loader
accepts. A file may extend another and change one value deep inside a block, so nothing is
required in a file: the schema checks key names (misspellings), types and ranges, and leaves
completeness and cross-references to `sim validate`.
"""

from __future__ import annotations

from typing import Any

from .schema import Scenario

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def scenario_file_schema() -> dict[str, Any]:
    """The schema one scenario file's YAML must fit, whether it is a world or extends one."""
    schema = _without_required(Scenario.model_json_schema())
    schema["properties"]["extends"] = {
        "type": "string",
        "description": "A named scenario (`baseline`) or a path relative to this file whose values this file overrides.",
    }
    return {
        "$schema": DIALECT,
        "title": "Escalation scenario file",
        **{key: value for key, value in schema.items() if key != "title"},
    }


def _without_required(node: Any) -> Any:
    """The schema with the typed blocks' `required` lists dropped (a distribution keeps its own)."""
    if isinstance(node, dict):
        block = "title" in node and "properties" in node
        return {key: _without_required(value) for key, value in node.items() if not (block and key == "required")}
    if isinstance(node, list):
        return [_without_required(item) for item in node]
    return node
