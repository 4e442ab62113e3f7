"""Yes/no questions about a run, in one vocabulary for the record's events and a scenario's measures.

A question names a `kind` and the fields that kind needs: an actor `takes` an action (toward a
target, in at least `rounds` rounds), an activity is `in_force` for `rounds` rounds, a
`red_line` is crossed, a `commitment` invoked (or ends with a `status`), an `agreement` agreed, the outcome is
`at_least` a class. Its horizon is a date or a number of rounds from the start. Whether it
happened in each run is worked out from the results tables (sim/experiments/questions.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .calendar import round_of

if TYPE_CHECKING:
    from .schema import Scenario

QuestionId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.-]*$", max_length=64)]
RoundCount = Annotated[int, Field(ge=1, le=600)]
Kind = Literal["takes", "in_force", "red_line", "commitment", "agreement", "outcome"]

# The fields each kind needs; any other kind field is a mistake.
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "takes": ("actor", "action"),
    "in_force": ("actor", "action", "rounds"),
    "red_line": ("red_line",),
    "commitment": ("commitment",),
    "agreement": ("agreement",),
    "outcome": ("at_least",),
}
OPTIONAL_FIELDS: dict[str, tuple[str, ...]] = {"takes": ("target", "rounds"), "in_force": ("target",),
                                               "commitment": ("status",)}
ALL_KIND_FIELDS = ("actor", "action", "target", "rounds", "red_line", "commitment", "status", "agreement", "at_least")
CommitmentStatus = Literal["active", "invoked", "lapsed", "nullified"]

Finding = tuple[tuple[str | int, ...], str]


class Question(BaseModel):
    """What is asked, its kind and the kind's fields, and `by`: its horizon (a date or rounds)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)

    question: Annotated[str, Field(min_length=1)]
    kind: Kind
    actor: QuestionId | None = None
    action: QuestionId | None = None
    target: QuestionId | None = None
    rounds: RoundCount | None = None
    red_line: QuestionId | None = None
    commitment: QuestionId | None = None
    status: CommitmentStatus | None = None  # a commitment's status at the end of the run (default: invoked by then)
    agreement: QuestionId | None = None
    at_least: QuestionId | None = None
    by: dt.date | RoundCount | None = None

    @model_validator(mode="after")
    def _fields_of_kind(self) -> Question:
        return self._kind_fields_checked()

    def _kind_fields_checked(self) -> Question:
        needed = KIND_FIELDS[self.kind]
        missing = [f for f in needed if getattr(self, f) is None]
        if missing:
            raise ValueError(f"a '{self.kind}' {self._noun} needs {', '.join(needed)} "
                             f"(expected a value for {', '.join(missing)}, got none)")
        allowed = set(needed) | set(OPTIONAL_FIELDS.get(self.kind, ()))
        extra = [f for f in ALL_KIND_FIELDS if f not in allowed and getattr(self, f) is not None]
        if extra:
            raise ValueError(f"a '{self.kind}' {self._noun} takes only {', '.join(sorted(allowed))} "
                             f"(expected none of {', '.join(extra)}, got {', '.join(extra)})")
        return self

    _noun = "question"

    @property
    def horizon(self) -> dt.date | int | None:
        """The date or round by which it must happen; None: by the end of the run."""
        return self.by


class Measure(Question):
    """A question a scenario asks of every run: `runs.parquet` gets a boolean `measure.<id>`."""

    _noun = "measure"
    note: str = ""


def horizon_round(q: Question, s: Scenario) -> int:
    """The last round a question may be answered yes in to count."""
    horizon = q.horizon
    if horizon is None:
        return s.rounds
    return horizon if isinstance(horizon, int) else round_of(horizon, s)


def _unknown(what: str, found: str, choices: list[str]) -> str:
    from .errors import did_you_mean

    return f"unknown {what} (expected one of: {', '.join(choices)}, got '{found}'){did_you_mean(found, choices)}"


def question_problems(questions: Mapping[str, Question], s: Scenario) -> Iterator[Finding]:
    """Every actor, action, red line, commitment, agreement and class a question names exists
    in `s`, the actor may take the action (toward the target), and each horizon lies within the
    run: (path below the question's id, message)."""
    for qid, q in questions.items():
        at = (qid,)
        for name, section in (("red_line", s.red_lines), ("commitment", s.commitments),
                              ("agreement", s.agreements), ("at_least", s.outcomes.classes)):
            value = getattr(q, name)
            if value is not None and value not in section:
                yield (*at, name), _unknown(name.replace("_", " ") if name != "at_least" else "outcome class",
                                            value, list(section))
        yield from (((*at, *path), message) for path, message in _option_problems(q, s))
        last = horizon_round(q, s)
        classes = list(s.outcomes.classes)
        if q.at_least in classes[1:2] and s.outcomes.classes[classes[0]].easing and last < s.rounds:
            yield (*at, "at_least"), (f"'{classes[1]}' is told from '{classes[0]}' only at the end of a run "
                                      f"(expected a horizon of {s.rounds} rounds, got {last})")
        if q.status is not None and last < s.rounds:
            yield (*at, "status"), (f"a commitment's status is recorded at the end of a run only (expected a horizon "
                                    f"of {s.rounds} rounds, got {last})")
        field = "by" if q.by is not None else "date"
        if last < 1:
            yield (*at, field), f"horizon before the scenario's start (expected {s.start} or later, got {q.horizon})"
        elif last > s.rounds:
            yield (*at, field), (f"horizon beyond the run (expected at most round {s.rounds}, the scenario's last, "
                                 f"got {q.horizon}: round {last})")


def _option_problems(q: Question, s: Scenario) -> Iterator[Finding]:
    if q.actor is None or q.action is None:
        return
    if q.actor not in s.actors:
        yield ("actor",), _unknown("actor", q.actor, list(s.actors))
        return
    if q.action not in s.actions:
        yield ("action",), _unknown("action", q.action, list(s.actions))
        return
    action = s.actions[q.action]
    targets = action.allowed.get(q.actor, [])
    if not targets:
        yield ("action",), (f"{q.actor} may not take {q.action} in this scenario "
                            f"(expected an action it is allowed, got '{q.action}')")
    elif q.target is not None and q.target not in targets:
        yield ("target",), f"{q.actor} may take {q.action} only toward {', '.join(targets)} (got '{q.target}')"
    if q.kind == "in_force" and action.kind != "activity":
        yield ("action",), f"not an activity (expected an action of kind activity, got '{q.action}', a move)"
    if q.rounds is not None and q.rounds > horizon_round(q, s):
        yield ("rounds",), f"more rounds than the horizon holds (expected at most {horizon_round(q, s)}, got {q.rounds})"
