"""The linter of `sim validate`: each warning on a small file that has the problem (and none once
it is fixed), none on the shipped worlds, and exit 0 unless --strict."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sim.cli import main
from sim.scenario import scenario_names
from sim.scenario.lint import scenario_warnings

OTHER_CRISIS = Path(__file__).resolve().parent / "data" / "other-crisis.yaml"

CUT_AID = {"round": 3, "stop": {"united_states": [{"action": "lethal_aid", "target": "ukraine"}]},
           "sources": ["judgement"], "note": "Washington cuts aid in month 3."}
STATEMENT = {"label": "Statement", "rung": 1, "category": "status_quo", "mid_level": 1, "goldstein": 0.0,
             "allowed": {"north_korea": ["south_korea"]}, "sources": ["judgement"], "note": "A word, nothing more."}


def _world(tmp_path: Path, **changes: object) -> Path:
    file = tmp_path / "mine.yaml"
    file.write_text(yaml.safe_dump({"name": "mine", "extends": "baseline", "description": "Lint under test.",
                                    "sources": ["judgement"], **changes}), encoding="utf-8")
    return file


def _warnings(file: Path) -> list[tuple[str, str]]:
    return [(w.path, w.message) for w in scenario_warnings(file)]


def test_a_stop_of_an_activity_its_actor_still_likes_is_warned(tmp_path: Path) -> None:
    [(path, message)] = _warnings(_world(tmp_path, injects={"cut": CUT_AID}))
    assert path == "injects.cut.stop.united_states[0]"
    assert message.startswith("stops lethal_aid toward ukraine in round 3, but united_states's preference for it "
                              "stays +4: it may start it again from round 4 (expected `for: 22` on the stop")
    # a stop that holds (`for` rounds, or through `until`) to the end of the run is not warned about
    held = {**CUT_AID, "stop": {"united_states": [{"action": "lethal_aid", "target": "ukraine", "for": 22}]}}
    assert _warnings(_world(tmp_path, injects={"cut": held})) == []
    assert _warnings(_world(tmp_path, injects={"cut": {**CUT_AID, "until": 24}})) == []
    # one that holds for part of it is, from the round after it ends
    held["stop"]["united_states"][0]["for"] = 6
    [(_, message)] = _warnings(_world(tmp_path, injects={"cut": held}))
    assert "it may start it again from round 9" in message
    policy = {**CUT_AID, "set": {"actors.united_states.preferences.lethal_aid": -5.0}}
    assert _warnings(_world(tmp_path, injects={"cut": policy})) == []
    disliked = {"united_states": {"preferences_toward": {"ukraine": {"lethal_aid": -1.0}}}}
    assert _warnings(_world(tmp_path, injects={"cut": CUT_AID}, actors=disliked)) == []
    # the per-target preference is the one the engine reads: setting the per-action one changes nothing
    liked = {"united_states": {"preferences_toward": {"ukraine": {"lethal_aid": 2.0}}}}
    [(_, message)] = _warnings(_world(tmp_path, injects={"cut": policy}, actors=liked))
    assert "stays +2" in message and "actors.united_states.preferences_toward.ukraine.lethal_aid" in message


def test_a_move_nothing_reads_is_warned(tmp_path: Path) -> None:
    [(path, message)] = _warnings(_world(tmp_path, actions={"statement": STATEMENT}))
    assert path == "actions.statement" and message.startswith("nothing reads this move")
    read = {"talk": {"question": "a statement", "kind": "takes", "actor": "north_korea", "action": "statement"}}
    assert _warnings(_world(tmp_path, actions={"statement": STATEMENT}, measures=read)) == []
    assert _warnings(_world(tmp_path, actions={"statement": {**STATEMENT, "points": 1.0}})) == []
    # above the neutral action's rung 1 it is a threat that opens replies (the world has dynamics.reach)
    assert _warnings(_world(tmp_path, actions={"statement": {**STATEMENT, "rung": 2}})) == []
    band = {"south_korea.precision_weapons": {"warning": ["statement"]}}
    assert _warnings(_world(tmp_path, actions={"statement": STATEMENT}, red_lines=band)) == []
    awaited = {"answer": {"round": 1, "when": {"actor": "north_korea", "action": "statement"},
                          "force": {"south_korea": {"action": "warn", "target": "north_korea"}}, "sources": ["judgement"]}}
    assert _warnings(_world(tmp_path, actions={"statement": STATEMENT}, injects=awaited)) == []


def test_an_obligation_that_costs_an_attacker_nothing_is_warned(tmp_path: Path) -> None:
    free = {"treaty_article_4": {"obligations": {"north_korea": {"cost": 0.0}}}}
    [(path, message)] = _warnings(_world(tmp_path, commitments=free))
    assert path == "commitments.treaty_article_4.obligations.north_korea.cost"
    assert message.startswith("north_korea's obligation costs an attacker 0: it deters nothing")


def test_a_line_drawn_beyond_the_run_is_warned(tmp_path: Path) -> None:
    # drawn inside the run, it stands from the round its date falls in: nothing to warn about
    assert _warnings(_world(tmp_path, red_lines={"russia.lethal_aid": {"drawn": "2024-08-01"}})) == []
    late = {"russia.lethal_aid": {"drawn": "2027-01-01"}}
    [(path, message)] = _warnings(_world(tmp_path, red_lines=late))
    assert path == "red_lines.russia.lethal_aid.drawn"
    assert message.startswith("drawn 2027-01-01, after the run's last round (round 24 starts 2026-05-23)")
    [(path, message)] = _warnings(_world(tmp_path, commitments={"treaty_article_4": {"signed": "2027-01-01"}}))
    assert path == "commitments.treaty_article_4.signed" and message.startswith("signed 2027-01-01, after the run's")


def test_warnings_are_located_where_the_value_was_written(tmp_path: Path) -> None:
    file = _world(tmp_path, red_lines={"russia.lethal_aid": {"drawn": "2027-01-01"}})
    [warning] = scenario_warnings(file)
    line = next(i for i, text in enumerate(file.read_text().splitlines(), 1) if "drawn:" in text)
    assert (warning.file, warning.line) == (str(file), line)


def test_validate_prints_warnings_and_exits_0_unless_strict(tmp_path: Path, capsys) -> None:
    file = _world(tmp_path, injects={"cut": CUT_AID})
    assert main(["validate", str(file)]) == 0
    out, err = capsys.readouterr()
    assert out == f"ok: {file} (1 warning)\n"
    assert err.startswith(f"warning: {file}:") and "injects.cut.stop.united_states[0]: stops lethal_aid" in err
    assert main(["validate", "--strict", str(file)]) == 2


@pytest.mark.parametrize("name", [*scenario_names(), str(OTHER_CRISIS)])
def test_the_shipped_worlds_give_no_warning(name: str) -> None:
    assert scenario_warnings(name) == []


DAILY = {"rounds": 30, "round": {"length": 1, "unit": "day"}}


def test_daily_rounds_keeping_a_monthly_worlds_per_round_values_are_warned(tmp_path: Path) -> None:
    [(path, message)] = _warnings(_world(tmp_path, **DAILY))
    assert path == "round"
    assert message.startswith("rounds of 1 day, but ") and "korea-2024.yaml, written for rounds of a month" in message
    assert _warnings(_world(tmp_path, rounds=30, round={"length": 1, "unit": "week"})) == []
    # one warning per monthly file of the chain: the calibrated world (escalation aversion and
    # convexity, drawn from its posterior) and the world it extends
    on_calibrated = tmp_path / "daily-calibrated.yaml"
    world = Path(__file__).resolve().parents[1] / "scenarios" / "korea-2024" / "world" / "korea-2024-calibrated.yaml"
    on_calibrated.write_text(yaml.safe_dump({"name": "daily", "extends": str(world), "description": "Lint under test.",
                                             "sources": ["judgement"], **DAILY}), encoding="utf-8")
    calibrated, authored = _warnings(on_calibrated)
    assert calibrated[0] == authored[0] == "round"
    assert calibrated[1].startswith("rounds of 1 day, but 2 per-round values ")
    assert "korea-2024-calibrated.yaml, written for rounds of a month" in calibrated[1]
    assert "korea-2024.yaml, written for rounds of a month" in authored[1]


def test_a_daily_world_written_whole_and_its_variants_are_not_warned(tmp_path: Path) -> None:
    daily = tmp_path / "daily-reef.yaml"
    text = OTHER_CRISIS.read_text(encoding="utf-8")
    assert text.count("round: {length: 1, unit: month}") == 1
    daily.write_text(text.replace("round: {length: 1, unit: month}", "round: {length: 1, unit: day}"), encoding="utf-8")
    assert scenario_warnings(daily) == []
    variant = tmp_path / "variant.yaml"
    variant.write_text(yaml.safe_dump({"name": "variant", "extends": str(daily), "description": "A variant.",
                                       "sources": ["judgement"], "moves_per_round": 2}), encoding="utf-8")
    assert scenario_warnings(variant) == []


def test_the_per_round_values_are_the_ones_the_docs_list() -> None:
    from sim.scenario.lint import PER_ROUND

    docs = (Path(__file__).resolve().parents[1] / "docs" / "scenarios.md").read_text(encoding="utf-8")
    section = docs.split("## What scales with the round")[1].split("\n## ")[0]
    for pattern in PER_ROUND:
        parts = pattern.rstrip(".*").split(".")
        written = pattern.rstrip(".*") if parts[0] != "dynamics" or parts[1] != "utility" else parts[-1]
        assert f"`{written}`" in section, pattern
