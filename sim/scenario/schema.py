"""The typed scenario: what a resolved scenario file must contain.

Field names are the YAML keys. Ids (actors, actions, red lines, ...) are mapping keys, so a
scenario that extends another overrides an entry by naming it. Cross-references between
sections are checked in `references.py`; this module checks shape, types and ranges.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator, WithJsonSchema, model_validator

from .citations import DeclaredClaim, DeclaredReference
from .params import Distribution, Unit, is_distribution, param, parameter_json_schema, parameter_value, parameter_yaml
from .questions import Measure

Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.-]*$", max_length=64)]
Sources = Annotated[list[str], Field(min_length=1)]
Round = Annotated[int, Field(ge=1, le=600)]
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_.-]*$")


def per_actor(low: float, high: float, keys: str) -> Any:
    """A parameter in [low, high] given once for all, or as a mapping of actor id (`keys`: who they
    are, for the error) to its value; an actor the mapping leaves out has 0."""

    def validate(value: Any) -> float | Distribution | dict[str, float | Distribution]:
        if not isinstance(value, dict) or is_distribution(value):
            return parameter_value(value, low, high)
        out = {}
        for key, item in value.items():
            if not isinstance(key, str) or not ID_PATTERN.match(key):
                raise ValueError(f"expected {keys} as a key, got {key!r}")
            try:
                out[key] = parameter_value(item, low, high)
            except ValueError as err:
                raise ValueError(f"{key}: {err}") from None
        return out

    def dump(value: Any) -> Any:
        return {k: parameter_yaml(v) for k, v in value.items()} if isinstance(value, dict) else parameter_yaml(value)

    one = parameter_json_schema(low, high)
    return Annotated[
        float | Distribution | dict[str, float | Distribution],
        PlainValidator(validate),
        PlainSerializer(dump),
        WithJsonSchema({"anyOf": [*one["anyOf"], {"type": "object", "additionalProperties": one}]}),
    ]


# The chance an observer blames a non-state actor's sponsor for what the actor does: one number
# for every observer, or per observer (observers left out of the mapping never blame it).
Attribution = per_actor(0.0, 1.0, "an observer's actor id")
TimeUnit = Literal["day", "week", "month"]

CATEGORIES = (
    "de_escalation",
    "status_quo",
    "posturing",
    "non_violent_escalation",
    "violent_escalation",
    "nuclear",
)
Category = Literal[
    "de_escalation", "status_quo", "posturing", "non_violent_escalation", "violent_escalation", "nuclear"
]
Status = Literal["active", "invoked", "lapsed", "nullified"]


class Block(BaseModel):
    """A scenario section: unknown keys are errors, and values never change after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class Sourced(Block):
    """A section whose numbers rest on claims from the digest or named references."""

    sources: Sources
    note: str = ""


class Move(Block):
    action: Id
    target: Id


class Response(Move):
    """A declared or obliged reaction, carried out `lag` rounds after the decision (0: the same round)."""

    lag: param(0.0, 120.0) = 0.0


class UtilityPolicy(Block):
    """Softmax over allowed moves of the utility model (docs/design.md, "The model", step 4)."""

    name: Literal["utility"] = "utility"
    temperature: param(0.01, 100.0) = 1.0


class ScriptedPolicy(Block):
    """Plays `moves` in order, one per round, then repeats the last one."""

    name: Literal["scripted"]
    moves: Annotated[list[Move], Field(min_length=1)]


class TitForTatPolicy(Block):
    """Opens with `opening`, then answers `opponent`'s perceived last move toward it in kind."""

    name: Literal["tit_for_tat"]
    opponent: Id
    opening: Move


Policy = Annotated[UtilityPolicy | ScriptedPolicy | TitForTatPolicy, Field(discriminator="name")]


class Actor(Sourced):
    label: str
    resolve: Unit
    risk_tolerance: Unit
    audience_cost_weight: Unit
    intelligence: Unit
    hostility: dict[Id, Unit] = {}
    preferences: dict[Id, param(-10.0, 10.0)] = {}
    preferences_toward: dict[Id, dict[Id, param(-10.0, 10.0)]] = {}
    reciprocity: param(0.0, 10.0) = 1.0
    policy: Policy = UtilityPolicy()
    activities: list[Move] = []
    persistence: Unit = 0.9
    moves_per_round: Annotated[int, Field(ge=0, le=10)] | None = None
    routine: list[Move] = []  # moves it took as a matter of course before the start: part of the status quo
    sponsor: Id | None = None
    attribution: Attribution = 0.0


