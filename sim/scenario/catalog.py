"""The named scenarios: where they are, finding one by name or path, and their descriptions.

Light on purpose (the standard library, and PyYAML when a description is read; no pydantic or
numpy): `sim list` and the command line's start-up use it without paying for the schema
(docs/design.md, "Performance", start-up).
"""

from __future__ import annotations

from pathlib import Path

from .errors import Problem, ScenarioError, did_you_mean
from .paths import data_dir


WORLD_FILES = "world"  # each world folder's subfolder of world files (not named scenarios)


def scenario_dir() -> Path:
    return data_dir("scenarios")


def world_folders() -> dict[str, list[Path]]:
    """Each world's folder name (`korea-2024`) with its named scenarios: the YAML files at the top
    of scenarios/WORLD/; the world files themselves sit in scenarios/WORLD/world/."""
    return {
        folder.name: sorted(folder.glob("*.yaml"))
        for folder in sorted(scenario_dir().iterdir())
        if folder.is_dir() and not folder.name.startswith(".")
    }


def world_files(world: str) -> list[Path]:
    """The world files of world folder `world`: what its named scenarios extend."""
    return sorted((scenario_dir() / world / WORLD_FILES).glob("*.yaml"))


def scenario_paths() -> dict[str, Path]:
    """Every named scenario's file, by name; a name written in two worlds is an error, since
    `sim run NAME` could not tell which one is meant."""
    paths: dict[str, Path] = {}
    for files in world_folders().values():
        for path in files:
            if path.stem in paths:
                raise ScenarioError(
                    [Problem(str(path), 0, 0, "", f"a named scenario '{path.stem}' exists twice "
                             f"(expected one name per scenario, got {paths[path.stem]} as well)")]
                )
            paths[path.stem] = path
    return paths


def scenario_names() -> list[str]:
    """The named scenarios of every world."""
    return sorted(scenario_paths())


def find_scenario(ref: str | Path, relative_to: Path | None = None) -> Path:
    """A scenario file from a name (`baseline`) or a path (absolute, or relative to a file)."""
    text = str(ref)
    if isinstance(ref, Path) or text.endswith((".yaml", ".yml")) or "/" in text:
        path = Path(text)
        if relative_to is not None and not path.is_absolute():
            path = relative_to.parent / path
        return path
    path = scenario_paths().get(text)
    if path is None:
        raise ScenarioError(
            [
                Problem(
                    text,
                    0,
                    0,
                    "",
                    f"no such scenario (expected a name from 'sim list' or a .yaml file, got '{text}')"
                    f"{did_you_mean(text, scenario_names())}",
                )
            ]
        )
    return path


def read_description(ref: str | Path) -> str | None:
    """The scenario's `description` as the file (or the nearest file it extends) writes it,
    without validating the scenario; None when it cannot be read that way (a broken file, no
    description anywhere on the chain, an `extends` cycle), so the caller can fall back to a
    full load, which reports what is wrong.

    The full load merges `extends` chains child over parent, so the first description found
    walking from the scenario towards the world file is the one a loaded scenario carries.
    """
    from .yamlio import read_yaml

    seen: set[Path] = set()
    try:
        path = find_scenario(ref)
        while path.resolve() not in seen:
            seen.add(path.resolve())
            data, _ = read_yaml(path)
            if not isinstance(data, dict):
                return None
            description = data.get("description")
            if description is not None:
                return description if isinstance(description, str) and description else None
            parent = data.get("extends")
            if not isinstance(parent, str):
                return None
            path = find_scenario(parent, relative_to=path)
    except (ScenarioError, OSError):
        return None
    return None
