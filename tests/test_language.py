"""The scenario language as a writer of a new crisis uses it (issue 8, item 11; issue 11, item 18).

- A scenario declares its own `references:` and `claims:` and cites them like the seeds'.
- `--set` and `--vary` reach list items with `[i]`, the syntax of the `param.<path>` columns.
- `sim explain NAME [PATH]` explains the overview or any part, with sources and notes.
- `sim list` names every scenario with its first sentence.
- Distributions print as people write them (`beta(2, 2)`), never as a Python repr.

Fixtures are this directory's own worlds (duel.yaml, other-crisis.yaml), so the Korean world
can change without changing these specifications.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from sim.cli import main
from sim.scenario.catalog import world_folders
from sim.cli.sweep import _sampled
from sim.experiments.designs import parse_vary
from sim.experiments.sweeps import check_factor
from sim.report.explain import explain
from sim.scenario import Distribution, Problem, ScenarioError, dump_scenario, load_scenario, scenario_names
from sim.scenario.loader import with_overrides
from sim.scenario.params import sampled_parameters, show
from sim.scenario.sources import load_digest

DATA = Path(__file__).resolve().parent / "data"
DUEL = DATA / "duel.yaml"
OTHER_CRISIS = DATA / "other-crisis.yaml"


def problems(ref: str | Path, overrides: list[str] | None = None) -> list[Problem]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(ref, overrides)
    return info.value.problems


def write(tmp_path: Path, text: str, name: str = "mine.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# --- a scenario's own references and claims -------------------------------------------------------

MINE = textwrap.dedent(f"""\
    name: mine
    extends: {DUEL}
    description: The duel, with a claim and a reference of its own.
    sources: [beta-warning, judgement]
    claims:
      beta-warning:
        speaker: Beta's spokesman
        role: invented for this test
        date: 2024-02-01
        quote: Arming Alpha against us will be answered.
        informs: [red_lines.alpha.no_arms]
    references:
      duel-handbook:
        title: The duel handbook
        year: 2020
    red_lines:
      alpha.no_arms:
        publicity: {{beta: [2, 2]}}
        sources: [beta-warning, schelling1966]
        note: Public, and the answer is named.
    commitments:
      pact:
        trigger: {{ambiguous: [strike]}}
        slack: 0.3
        nullification: {{state: tension, below: 0.2, rate: 0.1}}
    state:
      tension:
        label: Tension
        initial: 0.5
        drivers: [{{actor: alpha, actions: [threaten], delta: 0.1}}]
        sources: [duel-handbook]
        note: How tense the duel is.
    injects:
      jolt:
        round: 2
        until: 3
        probability: 0.5
        force: {{alpha: {{action: threaten, target: beta}}}}
        set_state: {{tension: 0.9}}
        sources: [judgement]
        note: A jolt in rounds 2 and 3.