class Requires(Block):
    """Conditions on the world's state, checked per replicate, under which an actor may choose an
    action: at war with the target's side, its own territory attacked, only in reply to an act at
    least as high, each listed state variable at or above its level."""

    at_war: bool = False
    attacked: bool = False
    in_reply: bool = False
    state_above: dict[Id, Unit] = {}


class Action(Sourced):
    label: str
    rung: Annotated[int, Field(ge=0, le=100)]
    category: Category
    mid_level: Annotated[int, Field(ge=1, le=5)]
    goldstein: Annotated[float, Field(ge=-10, le=10, allow_inf_nan=False)]
    public: bool = True
    detection: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 1.0
    kind: Literal["move", "activity"] = "move"
    allowed: dict[Id, list[Id]]
    against: dict[Id, Id] = {}
    points: Annotated[float, Field(ge=-100, le=100, allow_inf_nan=False)] | None = None  # else the category's
    reach: Annotated[int, Field(ge=0, le=100)] | None = None  # else dynamics.reach.rungs
    taboo: param(0.0, 50.0) = 0.0  # a cost of its own in utility, beyond escalation aversion
    requires: dict[Id, Requires] = {}  # per actor allowed to take it
    levels: Annotated[int, Field(ge=1, le=10)] = 1  # an activity's sizes: raised a level at a time


class Trigger(Block):
    """Starting or taking one of `actions` toward `target` crosses the line; one of `ambiguous`
    crosses it in the owner's eyes with probability `slack`."""

    actor: Id
    actions: list[Id] = []
    categories: list[Category] = []  # every action of these categories crosses it too
    target: Id
    ambiguous: list[Id] = []
    slack: Unit = 0.0

    @model_validator(mode="after")
    def _some_trigger(self) -> Trigger:
        if not (self.actions or self.categories):
            raise ValueError("a trigger needs actions or categories (expected at least one, got none)")
        return self


class RedLine(Sourced):
    owner: Id
    trigger: Trigger
    warning: list[Id] = []
    response: Response
    cost: param(0.0, 20.0)
    propensity: param(-10.0, 10.0) = 0.0
    publicity: Unit
    specificity: Unit
    credibility: Unit
    drawn: dt.date  # after the start: the line stands from the round this date falls in


class CommitmentTrigger(Block):
    actions: list[Id] = []
    categories: list[Category] = []  # every action of these categories triggers it too
    ambiguous: list[Id] = []
    attackers: list[Id] = []

    @model_validator(mode="after")
    def _some_trigger(self) -> CommitmentTrigger:
        if not (self.actions or self.categories):
            raise ValueError("a trigger needs actions or categories (expected at least one, got none)")
        return self


class Obligation(Block):
    """What a guarantor owes when the other party is attacked: `action` toward the attacker or
    the protected party, honoured with probability `honour`, `lag` rounds after the attack. Its
    `cost` to an attacker, in utility units, is what deters attacks on the protected party."""

    action: Id
    toward: Literal["attacker", "party"]
    honour: Unit
    lag: param(0.0, 120.0) = 0.0
    cost: param(0.0, 20.0) = 0.0


class Nullification(Block):
    """The commitment may lapse for good once a state variable falls below a level."""

    state: Id
    below: Unit
    rate: Unit


class Commitment(Sourced):
    """Guarantors are the parties with an obligation: both (mutual) or one (a one-way guarantee)."""

    parties: Annotated[list[Id], Field(min_length=2, max_length=2)]
    trigger: CommitmentTrigger
    obligations: Annotated[dict[Id, Obligation], Field(min_length=1, max_length=2)]
    slack: Unit
    caution: param(0.0, 10.0) = 0.0  # share of its deterrence felt by escalation short of an attack
    status: Status = "active"
    nullification: Nullification | None = None
    signed: dt.date | None = None  # after the start: in force from the round this date falls in


class Ripeness(Block):
    """The agreement's value to each party rises with a state variable (a hurting stalemate)."""

    state: Id
    weight: dict[Id, param(-20.0, 20.0)]


