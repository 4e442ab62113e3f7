"""Reading YAML safely, keeping the line and column of every key and value.

Aliases are refused (they let a small file expand without bound), and so are very deep
nesting, oversized files and duplicate keys: a scenario is data a person wrote, and none of
these has a place in it.
"""

from __future__ import annotations

import os
import stat
import unicodedata
from pathlib import Path
from typing import Any

import yaml

from .errors import Problem, ScenarioError

MAX_BYTES = 1_000_000
MAX_DEPTH = 40

Key = str | int
Location = tuple[str, int, int]
Locations = dict[tuple[Key, ...], Location]


class _RefusingLoader(yaml.SafeLoader):
    """A SafeLoader that refuses aliases and nesting deeper than MAX_DEPTH."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.MarkedYAMLError(
                problem=f"YAML aliases are not allowed (expected a plain value, got alias *{event.anchor})",
                problem_mark=event.start_mark,
            )
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise yaml.MarkedYAMLError(
                problem=f"nesting too deep (expected at most {MAX_DEPTH} levels, got more)",
                problem_mark=self.peek_event().start_mark,
            )
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def parse_yaml(text: str, file: str) -> tuple[Any, Locations]:
    """Parse one YAML document into plain data plus the location of every path in it."""
    try:
        loader = _RefusingLoader(text)  # the reader checks every character here, before parsing
    except yaml.reader.ReaderError as err:
        raise ScenarioError([_unreadable_character(text, file, err)]) from None
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise ScenarioError([Problem(file, line, col, "", _yaml_message(err))]) from None
    except yaml.YAMLError as err:
        raise ScenarioError([Problem(file, 1, 1, "", f"not valid YAML: {err}")]) from None
    finally:
        loader.dispose()
    if node is None:
        return None, {(): (file, 1, 1)}
    locations: Locations = {}
    problems: list[Problem] = []
    data = _construct(loader, node, (), file, locations, problems)
    if problems:
        raise UnsafeYaml(problems, data)
    return data, locations


class UnsafeYaml(ScenarioError):
    """Parsed YAML with values refused (duplicate keys, tags); `data` is what could be read,
    so a caller can tell a scenario with a mistake from a file that is no scenario at all."""

    def __init__(self, problems: list[Problem], data: Any):
        super().__init__(problems)
        self.data = data


def read_yaml(path: Path) -> tuple[Any, Locations]:
    """Read and parse a YAML file, refusing what no scenario file can be before reading it."""
    return parse_yaml(read_text(path), str(path))


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _refuse(file: str, message: str, line: int = 0) -> ScenarioError:
    """A whole-file problem: at line 1 when the file's content is at fault, unlocated when it has none."""
    return ScenarioError([Problem(file, line, line, "", message)])


