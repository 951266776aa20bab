"""A world served on free loopback ports with its inject runner, for the tests that fire injects."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sandbox.classroom.injects import Injects
from sandbox.classroom.progress import Progress
from sandbox.serve import Sandbox


def serve_with_injects(world: Path, state: Path) -> Iterator[tuple[Sandbox, Progress, Injects]]:
    """The sandbox of a world (no classroom port), its progress store and the inject runner
    it hands its live chain to; closed when the generator ends."""
    with Sandbox(
        world, socks_port=0, http_port=0, explorer_port=0, state=state, classroom_port=None
    ) as sb:
        progress = Progress(state)
        injects = Injects(world, state, progress, sb, sb.live)
        try:
            yield sb, progress, injects
        finally:
            injects.close()
            progress.close()
