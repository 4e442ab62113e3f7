"""Memory and CPU against the number of actors, for worlds whose actors each deal with a few
neighbours only (issue 19, fault 11): the engine keeps pair state per declared dyad, so cost
should follow the dyads, not the square of the actors.

`ring_world(n)` is a synthetic world on the test world's ladder (tests/data/duel.yaml): n actors
on a ring, each allowed to act toward its two neighbours on either side (sanctions and war toward
the next one and the previous one, arms to the next one against the one after it), a red line
and a treaty every ten actors, a truce between the first two, utility policies, noisy
perception and moving hostility. Its declared dyads grow as n, its pairs of actors as n^2.

`python benchmarks/dyads.py [--old COMMIT]` runs one block of replicates of each world through
the engine in a process of its own, with the old commit (default 43b4ad4, the last one with
(n, n, R) pair state) and with this tree, side by side, and prints peak memory (PSS and RSS)
and CPU seconds per 1,000 runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import measure  # noqa: E402
from worktree import checkout, env_for  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = REPO / "tests" / "data" / "duel.yaml"
# One block of replicates through the engine, as a worker runs it (the results table is left out:
# before this change it could not label more than 127 actors)
BLOCK = """
import sys
from sim.engine.model import EscalationModel
model = EscalationModel(sys.argv[1], replicates=int(sys.argv[2]), rng=1)
while model.running:
    model.step()
"""
# (actors, runs): one 10,000-run block for the small worlds, fewer runs for the large ones
SIZES = [(10, 10_000), (50, 10_000), (200, 1_000), (1000, 30)]


def ring_world(n: int) -> dict:
    """A scenario (as YAML data) of `n` >= 5 actors on a ring; see the module docstring."""
    base = yaml.safe_load(TEMPLATE.read_text())
    name = [f"a{i:04d}" for i in range(n)]

    def at(i: int) -> str:
        return name[i % n]

    actor = {k: v for k, v in base["actors"]["alpha"].items() if k not in ("policy", "label")}
    actor |= {"intelligence": 0.7, "reciprocity": 0.5, "persistence": 0.5}
    actions = base["actions"]
    near = {at(i): [at(i - 2), at(i - 1), at(i + 1), at(i + 2)] for i in range(n)}
    for aid in ("talk", "threaten", "strike"):
        actions[aid]["allowed"] = near
    actions["idle"]["allowed"] = {at(i): [at(i + 1)] for i in range(n)}
    for aid in ("sanction", "war"):
        actions[aid]["allowed"] = {at(i): [at(i - 1), at(i + 1)] for i in range(n)}
    for aid in ("supply", "arm"):
        actions[aid]["allowed"] = {at(i): [at(i + 1)] for i in range(n)}
        actions[aid]["against"] = {at(i + 1): at(i + 2) for i in range(n)}
    line = base["red_lines"]["alpha.no_arms"]
    red_lines = {
        f"{at(i)}.no_strikes": line | {
            "owner": at(i),
            "trigger": {"actor": at(i + 1), "actions": ["strike"], "target": at(i), "slack": 0.0},
            "warning": ["threaten"],
            "response": {"action": "strike", "target": at(i + 1), "lag": 0},
        }
        for i in range(0, n, 10)
    }
    pact = base["commitments"]["pact"]
    commitments = {
        f"pact{i}": pact | {
            "parties": [at(i + 2), at(i + 1)],
            "trigger": {"actions": ["strike", "war"], "ambiguous": ["threaten"], "attackers": [at(i)]},
            "obligations": {at(i + 2): {"action": "strike", "toward": "attacker", "honour": 0.8, "lag": 0}},
        }
        for i in range(0, n, 10)
    }
    truce = base["agreements"]["truce"] | {
        "parties": [at(0), at(1)], "value": {at(0): -2.0, at(1): -2.0}, "mediators": [at(2)],
        "proposal_rate": 0.1, "eases": 0.2,
    }
    dynamics = base["dynamics"]
    dynamics["perception"] |= {"misperception": 0.5, "spiral_bias": 0.3}
    dynamics["hostility"] |= {"reaction": 0.3, "fatigue": 0.05, "approach": 0.1}
    dynamics["utility"] |= {"hostility": 1.0, "escalation_aversion": 1.0, "deterrence": 1.0}
    dynamics["enforcement"] |= {"bias": 0.0, "resolve": 2.0}
    return base | {
        "name": f"ring-{n}",
        "description": f"{n} actors on a ring, each dealing with its four nearest neighbours.",
        "rounds": 12,
        "dynamics": dynamics,
        "actors": {a: actor | {"label": a} for a in name},
        "actions": actions,
        "red_lines": red_lines,
        "commitments": commitments,
        "agreements": {"truce": truce},
        "state": {"morale": base["state"]["morale"] | {"label": "Morale"}},
    }


class _Plain(yaml.SafeDumper):
    """Writes shared values out in full: scenario files allow no YAML aliases."""

    def ignore_aliases(self, data) -> bool:
        return True


def write_world(n: int, folder: Path) -> Path:
    path = folder / f"ring-{n}.yaml"
    path.write_text(yaml.dump(ring_world(n), Dumper=_Plain, sort_keys=False))
    return path


def block(world: Path, runs: int, tree: Path | None, cwd: str) -> tuple[float, float, float]:
    """Peak MiB PSS, peak MiB RSS and CPU seconds of one block of `runs` replicates."""
    m = measure([sys.executable, "-c", BLOCK, str(world), str(runs)], env=env_for(tree), cwd=cwd)
    if m.result.returncode != 0:
        raise SystemExit(f"{world.name} with {tree or 'this tree'} failed: {m.result.stderr[-2000:]}")
    return m.pss_mib, m.rss_mib, m.cpu_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", default="43b4ad4", help="the commit to compare with")
    parser.add_argument("--sizes", default=",".join(f"{n}:{r}" for n, r in SIZES), help="actors:runs,...")
    args = parser.parse_args()
    sizes = [tuple(int(x) for x in item.split(":")) for item in args.sizes.split(",")]
    print(f"old: {args.old}; new: this tree. One block of `runs` replicates per process: peak MiB PSS (RSS),")
    print("CPU s of the block, and CPU ms per run at the margin ((CPU of the block - CPU of a block of")
    print("a tenth of the runs) / nine tenths of the runs: start-up and set-up left out)")
    print(f"{'actors':>6} {'dyads':>6} {'runs':>6} | {'old MiB':>15} {'CPU s':>6} {'ms/run':>7} | "
          f"{'new MiB':>15} {'CPU s':>6} {'ms/run':>7} | {'memory':>6} {'ms/run':>6}")
    with checkout(args.old) as old_tree, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for n, runs in sizes:
            world = write_world(n, work)
            cells, ratios = [], []
            for tree in (old_tree, None):
                pss, rss, cpu = block(world, runs, tree, tmp)
                margin = (cpu - block(world, runs // 10, tree, tmp)[2]) / (runs - runs // 10) * 1000
                cells.append(f"{pss:>6.0f} ({rss:>6.0f}) {cpu:>6.1f} {margin:>7.2f}")
                ratios.append((pss, margin))
            (old_pss, old_margin), (new_pss, new_margin) = ratios
            print(f"{n:>6} {_dyads(world):>6} {runs:>6} | {cells[0]} | {cells[1]} | "
                  f"{old_pss / new_pss:>5.1f}x {old_margin / new_margin:>5.1f}x", flush=True)


def _dyads(world: Path) -> int:
    from sim.engine.model import EscalationModel

    return EscalationModel(world, replicates=1, rng=0).dyads.size


if __name__ == "__main__":
    main()