""")
SPOKESMAN = "[beta-warning] Beta's spokesman (invented for this test), 2024-02-01: \"Arming Alpha against us will be answered.\""
JUDGEMENT = "[judgement] " + load_digest().references["judgement"].citation
SCHELLING = "[schelling1966] " + load_digest().references["schelling1966"].citation


def test_the_other_crisis_cites_sources_it_declares_itself() -> None:
    s = load_scenario(OTHER_CRISIS)
    assert list(s.references) == ["unclos1982"] and list(s.claims) == ["coastland-in-kind"]
    assert "coastland-in-kind" in s.red_lines["coastland.seizures"].sources
    assert "unclos1982" in s.actions["seize_boats"].sources
    assert not set(s.references) & load_digest().ids, "its own ids are new ids"


def test_a_file_cites_its_own_claims_and_references(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, MINE))
    assert s.claims["beta-warning"].date.isoformat() == "2024-02-01"
    assert s.references["duel-handbook"].year == 2020
    assert s.red_lines["alpha.no_arms"].sources == ["beta-warning", "schelling1966"]


def test_a_file_extending_it_cites_them_too_and_adds_its_own(tmp_path: Path) -> None:
    parent = write(tmp_path, MINE, "parent.yaml")
    child = write(
        tmp_path,
        f"""\
        extends: {parent.name}
        claims:
          alpha-reply:
            speaker: Alpha's leader
            date: 2024-02-02
            quote: We arm whom we please.
            source: duel-handbook
        actors:
          alpha: {{resolve: 0.9, sources: [alpha-reply, beta-warning, duel-handbook]}}
        """,
        "child.yaml",
    )
    s = load_scenario(child)
    assert sorted(s.claims) == ["alpha-reply", "beta-warning"]
    assert s.actors["alpha"].sources == ["alpha-reply", "beta-warning", "duel-handbook"]


def test_unknown_ids_still_fail_with_did_you_mean(tmp_path: Path) -> None:
    path = write(tmp_path, MINE + "actors:\n  alpha: {sources: [beta-warnin]}\n")
    [p] = problems(path)
    assert (p.line, p.column, p.path) == (MINE.count("\n") + 2, 21, "actors.alpha.sources[0]")
    assert p.message == (
        "unknown source (expected a claim or reference id from seeds/ or this scenario's claims or references, "
        "got 'beta-warnin') (did you mean 'beta-warning'?)"
    )


def test_unknown_ids_are_found_even_in_a_file_with_other_mistakes(tmp_path: Path) -> None:
    """The first pass (shape and types) checks sources against the file's own ids too."""
    path = write(tmp_path, MINE + "rounds: many\nactors:\n  alpha: {sources: [duel-handbok, duel-handbook]}\n")
    assert [(p.path, p.message.split(" (")[0]) for p in problems(path)] == [
        ("rounds", "expected a valid integer, unable to parse string as an integer, got 'many'"),
        ("actors.alpha.sources[0]", "unknown source"),
    ]


@pytest.mark.parametrize(
    ("section", "body", "path", "message"),
    [
        ("references", "kahn1965: {title: On Escalation}", "references.kahn1965",
         "id already names a reference in seeds/ (expected a new id, got 'kahn1965')"),
        ("claims", "putin-grave-mistake: {speaker: me, date: 2024-01-01, quote: Hi.}", "claims.putin-grave-mistake",
         "id already names a claim in seeds/ (expected a new id, got 'putin-grave-mistake')"),
        ("claims", "duel-handbook: {speaker: me, date: 2024-01-01, quote: Hi.}", "claims.duel-handbook",
         "id already names one of this scenario's references (expected a new id, got 'duel-handbook')"),
        ("claims", "said: {speaker: me, date: 2024-01-01, quote: Hi., source: duel-handbok}", "claims.said.source",
         "unknown reference (expected a reference id from seeds/ or this scenario's references, "
         "got 'duel-handbok') (did you mean 'duel-handbook'?)"),
        ("references", "nameless: {year: 1999}", "references.nameless",
         "a reference needs a title or a citation (expected one, got neither)"),
        ("references", "bad-url: {title: T, url: 'ftp://x'}", "references.bad-url.url",
         "expected a URL starting with http:// or https://, got 'ftp://x'"),
        ("claims", "undated: {speaker: me, quote: Hi.}", "claims.undated.date",
         "missing required key 'date' (expected a value, got nothing)"),
    ],
)
def test_declared_sources_are_checked(tmp_path: Path, section: str, body: str, path: str, message: str) -> None:
    write(tmp_path, MINE, "parent.yaml")
    found = problems(write(tmp_path, f"extends: parent.yaml\n{section}:\n  {body}\n"))
    assert [(p.path, p.message) for p in found] == [(path, message)]


def test_show_prints_declared_sources_and_they_load_back(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, MINE))
    shown = dump_scenario(s)
    assert yaml.safe_load(shown)["claims"]["beta-warning"]["quote"] == "Arming Alpha against us will be answered."
    assert load_scenario(write(tmp_path, shown, "shown.yaml")) == s
    assert "claims" not in yaml.safe_load(dump_scenario(load_scenario(DUEL))), "none declared, none printed"


# --- list items in --set and --vary paths ---------------------------------------------------------


def test_set_reaches_list_items() -> None:
    s = load_scenario(OTHER_CRISIS, ["state.fishing_pressure.drivers[0].delta=0.3"])
    assert s.state["fishing_pressure"].drivers[0].delta == 0.3
    assert s.state["fishing_pressure"].drivers[0].actor == "islandia", "the rest of the item is kept"
    s = load_scenario(DUEL, ["actors.alpha.policy.moves[0].action=threaten"])
    assert s.actors["alpha"].policy.moves[0].action == "threaten"


