"""Loading a scenario: find it, follow `extends`, apply overrides, validate, check references.

Every problem found is reported at once, located at the file, line and column where the
offending value was written (in the scenario itself, a file it extends, or a --set).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .catalog import find_scenario, scenario_dir, scenario_names  # noqa: F401 (re-exported)
from .errors import Problem, ScenarioError, did_you_mean
from .merge import merge
from .params import Distribution, show
from .references import check_references, raw_source_refs
from .schema import Scenario
from .citations import source_ids
from .dotpath import PathError, parse_path
from .yamlio import Key, Location, Locations, dotted, parse_yaml, read_text

Overrides = Mapping[str, Any] | Sequence[str]
MAX_EXTENDS = 64


def load_scenario(ref: str | Path, overrides: Overrides | None = None) -> Scenario:
    """The resolved, validated scenario `ref` (a name or a file), with `overrides` applied.

    `overrides` maps dotted paths to values (`{"actors.south_korea.resolve": 0.8}`), or is a
    list of `PATH=VALUE` strings as given to `--set`; values are validated like the file's.
    """
    return load_located(ref, overrides)[0]


def load_located(ref: str | Path, overrides: Overrides | None = None) -> tuple[Scenario, Locations]:
    """`load_scenario`, with the file, line and column each value was written at."""
    file = find_scenario(ref)
    try:
        data, locations = _resolve(file, [])
        if overrides:
            _apply_overrides(data, locations, overrides)
        return validate(data, locations), locations
    except ScenarioError as err:
        raise _quoting_nothing_outside(err, file) from None


def _quoting_nothing_outside(err: ScenarioError, file: Path) -> ScenarioError:
    """`err` with nothing quoted from a file outside the scenario's tree (the directory of the file
    named, and the built-in scenarios): `extends: /somewhere/secrets.yaml` holding a scenario key
    must not print its values back. Its problems become one line at the first of them."""
    trees = [os.path.realpath(file.parent), os.path.realpath(scenario_dir())]

    def outside(name: str) -> bool:
        try:
            real = os.path.realpath(name)
        except (OSError, ValueError):  # a name no file can have (a NUL in it): the one the user gave
            return False
        if name.startswith(("--set", "<")):
            return False
        return not any(real == tree or real.startswith(tree + os.sep) for tree in trees)

    kept, hidden = [], {}
    for problem in err.problems:
        if outside(problem.file):
            hidden.setdefault(problem.file, []).append(problem)
        else:
            kept.append(problem)
    if not hidden:
        return err
    for name, problems in hidden.items():
        first = problems[0]
        kept.append(Problem(name, first.line, first.column, "",
                            f"{len(problems)} problem(s) in this file, not quoted: it is outside the scenario's "
                            f"directory ({file.parent}) (expected a scenario's keys and values)"))
    return ScenarioError(kept)


def validate(data: Any, locations: Locations) -> Scenario:
    """Validate resolved scenario data; raise ScenarioError with every problem found."""
    if not isinstance(data, dict):
        file, line, col = locations.get((), ("<scenario>", 1, 1))
        raise ScenarioError([Problem(file, line, col, "", f"expected a mapping of keys, got {type(data).__name__}")])
    citable = source_ids(data)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as err:
        findings = list(raw_source_refs(data, citable))
        problems = [_locate(path, message, locations) for path, message in findings]
        raise ScenarioError(_problems_from_pydantic(err, data, locations) + problems) from None
    findings = [*check_references(scenario, citable), *_calendar_findings(scenario)]
    if findings:
        raise ScenarioError(_locate(path, message, locations) for path, message in findings)
    return scenario


def _calendar_findings(scenario: Scenario) -> list[tuple[tuple[Key, ...], str]]:
    """The rounds must end on a date the calendar has (by 9999-12-31)."""
    steps = scenario.rounds * scenario.round.length
    start = scenario.start
    if scenario.round.unit == "month":
        fits = start.year + (start.month - 1 + steps) // 12 <= dt.MAXYEAR
    else:
        fits = (dt.date.max - start).days >= steps * (7 if scenario.round.unit == "week" else 1)
    if fits:
        return []
    unit = scenario.round.unit + ("s" if scenario.round.length != 1 else "")
    return [(("start",), f"{scenario.rounds} rounds of {scenario.round.length} {unit} from {start} run past "
                         f"{dt.date.max} (expected a start and a number of rounds that end by then)")]


def _resolve(path: Path, chain: list[Path], where: Location | None = None) -> tuple[dict, Locations]:
    """The data of `path` with every file it extends merged under it; `where` is the `extends`
    that named it (None for the file the user named), `chain` the files already on the way."""
    if len(chain) >= MAX_EXTENDS and where is not None:
        raise ScenarioError([Problem(*where, "extends", f"too many files extending one another (expected a chain "
                                                        f"of at most {MAX_EXTENDS} files, got more)")])
    data, locations = _read_scenario(path, where)
    resolved = path.resolve()  # after reading, which refuses a symlink loop with a clear message
    if where is not None and resolved in chain:
        cycle = " -> ".join(p.name for p in [*chain, resolved])
        raise ScenarioError([Problem(*where, "extends", f"extends cycle (expected a chain, got {cycle})")])
    parent = data.pop("extends", None)
    if parent is None:
        return data, locations
    here = locations[("extends",)]
    if not isinstance(parent, str):
        raise ScenarioError([Problem(*here, "extends", f"expected a scenario name or path, got {parent!r}")])
    try:
        parent_path = find_scenario(parent, relative_to=path)
    except ScenarioError as err:
        raise ScenarioError([Problem(*here, "extends", err.problems[0].message)]) from None
    if not os.path.lexists(parent_path):
        raise ScenarioError(
            [Problem(*here, "extends", f"no such file (expected an existing scenario file, got {parent_path})")]
        )
    base, base_locations = _resolve(parent_path, [*chain, resolved], here)
    merge(base, base_locations, data, locations, _replaces)
    return base, base_locations


SCENARIO_KEYS = frozenset({*Scenario.model_fields, "extends"})
OWN_SOURCES = ("references", "claims")
OPTIONAL_SECTIONS = (*OWN_SOURCES, "levers")  # left out of a dump when empty


def _read_scenario(path: Path, where: Location | None) -> tuple[dict, Locations]:
    """A file's data, which must be a mapping with at least one scenario key.

    A file reached through `extends` (at `where`) that is not a scenario at all is reported in
    one line at that `extends`, quoting nothing from it: `extends: /etc/shadow` must not print
    the lines of /etc/shadow back as unknown keys.
    """
    file = str(path)
    try:
        text = read_text(path)
    except ScenarioError as err:
        if where is None:
            raise
        raise ScenarioError([Problem(*where, "extends", f"{file}: {err.problems[0].message}")]) from None
    try:
        data, locations = parse_yaml(text, file)
    except ScenarioError as err:
        if where is None or _looks_like_a_scenario(getattr(err, "data", None)):
            raise  # a scenario with a duplicate key or a tag is reported in full, in its own file
        first = err.problems[0]
        raise _not_a_scenario(file, where, f"invalid YAML at line {first.line}, column {first.column}") from None
    if not isinstance(data, dict):
        raise _not_a_scenario(file, where, _kind_of(data))
    if not _looks_like_a_scenario(data):
        raise _not_a_scenario(file, where, "a mapping with none of them")
    return data, locations


def _looks_like_a_scenario(data: Any) -> bool:
    return isinstance(data, dict) and not SCENARIO_KEYS.isdisjoint(data)


def _not_a_scenario(file: str, where: Location | None, found: str) -> ScenarioError:
    """One line, at the `extends` that named the file (or at the top of a file named directly)."""
    message = f"not a scenario (expected a YAML mapping of scenario keys such as name, actors, extends, got {found})"
    if where is None:
        return ScenarioError([Problem(file, 1, 1, "", message)])
    return ScenarioError([Problem(*where, "extends", f"{file}: {message}")])


def _kind_of(data: Any) -> str:
    if data is None:
        return "an empty file"
    if isinstance(data, list):
        return "a list"
    if isinstance(data, str):
        return "text"
    return "a single value"


def parse_assignment(text: str) -> tuple[str, Any]:
    """`actors.south_korea.resolve=0.8` -> ('actors.south_korea.resolve', 0.8); values are YAML."""
    path, sep, value = text.partition("=")
    if not sep or not path.strip():
        raise ScenarioError([Problem("--set", 0, 0, text, "expected PATH=VALUE, got no '='")])
    parsed, _ = parse_yaml(value, "--set")
    return path.strip(), parsed


def _apply_overrides(data: dict, locations: Locations, overrides: Overrides) -> None:
    if isinstance(overrides, Mapping):
        pairs = list(overrides.items())
    else:
        pairs = [_numbered_assignment(o, i) for i, o in enumerate(overrides, start=1)]
    for i, (dotted_path, value) in enumerate(pairs, start=1):
        try:
            path = set_at(data, dotted_path, value)
        except PathError as err:
            raise ScenarioError([Problem("--set", i, 1, dotted_path.strip(), str(err))]) from None
        _forget_below(locations, path)
        locations[path] = ("--set", i, 1)


def set_at(data: dict, dotted_path: str, value: Any) -> tuple[Key, ...]:
    """Put `value` at `dotted_path` in `data`, creating missing mappings on the way; the keys used.

    List items are reached as `[i]` and must exist: `--set` replaces an item, it never appends.
    """
    keys = parse_path(data, dotted_path, create=True)  # checked: every index exists, no key inside a value
    node: Any = data
    for key in keys[:-1]:
        if isinstance(key, str) and node.get(key) is None:
            node[key] = {}
        node = node[key]
    node[keys[-1]] = value
    return keys


def _forget_below(locations: Locations, path: tuple[Key, ...]) -> None:
    """Drop the locations at and under `path`: the value written there replaces all of it."""
    for stale in [p for p in locations if p[: len(path)] == path]:
        del locations[stale]


def _numbered_assignment(text: str, i: int) -> tuple[str, Any]:
    """parse_assignment for the i-th --set, its problems located at --set:i:COLUMN."""
    try:
        return parse_assignment(text)
    except ScenarioError as err:
        path, sep, _ = text.partition("=")
        raise ScenarioError(
            Problem("--set", i, len(path) + 1 + p.column if sep else 1, p.path or path.strip(), p.message)
            for p in err.problems
        ) from None


def _locate(path: tuple[Key, ...], message: str, locations: Locations) -> Problem:
    for n in range(len(path), -1, -1):
        if path[:n] in locations:
            return Problem(*locations[path[:n]], dotted(path), message)
    return Problem("<scenario>", 0, 0, dotted(path), message)


def _data_path(loc: tuple[Any, ...], data: Any) -> tuple[Key, ...]:
    """Pydantic's error location as a path into the data, minus the union tags it inserts."""
    path: list[Key] = []
    node = data
    for i, element in enumerate(loc):
        if element == "[key]":
            continue
        inside_dict = isinstance(node, dict) and element in node
        inside_list = isinstance(node, list) and isinstance(element, int) and 0 <= element < len(node)
        if inside_dict or inside_list:
            path.append(element)
            node = node[element]
        elif i == len(loc) - 1:
            path.append(element)
    return tuple(path)


