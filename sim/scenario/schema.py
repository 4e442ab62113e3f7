"""The typed scenario: what a resolved scenario file must contain.

Field names are the YAML keys. Ids (actors, actions, red lines, ...) are mapping keys, so a
scenario that extends another overrides an entry by naming it. Cross-references between
sections are checked in `references.py`; this module checks shape, types and ranges.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .citations import DeclaredClaim, DeclaredReference
from .params import Unit, param

Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.-]*$", max_length=64)]
Sources = Annotated[list[str], Field(min_length=1)]
Round = Annotated[int, Field(ge=1, le=600)]

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


class UtilityPolicy(Block):
    """Softmax over allowed moves of the utility model (DESIGN section 3, step 4)."""

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
    reciprocity: param(0.0, 10.0) = 1.0
    policy: Policy = UtilityPolicy()


class Action(Sourced):
    label: str
    rung: Annotated[int, Field(ge=0, le=100)]
    category: Category
    mid_level: Annotated[int, Field(ge=1, le=5)]
    goldstein: Annotated[float, Field(ge=-10, le=10, allow_inf_nan=False)]
    public: bool = True
    detection: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 1.0
    allowed: dict[Id, list[Id]]


class Trigger(Block):
    actor: Id
    actions: Annotated[list[Id], Field(min_length=1)]
    target: Id


class RedLine(Sourced):
    owner: Id
    trigger: Trigger
    warning: list[Id] = []
    response: Move
    publicity: Unit
    specificity: Unit
    credibility: Unit
    drawn_months_ago: Annotated[int, Field(ge=0, le=600)] = 0


class CommitmentTrigger(Block):
    actions: Annotated[list[Id], Field(min_length=1)]
    ambiguous: list[Id] = []
    attackers: list[Id] = []


class Obligation(Block):
    action: Id
    toward: Literal["attacker", "party"]


class Nullification(Block):
    """The commitment may lapse for good once a state variable falls below a level."""

    state: Id
    below: Unit
    rate: Unit


class Commitment(Sourced):
    parties: Annotated[list[Id], Field(min_length=2, max_length=2)]
    trigger: CommitmentTrigger
    obligation: Obligation
    honour: Unit
    slack: Unit
    status: Status = "active"
    nullification: Nullification | None = None


class Driver(Block):
    """Each round an actor takes one of `actions`, the state moves by `delta`."""

    actor: Id
    actions: Annotated[list[Id], Field(min_length=1)]
    delta: param(-1.0, 1.0)


class Effect(Block):
    """The state's value, times `weight`, adds to an actor's utility for an action."""

    actor: Id
    action: Id
    weight: param(-10.0, 10.0)


class StateVariable(Sourced):
    label: str
    initial: Unit
    drift: param(-1.0, 1.0) = 0.0
    drivers: list[Driver] = []
    effects: list[Effect] = []


class Inject(Sourced):
    """At `round` (through `until`), with `probability` per run: force moves, set states or statuses."""

    round: Round
    until: Round | None = None
    probability: Unit = 1.0
    force: dict[Id, Move] = {}
    set_state: dict[Id, Unit] = {}
    set_status: dict[Id, Status] = {}

    @model_validator(mode="after")
    def _does_something(self) -> Inject:
        if not (self.force or self.set_state or self.set_status):
            raise ValueError("an inject needs force, set_state or set_status (expected one, got none)")
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
    bias: param(-20.0, 20.0)
    resolve: param(0.0, 50.0)
    audience: param(0.0, 50.0)
    risk: param(0.0, 50.0)


class Chance(Sourced):
    base: Unit
    slope: Unit


class UtilityWeights(Sourced):
    hostility: param(0.0, 50.0)
    escalation_aversion: param(0.0, 50.0)
    deterrence: param(0.0, 50.0)


class Dynamics(Block):
    perception: Perception
    hostility: HostilityDynamics
    credibility: CredibilityDynamics
    enforcement: Enforcement
    chance: Chance
    utility: UtilityWeights


class OutcomeClass(Block):
    max_rung: Annotated[int, Field(ge=0, le=100)]
    label: str = ""


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


class Scenario(Block):
    """A complete, resolved scenario: the world and everything a named scenario changed."""

    name: Id
    description: Annotated[str, Field(min_length=1)]
    sources: Sources
    rounds: Round = 24
    round_months: Annotated[int, Field(ge=1, le=120)] = 1
    ladder: Ladder
    dynamics: Dynamics
    actors: Annotated[dict[Id, Actor], Field(min_length=1)]
    actions: Annotated[dict[Id, Action], Field(min_length=1)]
    red_lines: dict[Id, RedLine] = {}
    commitments: dict[Id, Commitment] = {}
    state: dict[Id, StateVariable] = {}
    injects: dict[Id, Inject] = {}
    outcomes: Outcomes
    references: dict[Id, DeclaredReference] = {}  # the scenario's own sources (citations.py)
    claims: dict[Id, DeclaredClaim] = {}


