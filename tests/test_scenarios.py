"""The named scenarios and the Korean world file, as docs/design.md, "The model" and "Provenance" fix them.

Specifications: the nine names, the fixed ids of actors, actions, red lines, commitments and
outcome classes, every cited source existing in the digest, `sim show` round-tripping, and
an engine that knows no crisis-specific id (another crisis is a YAML file, not new code).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from sim.cli import main
from sim.scenario import ScenarioError, Scenario, load_digest, load_scenario, scenario_names
from sim.scenario.catalog import world_folders

REPO = Path(__file__).resolve().parents[1]
SIM = REPO / "sim"
KOREA = REPO / "scenarios" / "korea-2024"
WORLD = KOREA / "world" / "korea-2024.yaml"
OTHER_CRISIS = Path(__file__).resolve().parent / "data" / "other-crisis.yaml"

NAMES = [
    "baseline",
    "precision-weapons",
    "lethal-aid",
    "troops-to-front",
    "peninsula-war",
    "emboldened-provocations",
    "ceasefire-erosion",
    "tit-for-tat",
    "with-china",
]
ACTORS = ["south_korea", "russia", "north_korea", "united_states", "ukraine"]
ACTIONS = [
    "engage",
    "hold",
    "warn",
    "sanction",
    "show_of_force",
    "missile_test",
    "nonlethal_aid",
    "arms_transfer",
    "lethal_aid",
    "tech_transfer",
    "precision_weapons",
    "troop_deployment",
    "border_clash",
    "intervention",
    "war",
    "nuclear_use",
]
RED_LINES = ["south_korea.precision_weapons", "russia.lethal_aid"]
COMMITMENTS = ["treaty_article_4", "us_rok_alliance"]
OUTCOME_CLASSES = [
    "de_escalation",
    "contained",
    "proxy_escalation",
    "militarized_crisis",
    "regional_war",
    "nuclear_use",
]


@pytest.fixture(scope="module")
def loaded() -> dict[str, Scenario]:
    """Every named scenario and the world file, loaded once for the module."""
    scenarios = {name: load_scenario(name) for name in NAMES}
    scenarios["world"] = load_scenario(WORLD)
    return scenarios


def _raw(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# --- the named scenarios ---------------------------------------------------------------


def test_exactly_the_nine_named_scenarios_in_the_korean_world() -> None:
    assert [p.stem for p in world_folders()["korea-2024"]] == sorted(NAMES)
    assert set(NAMES) <= set(scenario_names())


@pytest.mark.parametrize("name", NAMES)
def test_named_scenario_loads_under_its_file_name(name: str, loaded: dict[str, Scenario]) -> None:
    path = KOREA / f"{name}.yaml"
    assert _raw(path)["name"] == path.stem == name
    assert loaded[name].name == name


@pytest.mark.parametrize("name", NAMES)
def test_named_scenario_has_description_and_its_own_sources(name: str) -> None:
    raw = _raw(KOREA / f"{name}.yaml")
    # Written in the scenario file itself, not inherited from the world.
    assert isinstance(raw.get("description"), str) and len(raw["description"].split()) >= 10
    assert isinstance(raw.get("sources"), list) and raw["sources"]
    claims = load_digest().claims
    assert any(source in claims for source in raw["sources"]), "a named scenario rests on the article"


@pytest.mark.parametrize("name", ["world", *NAMES])
def test_fixed_ids_exist(name: str, loaded: dict[str, Scenario]) -> None:
    s = loaded[name]
    assert [a for a in ACTORS if a not in s.actors] == []
    assert sorted(s.actors) == sorted(ACTORS + (["china"] if name == "with-china" else []))
    assert [a for a in ACTIONS if a not in s.actions] == []
    assert [r for r in RED_LINES if r not in s.red_lines] == []
    assert [c for c in COMMITMENTS if c not in s.commitments] == []
    assert list(s.outcomes.classes) == OUTCOME_CLASSES  # in order of increasing max_rung


def test_world_starts_from_the_status_quo_of_the_record(loaded: dict[str, Scenario]) -> None:
    """The standing situation on 23 June 2024 (../shared/record/korea-2024-h2.md) as activities."""
    s = loaded["world"]
    in_force = {(aid, m.action, m.target) for aid, actor in s.actors.items() for m in actor.activities}
    assert in_force == {
        ("russia", "war", "ukraine"),
        ("ukraine", "war", "russia"),
        ("united_states", "lethal_aid", "ukraine"),
        ("united_states", "sanction", "russia"),
        ("united_states", "sanction", "north_korea"),
        ("north_korea", "arms_transfer", "russia"),
        ("south_korea", "nonlethal_aid", "ukraine"),
        ("south_korea", "sanction", "russia"),
        ("south_korea", "sanction", "north_korea"),
        ("russia", "sanction", "south_korea"),  # "unfriendly" state countermeasures since March 2022
    }
    assert str(s.start) == "2024-06-23" and (s.round.length, s.round.unit) == (1, "month")
    assert s.actions["lethal_aid"].against == {"ukraine": "russia"}
    assert s.actions["arms_transfer"].against["russia"] == "ukraine"


def test_with_china_adds_an_actor_in_yaml_alone(loaded: dict[str, Scenario]) -> None:
    s = loaded["with-china"]
    assert "china" in s.actors and "sino_dprk_treaty" in s.commitments
    assert list(s.commitments["sino_dprk_treaty"].obligations) == ["china"]  # a one-way guarantee
    assert "china" in s.agreements["ukraine_ceasefire"].mediators


def test_world_red_lines_and_commitments_are_the_articles(loaded: dict[str, Scenario]) -> None:
    s = loaded["world"]
    precision, lethal = s.red_lines["south_korea.precision_weapons"], s.red_lines["russia.lethal_aid"]
    assert (precision.owner, precision.trigger.actor, precision.trigger.actions, precision.trigger.target) == (
        "south_korea",
        "russia",
        ["precision_weapons"],
        "north_korea",
    )
    assert (lethal.owner, lethal.trigger.actor, lethal.trigger.actions, lethal.trigger.target) == (
        "russia",
        "south_korea",
        ["lethal_aid"],
        "ukraine",
    )
    assert s.commitments["treaty_article_4"].parties == ["russia", "north_korea"]
    assert sorted(s.commitments["us_rok_alliance"].parties) == ["south_korea", "united_states"]


def _sources_in(node: Any, path: str = "") -> list[tuple[str, Any]]:
    """(dotted path, source id) for every id in every `sources` list of raw YAML data."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            child = f"{path}.{key}" if path else str(key)
            if key == "sources":
                found += [(f"{child}[{i}]", s) for i, s in enumerate(value)]
            else:
                found += _sources_in(value, child)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _sources_in(value, f"{path}[{i}]")
    return found


