"""What the app lets an analyst pick and change: worlds and their scenarios, every numeric value
of a scenario by its dotted path with the range the schema accepts and the sources it rests on
(as `sim explain` gives them), and injects added by hand. Changes become ordinary `--set`
overrides, so a run from the app is the same run as `sim run NAME --set PATH=VALUE ...`.
"""

from __future__ import annotations

import math
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, WithJsonSchema

from ..report.explain import explain_path
from ..scenario import Distribution, Scenario, scenario_names
from ..scenario.catalog import WORLD_FILES, find_scenario, scenario_dir
from ..scenario.dotpath import parse_path
from ..scenario.params import numbers, value_text
from ..scenario.yamlio import Key, read_yaml

ADDED_INJECT = "added_in_app"  # id prefix of injects added in the app: added_in_app_1, ...


def worlds() -> list[str]:
    """The world files, as references relative to scenarios/ (`korea-2024/world/korea-2024.yaml`)."""
    return sorted(p.relative_to(scenario_dir()).as_posix() for p in scenario_dir().glob(f"*/{WORLD_FILES}/*.yaml"))


def world_of(ref: str) -> str | None:
    """The world file a scenario's `extends` chain ends in (None for a file that is no world's)."""
    root = scenario_dir().resolve()
    path, seen = find_scenario(ref), set()
    while path.resolve() not in seen:
        seen.add(path.resolve())
        if path.resolve().parent.name == WORLD_FILES and path.resolve().parents[2] == root:
            return path.resolve().relative_to(root).as_posix()
        data, _ = read_yaml(path)
        parent = data.get("extends") if isinstance(data, dict) else None
        if not isinstance(parent, str):
            return None
        path = find_scenario(parent, relative_to=path)
    return None


def reference(name: str) -> str:
    """What `load_scenario` and `sim run` take for a catalog entry: the name of a named scenario,
    the full path of a world file (whatever the working directory)."""
    return str(scenario_dir() / name) if f"/{WORLD_FILES}/" in name else name


def catalog() -> dict[str, list[str]]:
    """Each world with the named scenarios built on it (`sim list`'s names), the world itself first."""
    named = {name: world_of(name) for name in scenario_names()}
    return {world: [world, *(n for n, w in named.items() if w == world)] for world in worlds()}


@dataclass(frozen=True)
class Parameter:
    """One numeric value of a scenario: its dotted path, its value (a number or a distribution),
    and the range the schema accepts there (infinite where the schema sets none)."""

    path: str
    value: float | Distribution
    low: float
    high: float

    @property
    def text(self) -> str:
        return value_text(self.value.as_yaml() if isinstance(self.value, Distribution) else self.value)

    @property
    def number(self) -> float:
        """The value a slider shows: the number, or a distribution's mean."""
        return float(self.value.mean if isinstance(self.value, Distribution) else self.value)

    @property
    def bounded(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high)


def parameters(scenario: Scenario) -> list[Parameter]:
    """Every numeric value of `scenario`, in the order of the file."""
    return [Parameter(path, value, *declared_range(scenario, path)) for path, value in numbers(scenario)]


def declared_range(scenario: Scenario, path: str) -> tuple[float, float]:
    """[low, high] of the schema's parameter type at `path` (the minimum and maximum its JSON
    Schema gives the number, as `sim schema` prints them); infinite where it sets none."""
    keys = parse_path(scenario.model_dump(mode="json"), path)
    # an entry of a per-actor mapping (an attribution per observer, a mediation per party) has
    # the range the mapping's one value would have
    for annotation in (_annotation(scenario, keys), _annotation(scenario, keys[:-1])):
        for meta in getattr(annotation, "__metadata__", ()):
            if isinstance(meta, WithJsonSchema) and meta.json_schema:
                number = next((s for s in meta.json_schema.get("anyOf", []) if s.get("type") == "number"), {})
                return float(number.get("minimum", -math.inf)), float(number.get("maximum", math.inf))
    return -math.inf, math.inf


def _annotation(scenario: Scenario, keys: tuple[Key, ...]) -> Any:
    """The type the schema declares for the value at `keys`."""
    node: Any = scenario
    annotation: Any = None
    for key in keys:
        if isinstance(node, BaseModel) and isinstance(key, str) and key in type(node).model_fields:
            field = type(node).model_fields[key]
            annotation = typing.Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
            node = getattr(node, key)
        else:  # an item of a dict or list: the declared type of its items
            args = [a for a in typing.get_args(_unwrap(annotation)) if a is not type(None)]
            annotation = args[-1] if args else None
            node = node[key] if isinstance(node, dict | list) else None
    return annotation


def _unwrap(annotation: Any) -> Any:
    """`Annotated[dict[K, V], ...]` -> `dict[K, V]`; `X | None` -> X (the container inside)."""
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, getattr(__import__("types"), "UnionType")) and len(args) == 1:
        return args[0]
    return annotation


def explanation(scenario: Scenario, path: str) -> str:
    """The value at `path` with its note and sources, as `sim explain SCENARIO PATH` prints it."""
    return explain_path(scenario, path)


def inject(number: int, round: int, actor: str, action: str, target: str, probability: float) -> tuple[str, dict]:
    """The override that adds an inject forcing `actor` to take `action` toward `target` at `round`."""
    return f"injects.{ADDED_INJECT}_{number}", {
        "round": round,
        "probability": probability,
        "force": {actor: {"action": action, "target": target}},
        "sources": ["judgement"],
        "note": "Added in sim app by the analyst.",
    }


def set_texts(overrides: dict[str, Any]) -> list[str]:
    """The overrides as `PATH=VALUE` texts with YAML values, as `--set` takes them."""
    import yaml

    def flow(value: Any) -> str:  # a scalar dumps as `1.0\n...\n`; a mapping as `{a: 1}\n`
        return yaml.safe_dump(value, default_flow_style=True, width=10_000).removesuffix("\n...\n").strip()

    return [f"{path}={flow(value)}" for path, value in overrides.items()]


def command(ref: str, runs: int, seed: int, texts: list[str]) -> str:
    """The `sim run` command that makes the same run."""
    return " ".join([f"sim run {ref} --runs {runs} --seed {seed}", *(f"--set '{text}'" for text in texts)])
