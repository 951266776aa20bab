"""Code rules the whole tree keeps: ruff, mypy, and the toolkit's network-only boundary (docs/architecture.md, rule 3)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _ruff(*args: str) -> subprocess.CompletedProcess:
    """Run ruff on the repository."""
    exe = shutil.which("ruff")
    cmd = [exe] if exe else [sys.executable, "-m", "ruff"]
    return subprocess.run([*cmd, *args], cwd=ROOT, capture_output=True, text=True)


@pytest.mark.parametrize("args", [("check", "."), ("format", "--check", ".")])
def test_ruff(args):
    """`ruff check` and `ruff format --check` pass."""
    result = _ruff(*args)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy():
    """mypy (configured in pyproject.toml) passes on the engine and the toolkit."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "sandbox", "investigator_tools"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_toolkit_never_imports_the_engine():
    """investigator_tools reaches the sandbox only over the network: no engine imports."""
    forbidden = ("sandbox", "marketplaces", "scenarios")
    for path in (ROOT / "investigator_tools").rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{path}: imports {name}"
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert "world.db" not in node.value, f"{path}: refers to a world file"
