#!/bin/sh
# Mutation testing, step 1 (docs/hardening.md): a copy of the checkout at COPY, set up for mutmut 3.
# Usage: tools/mutation/prepare.sh COPY [REV]   (REV defaults to HEAD)
set -eu
copy=$1; rev=${2:-HEAD}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$copy"
git archive "$rev" | tar -x -C "$copy"
cp "$here/subprocess_conftest.py" "$copy/tests/conftest.py"
cat >> "$copy/pyproject.toml" <<'TOML'

[tool.mutmut]
source_paths = ["sim/experiments/", "sim/report/"]
also_copy = ["sim/", "scenarios/", "seeds/", "events/", "docs/", "README.md", "benchmarks/", "results/"]
pytest_add_cli_args = ["-n", "0", "-p", "no:cacheprovider", "-m", "not slow", "-q"]
pytest_add_cli_args_test_selection = ["tests/"]
TOML
echo "prepared $copy at $(git rev-parse --short "$rev"); next:"
echo "  cd $copy && MPLBACKEND=Agg nice mutmut run 'nothing.matches*'   # mutants + which tests reach each function"
echo "  python3 $here/mutants.py $copy sample 6 > sample.txt && MPLBACKEND=Agg nice mutmut run --max-children 1 \$(cat sample.txt)"
echo "  python3 $here/mutants.py $copy tally sample.txt"