def _check_regular(file: str, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise _refuse(file, f"not a regular file (expected a scenario file, got {_kind(info.st_mode)})")
    if info.st_size > MAX_BYTES:
        raise _refuse(file, f"file too large (expected at most {MAX_BYTES} bytes, got {info.st_size})", 1)


def read_text(path: Path) -> str:
    """The text of a scenario file: a regular file of at most MAX_BYTES bytes of UTF-8.

    Devices, FIFOs and directories are refused before they are opened (reading /dev/zero never
    ends, opening a FIFO waits for a writer); the file is opened without blocking and checked
    again, in case it was swapped in between; and no more than MAX_BYTES + 1 bytes are read,
    whatever size the file claims (files under /proc claim 0).
    """
    file = str(path)
    try:
        _check_regular(file, os.stat(path))
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise _refuse(file, f"cannot read file ({err.strerror or err})") from None
    except ValueError:  # os.stat refuses a path with a NUL character in it
        raise _refuse(file, "cannot read file (expected a path without NUL characters, got one with)") from None
    with os.fdopen(fd, "rb") as stream:
        _check_regular(file, os.fstat(stream.fileno()))
        try:
            data = stream.read(MAX_BYTES + 1)
        except OSError as err:
            raise _refuse(file, f"cannot read file ({err.strerror or err})") from None
    if len(data) > MAX_BYTES:
        raise _refuse(file, f"file too large (expected at most {MAX_BYTES} bytes, got more)", 1)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ScenarioError([Problem(file, 1, 1, "", f"not UTF-8 text ({err.reason})")]) from None


def _unreadable_character(text: str, file: str, err: yaml.reader.ReaderError) -> Problem:
    """A character YAML does not allow (NUL, BEL, other controls), located by line and column."""
    position = max(0, min(err.position, len(text)))
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    code = err.character if isinstance(err.character, int) else ord(str(err.character)[:1] or "\0")
    return Problem(file, line, column, "", f"unprintable character (expected printable text, got U+{code:04X})")


def _yaml_message(err: yaml.MarkedYAMLError) -> str:
    parts = [p for p in (err.context, err.problem) if p]
    message = "; ".join(parts) or "not valid YAML"
    return message if "expected" in message else f"not valid YAML: {message}"


_PLAIN_COLLECTIONS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


def _construct(
    loader: yaml.SafeLoader,
    node: yaml.Node,
    path: tuple[Key, ...],
    file: str,
    locations: Locations,
    problems: list[Problem],
) -> Any:
    locations.setdefault(path, (file, node.start_mark.line + 1, node.start_mark.column + 1))
    if not isinstance(node, yaml.ScalarNode) and node.tag not in _PLAIN_COLLECTIONS:
        where = (file, node.start_mark.line + 1, node.start_mark.column + 1)
        message = f"cannot read value (expected a plain mapping or list, got {node.tag})"
        problems.append(Problem(*where, dotted(path), message))
        return None
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _value(loader, key_node, path, file, problems)
            if not isinstance(key, str | int) or isinstance(key, bool):
                key = str(key)
            child = (*path, key)
            where = (file, key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in result:
                problems.append(
                    Problem(*where, dotted(child), "duplicate key (expected each key once, got it again)")
                )
                continue
            locations[child] = where
            result[key] = _construct(loader, value_node, child, file, locations, problems)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _construct(loader, item, (*path, i), file, locations, problems) for i, item in enumerate(node.value)
        ]
    return _value(loader, node, path, file, problems)


def _value(loader: yaml.SafeLoader, node: yaml.Node, path: tuple[Key, ...], file: str, problems: list[Problem]) -> Any:
    """A scalar (or a mapping key), or None with a problem when its tag cannot be built safely."""
    where = (file, node.start_mark.line + 1, node.start_mark.column + 1)
    try:
        value = loader.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as err:
        reason = getattr(err, "problem", None) or str(err)
        message = f"cannot read value (expected a plain YAML value, got {node.tag}: {reason})"
        problems.append(Problem(*where, dotted(path), message))
        return None
    hidden = _hidden_character(value) if isinstance(value, str) else None
    if hidden is not None:
        message = f"unprintable character (expected printable text, got U+{ord(hidden):04X})"
        problems.append(Problem(*where, dotted(path), message))
        return None
    return value


def _hidden_character(text: str) -> str | None:
    """The first control or text-direction character in a string, if any.

    The reader refuses raw control characters, but a double-quoted escape ("\\e", "\\x1b")
    builds them, and bidirectional overrides (U+202E) are printable to YAML: either would
    reach a terminal through `sim explain` or a report and could make a label read as
    something it is not. Tabs and line breaks are ordinary text.
    """
    for character in text:
        if character in _DIRECTION or (unicodedata.category(character) == "Cc" and character not in "\t\n"):
            return character
    return None


# the explicit bidirectional formatting characters (Unicode UAX #9); other format characters,
# such as the zero-width non-joiner that Persian spelling needs, are ordinary text
_DIRECTION = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def dotted(path: tuple[Key, ...]) -> str:
    """The dotted form of a path: actors.south_korea.policy.moves[2].action."""
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out