class Agreement(Sourced):
    """Talks or a ceasefire between two parties: proposed by one, accepted or refused by the other."""

    parties: Annotated[list[Id], Field(min_length=2, max_length=2)]
    stops: list[Id] = []
    value: dict[Id, param(-20.0, 20.0)]
    proposal_rate: Unit
    mediators: list[Id] = []
    mediation: per_actor(0.0, 20.0, "a party's actor id") = 0.0  # per party: one may seek it, the other refuse it
    eases: Unit = 0.0
    break_cost: param(0.0, 20.0) = 0.0
    ripeness: Ripeness | None = None
    in_force: bool = False
    # after the start: proposed (or, in force, holding) only from the round this date falls in
    from_: dt.date | None = Field(None, alias="from")

    model_config = ConfigDict(**Block.model_config, serialize_by_alias=True)


class Driver(Block):
    """Each round an actor takes or starts one of `actions` (toward one of `targets`, if given;
    or, `while_in_force`, has one in force), the state moves by `delta`."""

    actor: Id
    actions: Annotated[list[Id], Field(min_length=1)]
    targets: list[Id] = []  # toward these only; empty: toward anyone
    delta: param(-1.0, 1.0)
    while_in_force: bool = False


class Effect(Block):
    """The state's value, times `weight`, adds to an actor's utility for an action."""

    actor: Id
    action: Id
    weight: param(-20.0, 20.0)


class StateVariable(Sourced):
    label: str
    initial: Unit
    drift: param(-1.0, 1.0) = 0.0
    drivers: list[Driver] = []
    effects: list[Effect] = []


class Stop(Move):
    """An activity an inject stops; `for` rounds (the inject's own included) its actor may not
    restart it by choice."""

    for_: Annotated[int, Field(ge=1, le=600)] | None = Field(None, alias="for")

    model_config = ConfigDict(**Block.model_config, serialize_by_alias=True)


class When(Block):
    """The condition a conditional inject waits for, all of what is given holding together: an
    `actor` took `action` (toward `target`, if given) or had it in force in an earlier round; each
    state variable of `state_above` at or above its level, each of `state_below` below it."""

    actor: Id | None = None
    action: Id | None = None
    target: Id | None = None
    state_above: dict[Id, Unit] = {}
    state_below: dict[Id, Unit] = {}

    @model_validator(mode="after")
    def _a_condition(self) -> When:
        if (self.actor is None) != (self.action is None):
            raise ValueError("an event needs both actor and action (expected both or neither, got one)")
        if self.target is not None and self.action is None:
            raise ValueError("a target needs an actor and an action (expected them, got none)")
        if self.actor is None and not (self.state_above or self.state_below):
            raise ValueError("when needs an event (actor, action) or state_above or state_below "
                             "(expected one, got none)")
        return self


class Inject(Sourced):
    """At `round` (through `until`), with `probability` per run: force moves or starts, stop
    activities, put agreements in force, set states or statuses; `set` changes parameters from
    `round` on (an election, a change of government). With `when`, it acts once, in the first
    round from `round` (through `until`) in which the condition holds in that run."""

    round: Round
    until: Round | None = None
    probability: Unit = 1.0
    when: When | None = None
    force: dict[Id, Move] = {}
    stop: dict[Id, list[Stop]] = {}
    sign: list[Id] = []
    set_state: dict[Id, Unit] = {}
    set_status: dict[Id, Status] = {}
    set: dict[str, float] = {}

    @model_validator(mode="after")
    def _does_something(self) -> Inject:
        if not (self.force or self.stop or self.sign or self.set_state or self.set_status or self.set):
            raise ValueError(
                "an inject needs force, stop, sign, set_state, set_status or set (expected one, got none)"
            )
        if self.until is not None and self.until < self.round:
            raise ValueError(f"until must be >= round (expected >= {self.round}, got {self.until})")
        return self


class Ladder(Sourced):
    """Escalation points per action category and the action that stands for 'nothing seen'."""

    neutral_action: Id
    points: dict[Category, Annotated[float, Field(ge=-100, le=100, allow_inf_nan=False)]]

    @model_validator(mode="after")
    def _every_category(self) -> Ladder:
        missing = [c for c in CATEGORIES if c not in self.points]
        if missing:
            raise ValueError(f"points needs every category (expected {', '.join(CATEGORIES)}, missing {', '.join(missing)})")
        return self


class Perception(Sourced):
    misperception: param(0.0, 10.0)
    spiral_bias: param(0.0, 10.0)


