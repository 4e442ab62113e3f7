"""`sim schema`: the JSON Schema of scenario files, for editors that complete and check YAML."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def add_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    command("schema", _schema, "the JSON Schema of scenario files (for editors), printed as JSON")


def _schema(args: argparse.Namespace) -> int:
    import json

    from ..scenario.json_schema import scenario_file_schema

    print(json.dumps(scenario_file_schema(), indent=1))
    return 0