def _problems_from_pydantic(err: ValidationError, data: Any, locations: Locations,
                            root: type[BaseModel] = Scenario) -> list[Problem]:
    problems = []
    for e in err.errors():
        path = _data_path(e["loc"], data)
        problems.append(_locate(path, _message(e, path, root), locations))
    return problems


def problems_from_pydantic(err: ValidationError, data: Any, locations: Locations,
                           root: type[BaseModel]) -> list[Problem]:
    """Pydantic's complaints about `data` validated as `root` (any schema built like the
    scenario's), each located where it was written and worded like the loader's own."""
    return _problems_from_pydantic(err, data, locations, root)


_SHOULD = re.compile(r"^(?:Input|String|List|Dictionary|Value|Tuple) should (?:be |have )?(.*)$")


def _message(e: Mapping[str, Any], path: tuple[Key, ...], root: type[BaseModel] = Scenario) -> str:
    kind, msg, ctx = e["type"], e["msg"], e.get("ctx") or {}
    if kind == "missing":
        return f"missing required key '{path[-1] if path else ''}' (expected a value, got nothing)"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(tuple(e["loc"][:-1]), root)
        return f"unknown key '{path[-1]}' (expected one of: {', '.join(allowed)}){did_you_mean(str(path[-1]), allowed)}"
    if kind == "union_tag_invalid":
        tags = re.findall(r"'([^']+)'", str(ctx.get("expected_tags", "")))
        return f"unknown policy (expected one of: {', '.join(tags)}, got '{ctx.get('tag')}'){did_you_mean(str(ctx.get('tag')), tags)}"
    if kind == "union_tag_not_found":
        tag = str(ctx.get("discriminator", "name")).strip("'")
        return f"missing required key '{tag}' (expected a policy name, got nothing)"
    if kind == "literal_error":
        options = re.findall(r"'([^']+)'", str(ctx.get("expected", "")))
        return f"expected {ctx.get('expected')}, got {show(e['input'])}{did_you_mean(str(e['input']), options)}"
    if kind == "string_pattern_mismatch" and str(ctx.get("pattern", "")).startswith("^(https?"):
        return f"expected a URL starting with http:// or https://, got {show(e['input'])}"
    if kind == "string_pattern_mismatch":
        return f"expected an id of lowercase letters, digits, '_', '.' or '-', got {show(e['input'])}"
    if msg.startswith("Value error, "):
        return msg.removeprefix("Value error, ")
    match = _SHOULD.match(msg)
    if match:
        return f"expected {match.group(1).split(', got ')[0]}, got {show(e['input'])}"
    return f"{msg[:1].lower()}{msg[1:]} (expected a valid value, got {show(e['input'])})"