def test_set_replaces_a_whole_list_item() -> None:
    s = load_scenario(OTHER_CRISIS, ["state.fishing_pressure.effects[0]={actor: islandia, action: clash, weight: 2}"])
    assert s.state["fishing_pressure"].effects[0].model_dump() == {"actor": "islandia", "action": "clash", "weight": 2}


def test_a_bad_value_in_a_list_item_is_located_at_the_set() -> None:
    [p] = problems(OTHER_CRISIS, ["rounds=6", "state.fishing_pressure.drivers[0].delta=2"])
    assert str(p) == "--set:2:1: state.fishing_pressure.drivers[0].delta: expected a number in [-1, 1], got 2"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("state.fishing_pressure.drivers[3].delta=0.1",
         "--set:1:1: state.fishing_pressure.drivers[3].delta: no item 3 in state.fishing_pressure.drivers "
         "(expected an index from 0 to 0, got 3)"),
        ("injects.season_opens.force.islandia[0]=x",
         "--set:1:1: injects.season_opens.force.islandia[0]: cannot index a mapping "
         "(expected a list at injects.season_opens.force.islandia)"),
        ("state.fishing_pressure.drivers.delta=0.1",
         "--set:1:1: state.fishing_pressure.drivers.delta: cannot look up 'delta' in a list "
         "(expected an item such as state.fishing_pressure.drivers[0], got .delta)"),
        ("state.fishing_pressure.drivers[-1].delta=0.1",
         "--set:1:1: state.fishing_pressure.drivers[-1].delta: malformed path (expected KEY or KEY[INDEX] "
         "between dots, got 'drivers[-1]' in 'state.fishing_pressure.drivers[-1].delta')"),
    ],
)
def test_bad_list_paths_name_the_path_what_was_expected_and_found(override: str, message: str) -> None:
    assert [str(p) for p in problems(OTHER_CRISIS, [override])] == [message]


def test_the_paths_of_sampled_parameters_are_paths_for_set(tmp_path: Path) -> None:
    """A `param.<path>` column of the results names a path `--set` takes back."""
    s = load_scenario(OTHER_CRISIS, ["state.fishing_pressure.drivers[0].delta={uniform: [0.1, 0.2]}"])
    paths = [path for path, _ in sampled_parameters(s)]
    assert "state.fishing_pressure.drivers[0].delta" in paths
    for path in paths:
        assert isinstance(with_overrides(s, {path: 0.15}).model_dump(), dict)


def test_vary_reaches_list_items() -> None:
    base = load_scenario(OTHER_CRISIS)
    [factor] = parse_vary(["state.fishing_pressure.drivers[0].delta=0.1,0.3"])
    assert check_factor(base, factor, 1) == factor
    changed = with_overrides(base, {factor.path: factor.values[1]})
    assert changed.state["fishing_pressure"].drivers[0].delta == 0.3


def test_vary_with_an_index_out_of_range_is_located_at_the_vary() -> None:
    base = load_scenario(OTHER_CRISIS)
    [factor] = parse_vary(["state.fishing_pressure.drivers[2].delta=0.1,0.3"])
    with pytest.raises(ScenarioError) as info:
        check_factor(base, factor, 1)
    assert [str(p) for p in info.value.problems] == [
        "--vary:1:1: state.fishing_pressure.drivers[2].delta: no item 2 in state.fishing_pressure.drivers "
        "(expected an index from 0 to 0, got 2)"
    ]


# --- sim explain ---------------------------------------------------------------------------------