class HostilityDynamics(Sourced):
    reaction: Unit
    fatigue: Unit
    approach: Unit


class CredibilityDynamics(Sourced):
    gain: Unit
    loss: Unit
    spillover: Unit


class Enforcement(Sourced):
    """logit P(enforce a crossed line); the audience cost at stake grows with the line's age, in
    years: linearly, or, given `audience_half_life`, toward a ceiling (docs/model.md)."""

    bias: param(-20.0, 20.0)
    resolve: param(0.0, 50.0)
    audience: param(0.0, 50.0)
    risk: param(0.0, 50.0)
    audience_half_life: param(0.1, 1000.0) | None = None


class Reach(Sourced):
    """New options toward a target lie at most `rungs` above the actor's own stance toward it."""

    rungs: Annotated[int, Field(ge=0, le=100)]


class Incident(Sourced):
    """An event nobody chose (inadvertent or accidental escalation): `actor` takes `action` toward
    `target` with probability `rate` per rate unit."""

    actor: Id
    action: Id
    target: Id
    rate: Unit


class UtilityWeights(Sourced):
    hostility: param(0.0, 50.0)
    escalation_aversion: param(0.0, 50.0)
    deterrence: param(0.0, 50.0)
    emboldening: Unit = 0.0
    convexity: param(0.0, 50.0) = 0.0


class RoundLength(Block):
    length: Annotated[int, Field(ge=1, le=366)] = 1
    unit: TimeUnit = "month"


class Dynamics(Block):
    perception: Perception
    hostility: HostilityDynamics
    credibility: CredibilityDynamics
    enforcement: Enforcement
    utility: UtilityWeights
    reach: Reach | None = None


Dyad = Annotated[list[Id], Field(min_length=2, max_length=2)]


class OutcomeClass(Block):
    """Runs whose highest new escalation reaches at most `max_rung`; with `easing`, only those
    that also stopped an activity of the start or held an agreement. The class counts only the
    events it names: with `scripted: false`, not those an inject forced; with `between`, only
    those of an actor against the other party of one of the listed dyads (either way)."""

    max_rung: Annotated[int, Field(ge=0, le=100)]
    label: str = ""
    easing: bool = False
    scripted: bool = True
    between: list[Dyad] = []


class Outcomes(Sourced):
    classes: dict[Id, OutcomeClass]

    @model_validator(mode="after")
    def _increasing(self) -> Outcomes:
        rungs = [c.max_rung for c in self.classes.values()]
        if not rungs or rungs != sorted(set(rungs)):
            raise ValueError(
                f"classes must have strictly increasing max_rung (expected each above the last, got {rungs})"
            )
        return self


class Lever(Sourced):
    """A parameter one actor chooses (a policy option) rather than an uncertainty: `sim robust`
    compares its values against the same sample of everything else that is uncertain."""

    path: Annotated[str, Field(min_length=1, max_length=300)]
    actor: Id
    meaning: Annotated[str, Field(min_length=1)]  # what its values mean, e.g. "-1.5: no lethal aid ... 3: ..."
    values: list[float] = []  # the options compared when `sim robust` is given no --lever


class Scenario(Block):
    """A complete, resolved scenario: the world and everything a named scenario changed."""

    name: Id
    description: Annotated[str, Field(min_length=1)]
    sources: Sources
    start: dt.date
    rounds: Round = 24
    round: RoundLength = RoundLength()
    rates_per: TimeUnit = "month"
    moves_per_round: Annotated[int, Field(ge=0, le=10)] = 1
    ladder: Ladder
    dynamics: Dynamics
    actors: Annotated[dict[Id, Actor], Field(min_length=1)]
    actions: Annotated[dict[Id, Action], Field(min_length=1)]
    red_lines: dict[Id, RedLine] = {}
    commitments: dict[Id, Commitment] = {}
    agreements: dict[Id, Agreement] = {}
    state: dict[Id, StateVariable] = {}
    incidents: dict[Id, Incident] = {}
    injects: dict[Id, Inject] = {}
    outcomes: Outcomes
    levers: list[Lever] = []
    references: dict[Id, DeclaredReference] = {}  # the scenario's own sources (citations.py)
    claims: dict[Id, DeclaredClaim] = {}
    measures: dict[Id, Measure] = {}  # the questions a scenario asks of every run (questions.py)