def _allowed_keys(path: tuple[Key, ...], root: type[BaseModel] = Scenario) -> list[str]:
    """The keys a scenario (or another `root` schema) accepts at `path`, found by walking the schema's type hints."""
    kind: Any = root
    for key in path:
        kind = _child_type(kind, key)
    models = [m for m in _members(kind) if isinstance(m, type) and issubclass(m, BaseModel)]
    return sorted({field.alias or name for m in models for name, field in m.model_fields.items()})


def _members(kind: Any) -> list[Any]:
    while typing.get_origin(kind) is typing.Annotated:
        kind = typing.get_args(kind)[0]
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(kind) for m in _members(arg)]
    return [kind]


def _child_type(kind: Any, key: Key) -> Any:
    """The type at `key` below `kind`; a union's tag (as in pydantic's error locations) selects its member."""
    for member in _members(kind):
        origin = typing.get_origin(member)
        if origin is dict:
            return typing.get_args(member)[1]
        if origin is list:
            return typing.get_args(member)[0]
        if isinstance(member, type) and issubclass(member, BaseModel) and key in member.model_fields:
            return member.model_fields[key].annotation
        if _tag(member) == (key,):
            return member
    return None


def _tag(member: Any) -> tuple[Any, ...]:
    """The literal `name` values that select a member of a tagged union, e.g. ('scripted',)."""
    if isinstance(member, type) and issubclass(member, BaseModel) and "name" in member.model_fields:
        return typing.get_args(member.model_fields["name"].annotation)
    return ()