SCENARIO_FILES = sorted(KOREA.rglob("*.yaml"))


def test_scenario_files_are_the_world_and_the_named_scenarios() -> None:
    assert [p.relative_to(KOREA).as_posix() for p in SCENARIO_FILES] == sorted(
        [f"{n}.yaml" for n in NAMES] + ["world/korea-2024-calibrated.yaml", "world/korea-2024.yaml"]
    )


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.name)
def test_every_cited_source_exists_in_the_digest(path: Path) -> None:
    cited = _sources_in(_raw(path))
    assert cited, "every scenario file cites sources"
    ids = load_digest().ids
    assert [(where, source) for where, source in cited if source not in ids] == []


def test_every_judgement_has_a_note() -> None:
    """`judgement` is only honest with its reasoning: a block citing it carries a `note`.

    Checked on the complete files (the world, the other-crisis example); a named scenario may
    cite `judgement` on a partial override whose reasoning is the world block's note.
    """
    missing = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            reasoning = node.get("note") or node.get("description")  # a scenario's own is its description
            if "judgement" in node.get("sources", []) and not str(reasoning or "").strip():
                missing.append(path)
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else str(key))

    walk(_raw(WORLD), "world")
    walk(_raw(OTHER_CRISIS), "other-crisis")
    assert missing == []


def test_citing_an_unknown_claim_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        "name: mine\n"
        "extends: baseline\n"
        "actors:\n"
        "  south_korea:\n"
        "    resolve: 0.9\n"
        "    sources: [chang-precision-red-line, made-up-claim]\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    [problem] = info.value.problems
    assert (problem.file, problem.line, problem.column) == (str(path), 6, 41)
    assert problem.path == "actors.south_korea.sources[1]"
    assert problem.message == (
        "unknown source (expected a claim or reference id from seeds/ or this scenario's claims or references, got 'made-up-claim')"
    )


@pytest.mark.parametrize("name", NAMES)
def test_show_output_loads_back_to_the_same_scenario(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], loaded: dict[str, Scenario]
) -> None:
    assert main(["show", name]) == 0
    shown = capsys.readouterr().out
    assert "extends" not in yaml.safe_load(shown), "show prints the resolved scenario"
    path = tmp_path / f"{name}.yaml"
    path.write_text(shown, encoding="utf-8")
    assert load_scenario(path).model_dump() == loaded[name].model_dump()


# --- another crisis: the engine is generic -----------------------------------------------


def test_another_crisis_loads_without_the_korean_world() -> None:
    s = load_scenario(OTHER_CRISIS)
    assert s.name == "reef-standoff"
    assert sorted(s.actors) == ["coastland", "islandia"]
    assert set(s.actions).isdisjoint(set(ACTIONS) - {"hold"})
    assert list(s.red_lines) == ["coastland.seizures"]
    assert s.commitments == {}
    assert "extends" not in _raw(OTHER_CRISIS)


