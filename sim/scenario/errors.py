"""Scenario problems: where they are and what is wrong, collected rather than raised one by one."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from collections.abc import Iterable


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario, located as precisely as the source allows."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        text = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        return printable(text)


def printable(text: str) -> str:
    """`text` on one line: control characters (a newline in a file name, a NUL) escaped as \\xNN."""
    return "".join(c if c.isprintable() else _escape(ord(c)) for c in text)


def _escape(code: int) -> str:
    return f"\\x{code:02x}" if code < 256 else f"\\u{code:04x}"


class ScenarioError(Exception):
    """Raised with every problem found in one load, so users fix them all in one pass."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted(set(problems), key=lambda p: (p.file, p.line, p.column, p.path, p.message))
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self) -> tuple:
        # Rebuilt from its problems, not its message: an error raised in a worker process reaches
        # the parent whole (unpickling it from the message alone broke the process pool).
        return (ScenarioError, (self.problems,))


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ' (did you mean X?)' suffix when a close match exists, else ''."""
    matches = difflib.get_close_matches(str(word), sorted(set(choices)), n=1, cutoff=0.6)
    return f" (did you mean '{matches[0]}'?)" if matches else ""