def test_explain_prints_red_lines_commitments_and_injects_with_their_sources(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, MINE)
    code, out, err = cli(capsys, "explain", str(path))
    assert (code, err) == (0, "")
    assert out == "\n".join([
        "mine: The duel, with a claim and a reference of its own.",
        "",
        "red line alpha.no_arms (owner alpha, drawn 2023-01-01)",
        "  crossed when gamma starts or takes arm toward beta, or supply read as such with probability 0",
        "  warning band: supply",
        "  declared response: strike toward gamma, after 0 rounds; its cost to the crosser 5",
        "  publicity beta(2, 2), specificity 0.5, initial credibility 0.5, propensity 0",
        "  why: Public, and the answer is named.",
        "  sources:",
        f"    {SPOKESMAN}",
        f"    {SCHELLING}",
        "",
        "red line alpha.no_sanctions (owner alpha, drawn 2023-07-01)",
        "  crossed when gamma starts or takes sanction toward alpha",
        "  warning band: none",
        "  declared response: sanction toward gamma, after 0 rounds; its cost to the crosser 2",
        "  publicity 0.5, specificity 1, initial credibility 0.5, propensity 0",
        "  sources:",
        f"    {JUDGEMENT}",
        "",
        "commitment pact (gamma and beta, one-way), status active",
        "  triggered by aggression against a guaranteed party (strike or war); with probability 0.3, strike or war read as aggression whoever started the fight",
        "  gamma owes strike toward the attacker, honoured with probability 1, after 0 rounds; its cost to an attacker 0",
        "  nullified at rate 0.1 per month once tension < 0.2",
        "  sources:",
        f"    {JUDGEMENT}",
        "",
        "agreement truce (alpha and beta)",
        "  stops strike, war between them; values alpha -20, beta -20; proposed at rate 0 per month",
        "  mediators: gamma (mediation 0); eases 0, break cost 0",
        "  sources:",
        f"    {JUDGEMENT}",
        "",
        "inject jolt: round 2 to 3, probability 0.5: alpha threaten toward beta; tension := 0.9",
        "  why: A jolt in rounds 2 and 3.",
        "  sources:",
        f"    {JUDGEMENT}",
        "",
        "scenario sources:",
        f"    {SPOKESMAN}",
        f"    {JUDGEMENT}",
        "",
    ])


def test_explain_a_parameter_gives_its_value_the_blocks_sources_and_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, MINE)
    code, out, _ = cli(capsys, "explain", str(path), "state.tension.drivers[0].delta")
    assert code == 0
    assert out.splitlines() == [
        "state.tension.drivers[0].delta = 0.1",
        "  part of state.tension.drivers[0]: {actor: alpha, actions: [threaten], targets: [], delta: 0.1, while_in_force: false}",
        "  why: How tense the duel is.",
        "  sources (of state.tension):",
        "    [duel-handbook] The duel handbook (2020)",
    ]


def test_explain_a_distribution(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, MINE)
    _, out, _ = cli(capsys, "explain", str(path), "red_lines.alpha.no_arms.publicity")
    assert out.splitlines()[:4] == [
        "red_lines.alpha.no_arms.publicity = beta(2, 2): drawn once per run, mean 0.5 "
        "(results: param.red_lines.alpha.no_arms.publicity)",
        "  why: Public, and the answer is named.",
        "  sources (of red_lines.alpha.no_arms):",
        f"    {SPOKESMAN}",
    ]
    _, inside, _ = cli(capsys, "explain", str(path), "red_lines.alpha.no_arms.publicity.beta[0]")
    assert inside == out, "a path into a distribution's arguments explains the distribution"


def test_explain_a_whole_block(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "explain", str(OTHER_CRISIS), "actors.coastland")
    assert code == 0
    s = load_scenario(OTHER_CRISIS)
    lines = out.splitlines()
    assert lines[0] == "actors.coastland: Coastland"
    assert "  resolve: beta(4, 4)" in lines and "  hostility: {islandia: 0.4}" in lines
    assert "  why: " + s.actors["coastland"].note.split(";")[0] in " ".join(lines)
    assert lines[-2:] == [f"    [{sid}] {load_digest().references[sid].citation}" for sid in s.actors["coastland"].sources]


