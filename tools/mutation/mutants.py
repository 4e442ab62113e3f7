"""Mutation testing, steps 2 and 3 (docs/hardening.md), on a copy made by prepare.sh.

    python3 mutants.py COPY count           mutants per module, and how many a default test reaches
    python3 mutants.py COPY sample K        K reached mutants per module (fixed choice), names on stdout
    python3 mutants.py COPY tally FILE      the outcome of the mutants named in FILE, per module, and the survivors
    python3 mutants.py COPY common OTHER K  K mutants per module reached in both COPY and OTHER (fixed choice):
                                            the same names to run in both, for a before/after comparison
    python3 mutants.py COPY new OTHER K     K reached mutants per module of the modules OTHER does not have

mutmut 3 runs each mutant against only the tests that reach its function (recorded by its stats
run), so "restricted to the tests that cover it" is mutmut's own selection; the sample is what
keeps a run within the hour on two shared cores.
"""

from __future__ import annotations

import collections
import glob
import json
import random
import sys

STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", 36: "timeout",
          24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout", None: "not checked"}


def mutants(copy: str) -> list[tuple[str, str, bool, int | None]]:
    reached = json.load(open(f"{copy}/mutants/mutmut-stats.json"))["tests_by_mangled_function_name"]
    found = []
    for meta in sorted(glob.glob(f"{copy}/mutants/sim/**/*.py.meta", recursive=True)):
        module = meta[len(copy) + len("/mutants/"):-len(".py.meta")].replace("/", ".")
        for name, code in json.load(open(meta))["exit_code_by_key"].items():
            found.append((module, name, bool(reached.get(name.rsplit("__mutmut_", 1)[0])), code))
    return found


def sample(found: list[tuple[str, str, bool, int | None]], k: int) -> str:
    """K reached mutants per module, drawn by random.Random("19/<module>") from the sorted names."""
    by = collections.defaultdict(list)
    for module, name, reached, _ in found:
        if reached:
            by[module].append(name)
    return "\n".join(name for module in sorted(by)
                     for name in random.Random(f"19/{module}").sample(sorted(by[module]), min(k, len(by[module]))))


def main(copy: str, command: str, *args: str) -> None:
    every = mutants(copy)
    if command == "count":
        per = collections.Counter(m for m, *_ in every)
        hit = collections.Counter(m for m, _, reached, _ in every if reached)
        for module in sorted(per):
            print(f"{module:36} {per[module]:6} {hit[module]:6}")
        print(f"{'total':36} {sum(per.values()):6} {sum(hit.values()):6}")
    elif command == "sample":
        print(sample(every, int(args[0])))
    elif command == "common":
        other = {(m, name) for m, name, reached, _ in mutants(args[0]) if reached}
        print(sample([m for m in every if m[:2] in other], int(args[1])))
    elif command == "new":
        old = {m for m, *_ in mutants(args[0])}
        print(sample([m for m in every if m[0] not in old], int(args[1])))
    elif command == "tally":
        wanted = set(open(args[0]).read().split())
        table = collections.defaultdict(collections.Counter)
        survivors = []
        for module, name, _, code in every:
            if name in wanted:
                status = STATUS.get(code, "suspicious")
                table[module][status] += 1
                if status == "survived":
                    survivors.append(name)
        columns = ["killed", "survived", "timeout", "no tests", "suspicious", "not checked"]
        print(f"{'module':36}" + "".join(f"{c:>12}" for c in columns))
        for module in sorted(table):
            print(f"{module:36}" + "".join(f"{table[module][c]:12}" for c in columns))
        total = sum(table.values(), collections.Counter())
        print(f"{'total':36}" + "".join(f"{total[c]:12}" for c in columns))
        print("\nsurvivors (mutmut show NAME in the copy prints the change):")
        print("\n".join(survivors))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(*sys.argv[1:])
