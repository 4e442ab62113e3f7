"""Issue 17, items 6, 7, 9 and 10: outcome classes that leave out scripted events or count chosen
dyads, audience costs that saturate with a line's age, activity levels, and actors with no
adversary. Each test builds a small world (tests/data/duel.yaml, see tests/test_engine.py for the
trace notation) that uses the mechanism and checks what it does.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from sim.engine.outcomes import outcome_class
from sim.engine.redlines import audience_stake, enforcement_probability
from test_engine import activities, inject, new_model, play, script, utility

CLASSES = ("eased", "calm", "tense", "violent")
NO_PACT = {"commitments.pact.status": "lapsed"}  # gamma does not answer a strike on beta
OPENING_STRIKE = inject("opening", 1, force={"alpha": "strike>beta"})


def classes_of(model) -> list[str]:
    return sorted({CLASSES[c] for c in outcome_class(model)})


# -- outcome classes: scripted events and chosen dyads (item 6) ----------------------------------


def test_a_class_that_leaves_scripted_events_out_is_left_only_by_a_chosen_attack():
    # An inject makes alpha strike beta in round 1. Counted, the strike (rung 6) puts every run
    # in `violent`; with `scripted: false` on the classes below, a run stays `calm` unless an
    # attack is chosen (alpha strikes beta again in round 4 of its own script).
    unscripted = {f"outcomes.classes.{c}.scripted": False for c in ("eased", "calm", "tense")}
    model, trace, _ = play(OPENING_STRIKE | NO_PACT | unscripted)
    assert trace[0] == ". strike>beta | . | . ||"  # its own idle and the forced strike
    assert classes_of(model) == ["calm"]
    model, _, _ = play(OPENING_STRIKE | NO_PACT)  # switched off: the scripted strike counts
    assert classes_of(model) == ["violent"]
    chosen = script("alpha", "idle>beta", "idle>beta", "idle>beta", "strike>beta", "idle>beta")
    model, trace, _ = play(OPENING_STRIKE | NO_PACT | unscripted | chosen)
    assert trace[3] == "strike>beta | . | . ||"
    assert classes_of(model) == ["violent"]
    assert model.peak_new.tolist() == model.peak_counted[0].tolist() == [6] * 50


def test_a_class_over_one_dyad_ignores_another_dyads_war():
    # `calm` counts alpha and beta only (either way): alpha's strike on gamma leaves a run calm,
    # its strike on beta does not.
    between = {"outcomes.classes.calm.between": [["beta", "alpha"]]}
    model, _, _ = play(script("alpha", "strike>gamma") | between)
    assert classes_of(model) == ["calm"]
    model, _, _ = play(script("alpha", "strike>gamma"))  # switched off: every dyad counts
    assert classes_of(model) == ["violent"]
    model, _, _ = play(script("alpha", "strike>beta") | NO_PACT | between)
    assert classes_of(model) == ["violent"]