def _replaces(path: tuple[Key, ...], old: dict, new: dict) -> bool:
    """Whether mapping `new` replaces `old` at `path` rather than merging into it: a parameter
    (a distribution), or a tagged union whose `new` member differs from `old`'s."""
    kind: Any = Scenario
    for key in path:
        kind = _child_type(kind, key)
    if Distribution in _members(kind):
        return True
    members = [m for m in _members(kind) if _tag(m)]
    if len(members) < 2 or "name" not in new:
        return False
    defaults = [m.model_fields["name"].default for m in members if not m.model_fields["name"].is_required()]
    return new["name"] != old.get("name", defaults[0] if defaults else None)


def dump_scenario(scenario: Scenario) -> str:
    """The resolved scenario as YAML that loads back to the same scenario."""
    data = scenario.model_dump(mode="json")
    # The root keeps name first; empty sections of a scenario's own sources and levers are left
    # out, so scenarios that declare none print (and hash) as they always have.
    ordered = {key: _provenance_last(value) for key, value in data.items() if value or key not in OPTIONAL_SECTIONS}
    return yaml.safe_dump(ordered, sort_keys=False, width=100, allow_unicode=True)


# Optional keys added after scenarios were first dumped: left out when unset, so that a scenario
# using none of them dumps (and hashes, as calibration plans record) as it did before them.
LATER_KEYS = ("when", "signed", "from", "for")


def _provenance_last(node: Any) -> Any:
    """Each block's own keys first, then its `sources` and `note`, as people write them."""
    if isinstance(node, dict):
        node = {k: v for k, v in node.items() if not (k in LATER_KEYS and v is None)}
        keys = [k for k in node if k not in ("sources", "note")] + [k for k in ("sources", "note") if k in node]
        return {k: _provenance_last(node[k]) for k in keys}
    if isinstance(node, list):
        return [_provenance_last(v) for v in node]
    return node


def with_overrides(scenario: Scenario, overrides: Overrides) -> Scenario:
    """A copy of an already loaded scenario with dotted-path overrides applied and validated."""
    data = scenario.model_dump(mode="json")
    locations: Locations = {(): ("<scenario>", 1, 1)}
    _apply_overrides(data, locations, overrides)
    return validate(data, locations)


def locate(path: tuple[Key, ...], message: str, locations: Locations) -> Problem:
    """A problem at `path`, placed where the nearest written part of that path is."""
    return _locate(path, message, locations)
