"""Yes/no questions about a run, in one vocabulary for the record's events and a scenario's measures.

A question names a `kind` and the fields that kind needs: an actor `takes` an action (toward a
target, in at least `rounds` and at most `at_most` rounds), an activity is `in_force` for
`rounds` rounds (at most `at_most`) or on every round `through` a date, a `red_line` is crossed,
a `commitment` invoked (or ends with a `status`), an `agreement` agreed, the outcome is
`at_least` a class. Its horizon is a date or a number of rounds from the start; `takes`,
`in_force` and `outcome` may count only the rounds `since` a date or round (the window's start). Whether it
happened in each run is worked out from the results tables (sim/experiments/questions.py). An actor
asked about an action only the actors it sponsors may take acts through them: the question counts
their acts.
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
    "in_force": ("actor", "action"),
    "red_line": ("red_line",),
    "commitment": ("commitment",),
    "agreement": ("agreement",),
    "outcome": ("at_least",),
}
WINDOWED = ("rounds", "since", "at_most")
OPTIONAL_FIELDS: dict[str, tuple[str, ...]] = {"takes": ("target", *WINDOWED),
                                               "in_force": ("target", *WINDOWED, "through"),
                                               "commitment": ("status",), "outcome": ("since",)}
ALL_KIND_FIELDS = ("actor", "action", "target", "rounds", "since", "at_most", "through", "red_line", "commitment",
                   "status", "agreement", "at_least")
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
    rounds: RoundCount | None = None  # at least this many rounds (takes: default 1)
    since: dt.date | RoundCount | None = None  # the window's start: rounds before it do not count
    at_most: Annotated[int, Field(ge=0, le=600)] | None = None  # at most this many rounds in the window
    through: dt.date | RoundCount | None = None  # in_force: on every round of the window, through this date or round
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
        if self.kind == "in_force" and (self.rounds is None) == (self.through is None):
            raise ValueError(f"an 'in_force' {self._noun} needs rounds or through (expected one of them, got "
                             f"{'both' if self.rounds is not None else 'neither'})")
        if self.through is not None and (self.by is not None or self.at_most is not None):
            raise ValueError(f"through is the {self._noun}'s horizon and asks for every round (expected no "
                             f"{'by' if self.by is not None else 'at_most'} with it, got one)")
        if self.at_most is not None and self.rounds is not None and self.at_most < self.rounds:
            raise ValueError(f"expected at_most >= rounds, got at_most {self.at_most} < rounds {self.rounds}")
        return self

    _noun = "question"

    @property
    def horizon(self) -> dt.date | int | None:
        """The date or round by which it must happen; None: by the end of the run."""
        return self.through if self.through is not None else self.by


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


def window_rounds(q: Question, s: Scenario) -> tuple[int, int]:
    """The first and last rounds a question counts: from the round `since` falls in (default the
    first) through its horizon's round."""
    since = q.since
    first = 1 if since is None else since if isinstance(since, int) else round_of(since, s)
    return first, horizon_round(q, s)


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
        if q.at_least in classes[1:2] and s.outcomes.classes[classes[0]].easing and (last < s.rounds or q.since):
            yield (*at, "at_least"), (f"'{classes[1]}' is told from '{classes[0]}' only at the end of a run "
                                      f"(expected a horizon of {s.rounds} rounds and no window start, got round "
                                      f"{last}{'' if q.since is None else f' and since {q.since}'})")
        if q.status is not None and last < s.rounds:
            yield (*at, "status"), (f"a commitment's status is recorded at the end of a run only (expected a horizon "
                                    f"of {s.rounds} rounds, got {last})")
        field = "through" if q.through is not None else "by" if q.by is not None else "date"
        first = window_rounds(q, s)[0]
        if first < 1:
            yield (*at, "since"), f"window start before the scenario's start (expected {s.start} or later, got {q.since})"
        elif 1 <= last < first:
            yield (*at, "since"), (f"window start after the horizon (expected round {last} or earlier, got "
                                   f"{q.since}: round {first})")
        if last < 1:
            yield (*at, field), f"horizon before the scenario's start (expected {s.start} or later, got {q.horizon})"
        elif last > s.rounds:
            yield (*at, field), (f"horizon beyond the run (expected at most round {s.rounds}, the scenario's last, "
                                 f"got {q.horizon}: round {last})")


def actors_answering(q: Question, s: Scenario) -> list[str]:
    """The actors whose acts answer a question on `q.actor` taking `q.action`: the actor itself, or,
    for an action only the actors it sponsors may take, those actors (a sponsor acting through its
    proxies, as a red line named on the sponsor reads them)."""
    assert q.actor is not None and q.action is not None
    allowed = s.actions[q.action].allowed

    def may(actor: str) -> bool:
        return bool(allowed.get(actor)) if q.target is None else q.target in allowed.get(actor, [])

    if may(q.actor):
        return [q.actor]
    return [aid for aid, a in s.actors.items() if a.sponsor == q.actor and may(aid)]


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
    proxies = [aid for aid, a in s.actors.items() if a.sponsor == q.actor]
    targets = sorted({x for a in [q.actor, *proxies] for x in action.allowed.get(a, [])})
    if not targets:
        nor = ", nor may an actor it sponsors" if proxies else ""
        yield ("action",), (f"{q.actor} may not take {q.action} in this scenario{nor} "
                            f"(expected an action it is allowed, got '{q.action}')")
    elif not actors_answering(q, s):
        yield ("target",), f"{q.actor} may take {q.action} only toward {', '.join(targets)} (got '{q.target}')"
    if q.kind == "in_force" and action.kind != "activity":
        yield ("action",), f"not an activity (expected an action of kind activity, got '{q.action}', a move)"
    first, last = window_rounds(q, s)
    if q.rounds is not None and first <= last and q.rounds > last - first + 1:
        yield ("rounds",), f"more rounds than the window holds (expected at most {last - first + 1}, got {q.rounds})"