def test_another_crisis_validates_from_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(OTHER_CRISIS)]) == 0
    assert capsys.readouterr().out == f"ok: {OTHER_CRISIS}\n"


# --- docs/scenarios.md stays true ----------------------------------------------------------

DOCS = REPO / "docs" / "scenarios.md"


def _doc_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)


def test_docs_complete_example_is_the_test_file() -> None:
    examples = [b for b in _doc_blocks("yaml") if b.startswith("# A crisis that has nothing to do with Korea")]
    assert examples == [OTHER_CRISIS.read_text(encoding="utf-8")]


def test_docs_snippets_load_on_top_of_baseline(tmp_path: Path) -> None:
    """Every section's example is valid: merged onto baseline, it loads."""
    snippets = [
        b for b in _doc_blocks("yaml") if not b.startswith(("# A crisis that", "# mine.yaml"))
    ]
    assert len(snippets) >= 10
    for i, snippet in enumerate(snippets):
        path = tmp_path / f"snippet-{i}.yaml"
        path.write_text(snippet if "extends:" in snippet else "extends: baseline\n" + snippet, encoding="utf-8")
        load_scenario(path)


def test_docs_error_example_is_what_validate_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    [broken] = [b for b in _doc_blocks("yaml") if b.startswith("# mine.yaml")]
    [printed] = [b for b in _doc_blocks("text") if b.startswith("$ sim validate mine.yaml")]
    (tmp_path / "mine.yaml").write_text(broken.split("\n", 1)[1], encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "mine.yaml"]) == 2
    assert capsys.readouterr().err.splitlines() == printed.splitlines()[1:]


# --- no crisis-specific id in the engine --------------------------------------------------

# Generic English words that are also action ids: only a quoted string literal counts.
GENERIC = {"hold", "war", "warn", "engage"}
SPECIFIC = sorted({*ACTORS, *ACTIONS, *RED_LINES, *COMMITMENTS} - GENERIC, key=len, reverse=True)
SPECIFIC_RE = re.compile(r"(?<![a-z0-9])(" + "|".join(re.escape(i) for i in SPECIFIC) + r")(?![a-z0-9])")


def _prose_lines(tree: ast.AST) -> set[int]:
    """Lines of docstrings and other bare string statements: prose, not code."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def _code_words(tree: ast.AST, prose: set[int]) -> list[tuple[int, str, bool]]:
    """(line, text, is_string_literal) for every identifier and string literal outside prose."""
    words: list[tuple[int, str, bool]] = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if line in prose:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            words.append((line, node.value, True))
        elif isinstance(node, ast.Name):
            words.append((line, node.id, False))
        elif isinstance(node, ast.Attribute):
            words.append((line, node.attr, False))
        elif isinstance(node, ast.arg):
            words.append((line, node.arg, False))
        elif isinstance(node, ast.keyword) and node.arg:
            words.append((line, node.arg, False))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            words.append((line, node.name, False))
        elif isinstance(node, ast.alias):
            words.append((line, node.asname or node.name, False))
    return words


def hard_coded_ids(path: Path, root: Path = REPO) -> list[str]:
    """`FILE:LINE: id` for every crisis-specific id written into the code of `path`.

    Comments and docstrings are prose and may name ids as examples; identifiers and string
    literals are code. The generic words (hold, war, warn, engage) count only as a whole
    string literal, such as "hold".
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for line, word, literal in _code_words(tree, _prose_lines(tree)):
        hits = SPECIFIC_RE.findall(word)
        if literal and word in GENERIC:
            hits.append(word)
        found += [(line, f"{path.relative_to(root)}:{line}: {hit}") for hit in hits]
    return [text for _, text in sorted(found)]


def test_the_id_scanner_finds_ids_in_code_not_in_prose(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Docstrings may say south_korea or "hold"."""\n'
        "# comments may say russia\n"
        "def f(x):\n"
        '    """Also prose: lethal_aid."""\n'
        '    if x == "hold":\n'
        "        return south_korea_index\n"
        "    hold_on = 'the war is over'\n"
        "    return {'treaty_article_4': 1, 'nonlethal': f'{x}.us_rok_alliance'}\n",
        encoding="utf-8",
    )
    assert hard_coded_ids(sample, tmp_path) == [
        "sample.py:5: hold",
        "sample.py:6: south_korea",
        "sample.py:8: treaty_article_4",
        "sample.py:8: us_rok_alliance",
    ]


def test_engine_hard_codes_no_actor_action_red_line_or_commitment_id() -> None:
    files = sorted(SIM.rglob("*.py"))
    assert SIM / "engine" / "model.py" in files and SIM / "scenario" / "schema.py" in files
    found = [hit for path in files for hit in hard_coded_ids(path)]
    assert found == [], "ids come from the scenario, never from code:\n" + "\n".join(found)
