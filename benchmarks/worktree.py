"""Another commit of this repository, checked out beside the current one for side-by-side runs.

`checkout(commit)` makes a temporary detached git worktree and removes it afterwards (also on
error or Ctrl-C). `env_for(tree)` is an environment whose Python imports `sim` from that tree
first: PYTHONPATH comes before the editable install of the current tree, and the package finds
its scenarios beside itself, so the old code runs on its own scenarios with this venv's packages.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], check=True, capture_output=True, text=True).stdout.strip()


@contextlib.contextmanager
def checkout(commit: str) -> Iterator[Path]:
    """A temporary worktree of `commit` (detached), removed on exit."""
    parent = Path(tempfile.mkdtemp(prefix="sim-worktree-"))
    tree = parent / git("rev-parse", "--short", commit)
    git("worktree", "add", "--detach", str(tree), commit)
    try:
        yield tree
    finally:
        git("worktree", "remove", "--force", str(tree))
        with contextlib.suppress(OSError):
            parent.rmdir()


def env_for(tree: Path | None) -> dict[str, str]:
    """This process's environment, importing `sim` from `tree` (None: the current checkout)."""
    env = dict(os.environ)
    root = str(tree if tree is not None else REPO)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return env