def test_explain_a_declared_claim_says_what_cites_it(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = cli(capsys, "explain", str(OTHER_CRISIS), "claims.coastland-in-kind")
    assert out.splitlines() == [
        "claim coastland-in-kind (declared in the scenario)",
        "  [coastland-in-kind] Coastland's foreign minister (invented for this example, like the crisis), "
        "2024-01-15: \"Any seizure of our fishing boats will be answered in kind.\"",
        "  informs: red_lines.coastland.seizures; red_lines.coastland.seizures.response",
        "  cited by: the scenario, red_lines.coastland.seizures",
    ]


def test_explain_a_section_explains_each_entry(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = cli(capsys, "explain", str(OTHER_CRISIS), "red_lines")
    assert out.startswith("red_lines: 1 entry\n\nred line coastland.seizures (owner coastland, drawn 2024-07-01)\n")
    s = load_scenario(OTHER_CRISIS)
    _, out, _ = cli(capsys, "explain", str(OTHER_CRISIS), "dynamics")
    blocks = list(type(s.dynamics).model_fields)
    assert out.startswith(f"dynamics: {len(blocks)} entries\n\ndynamics.{blocks[0]}\n")
    assert out.count("  sources:\n") == len(blocks), "each block of the group with its own sources"


def test_explain_a_source_id_in_a_list_quotes_it(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = cli(capsys, "explain", str(OTHER_CRISIS), "red_lines.coastland.seizures.sources[0]")
    assert out.splitlines()[:2] == [
        "red_lines.coastland.seizures.sources[0] = coastland-in-kind",
        "  [coastland-in-kind] Coastland's foreign minister (invented for this example, like the crisis), "
        "2024-01-15: \"Any seizure of our fishing boats will be answered in kind.\"",
    ]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("actors.coastlnd.resolve",
         "actors.coastlnd.resolve: unknown key 'coastlnd' (expected one of: coastland, islandia) "
         "(did you mean 'coastland'?)"),
        ("state.fishing_pressure.drivers[4]",
         "state.fishing_pressure.drivers[4]: no item 4 in state.fishing_pressure.drivers "
         "(expected an index from 0 to 0, got 4)"),
    ],
)
def test_explain_an_unknown_path_exits_2_with_one_line(capsys: pytest.CaptureFixture[str], path: str,
                                                       message: str) -> None:
    code, out, err = cli(capsys, "explain", str(OTHER_CRISIS), path)
    assert (code, out) == (2, "")
    assert err.splitlines() == [f"error: {OTHER_CRISIS}: {message}"]


def test_explain_every_named_scenario_cites_only_known_sources(capsys: pytest.CaptureFixture[str]) -> None:
    """Each red line, commitment and inject of every named scenario is explained, each source resolved."""
    for name in scenario_names():
        s = load_scenario(name)
        text = explain(s)
        assert "(unknown source)" not in text
        for lid in s.red_lines:
            assert f"red line {lid} (owner {s.red_lines[lid].owner}, drawn {s.red_lines[lid].drawn})" in text
        for cid in s.commitments:
            assert f"commitment {cid} (" in text
        for iid in s.injects:
            assert f"inject {iid}: round " in text
        for line in s.red_lines.values():
            for sid in line.sources:
                if sid in load_digest().claims:
                    assert load_digest().claims[sid].quote in text


# --- sim list --------------------------------------------------------------------------------------


def test_list_groups_the_named_scenarios_by_world_each_once_with_its_first_sentence(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = cli(capsys, "list")
    assert (code, err) == (0, "")
    folders, world, listed = world_folders(), None, []
    for line in out.splitlines():
        if not line.startswith("  "):
            world = line.split()[0]
            continue
        name = line.split()[0]
        assert name in [p.stem for p in folders[world]], "under its own world's heading"
        first = load_scenario(name).description.split(". ")[0].rstrip(".") + "."
        assert line == f"  {name:<26}{textwrap.shorten(first, 100)}", "the first sentence, shortened to 100 characters"
        listed.append(name)
    assert sorted(listed) == scenario_names()
    assert (
        "korea-2024 (scenarios/korea-2024/): world files world/korea-2024-calibrated.yaml, world/korea-2024.yaml; "
        "record events/korea-2024.yaml"
    ) in out.splitlines()


def test_list_shortens_a_long_first_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    long = "word " * 40
    (tmp_path / "duel").mkdir()
    (tmp_path / "duel" / "long.yaml").write_text(f"extends: {DUEL}\nname: long\ndescription: {long}end. Second.\n")
    (tmp_path / "duel" / "short.yaml").write_text(f"extends: {DUEL}\nname: short\ndescription: Short one. Second.\n")
    monkeypatch.setattr("sim.scenario.catalog.scenario_dir", lambda: tmp_path)
    _, out, _ = cli(capsys, "list")
    heading, long_line, short_line = out.splitlines()
    assert heading == "duel (scenarios/duel/): world files none"
    assert short_line == f"  {'short':<26}Short one."
    assert long_line.startswith(f"  {'long':<26}word word") and long_line.endswith("[...]")
    assert len(long_line) <= 2 + 26 + 100


def test_a_name_written_in_two_worlds_is_refused_with_both_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    for world in ("east", "west"):
        (tmp_path / world).mkdir()
        (tmp_path / world / "clash.yaml").write_text(f"extends: {DUEL}\nname: clash\n")
    monkeypatch.setattr("sim.scenario.catalog.scenario_dir", lambda: tmp_path)
    code, out, err = cli(capsys, "run", "clash", "--runs", "10")
    assert (code, out) == (2, "")
    assert f"{tmp_path / 'west' / 'clash.yaml'}: a named scenario 'clash' exists twice" in err
    assert str(tmp_path / "east" / "clash.yaml") in err


# --- distributions print as written ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ({"beta": [2, 2]}, "beta(2, 2)"),
        ({"uniform": [0.2, 0.6]}, "uniform(0.2, 0.6)"),
        ({"normal": [0.5, 0.1]}, "normal(0.5, 0.1)"),
        ({"triangular": [0, 0.5, 1]}, "triangular(0, 0.5, 1)"),
    ],
)
def test_distributions_print_as_written(written: dict, shown: str) -> None:
    s = load_scenario(DUEL, {"actors.alpha.resolve": written})
    dist = s.actors["alpha"].resolve
    assert isinstance(dist, Distribution)
    assert (str(dist), repr(dist), f"{dist}", f"{[dist]}") == (shown, shown, shown, f"[{shown}]")
    assert show(written) == shown


