"""Exceptions of the sandbox engine.

SandboxError                  every error the engine raises on purpose
├── ScenarioError             a scenario file is missing, unreadable or invalid;
│                             .problems lists every Problem(file, line, path, message)
├── WorldError                a world file is missing, not a world, or of another version
├── BuildError                the builder could not make the world the scenario asks for
├── CheckError                `sandbox check` cannot run: no objectives, no or a broken
│                             reference solution, an unknown seat
└── InjectError               an inject could not be fired (unknown id or seat, a site that
                              is not running, an actor without coins...); nothing recorded
"""

from __future__ import annotations

from dataclasses import dataclass


class SandboxError(Exception):
    """Base class of the engine's own errors."""


@dataclass(frozen=True)
class Problem:
    """One mistake in a scenario file, at a line and a dotted field path."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        """Render as FILE:LINE: path.to.field: message."""
        where = f"{self.path}: " if self.path else ""
        return f"{self.file}:{self.line}: {where}{self.message}"


class ScenarioError(SandboxError):
    """A scenario that cannot be used; every problem found is listed."""

    def __init__(self, problems: list[Problem]):
        """Keep the problems, sorted by line."""
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.path))
        super().__init__("\n".join(str(p) for p in self.problems))


class WorldError(SandboxError):
    """A world file that cannot be opened as a world."""


class BuildError(SandboxError):
    """The builder could not make the world the scenario asks for."""


class CheckError(SandboxError):
    """A solvability check that cannot run at all (not one whose objectives fail)."""


class InjectError(SandboxError):
    """An inject that could not be fired; it was not recorded as fired."""