def test_no_python_repr_of_a_distribution_reaches_users(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, MINE)
    outputs = [cli(capsys, "explain", str(path))[1], cli(capsys, "explain", str(path), "red_lines")[1],
               cli(capsys, "explain", str(path), "red_lines.alpha.no_arms.publicity")[1]]
    outputs.append(cli(capsys, "show", str(path), "--set", "rounds={beta: [2, 2]}")[2])
    outputs.append(cli(capsys, "validate", str(write(tmp_path, MINE + "rounds: {uniform: [1, 2]}\n", "bad.yaml")))[2])
    outputs.append(cli(capsys, "validate", str(write(tmp_path, MINE + "actors: {alpha: {resolve: {beta: [0, 1]}}}\n",
                                                     "zero.yaml")))[2])
    for text in outputs:
        assert "Distribution(" not in text and "{'" not in text, text
    assert "rounds: expected a valid integer, got uniform(1, 2)" in outputs[-2]
    assert outputs[-1].endswith("actors.alpha.resolve: expected beta shape parameters > 0, got beta(0, 1)\n")


def test_summaries_name_the_sampled_distributions(tmp_path: Path) -> None:
    (tmp_path / "scenario.yaml").write_text(dump_scenario(load_scenario(OTHER_CRISIS)), encoding="utf-8")
    assert _sampled(tmp_path, []) == (
        "sampled per run: actors.coastland.resolve ~ beta(4, 4), actors.islandia.risk_tolerance ~ uniform(0.4, 0.7)"
    )
    assert _sampled(tmp_path, ["actors.coastland.resolve"]) == (
        "sampled per run: actors.islandia.risk_tolerance ~ uniform(0.4, 0.7)"
    ), "a swept path is fixed at each point, not sampled"


def test_a_run_summary_names_the_sampled_distributions(tmp_path: Path) -> None:
    from sim.api import run

    result = run(OTHER_CRISIS, runs=20, seed=1, rounds=6, out=tmp_path / "r", workers=1)
    assert result.summary().splitlines()[1] == (
        "sampled per run: actors.coastland.resolve ~ beta(4, 4), actors.islandia.risk_tolerance ~ uniform(0.4, 0.7)"
    )
