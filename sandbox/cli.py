"""The `sandbox` command: validate scenarios, build worlds, describe them."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from . import __version__
from .errors import BuildError, ScenarioError, WorldError


def _fail(message: str) -> None:
    """Print an error to stderr and exit 1."""
    click.echo(message, err=True)
    sys.exit(1)


def _load(file: str | None, seed: int | None = None):
    """Load a scenario or exit 1 listing every problem in it."""
    from .scenario import load_scenario

    try:
        scenario = load_scenario(file)
    except ScenarioError as e:
        for problem in e.problems:
            click.echo(str(problem), err=True)
        sys.exit(1)
    return scenario if seed is None else scenario.with_seed(seed)


@click.group()
@click.version_option(__version__, prog_name="sandbox")
def cli():
    """Offline darkweb-investigation training sandbox.

    \b
    Example:
        sandbox build                 # the built-in default scenario -> world.db
        sandbox info world.db --json
    """


@cli.command()
@click.argument("file")
def validate(file):
    """Check a scenario file and list every problem as FILE:LINE: field: message.

    Exits 0 when the file is valid, 1 otherwise.

    \b
    Example:
        sandbox validate scenarios/default.yaml
    """
    scenario = _load(file)
    click.echo(
        f"{scenario.source}: valid ({len(scenario.actors)} actors, {len(scenario.sites)} sites, "
        f"{len(scenario.flows)} flows)"
    )


@cli.command()
@click.argument("file", required=False)
@click.option("--seed", type=int, help="World seed (default: the scenario's world.seed).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default="world.db",
    show_default=True,
    help="Where to write the world.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def build(file, seed, out, quiet):
    """Build the world of a scenario (default: the built-in default scenario).

    The same scenario and seed always give the same world, row for row. An existing
    world at --out is replaced only once the new one is complete.

    \b
    Example:
        sandbox build scenarios/default.yaml --seed 7 --out class1.db
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from .world.build import build_world

    scenario = _load(file, seed)
    started = time.perf_counter()
    columns = (
        TextColumn("{task.description:<8}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, disable=quiet, transient=False) as bar:
        tasks: dict[str, int] = {}

        def step(stage: str, done: int, total: int) -> None:
            """Advance the bar of a build stage."""
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        try:
            info = build_world(scenario, out, step)
        except BuildError as e:
            _fail(f"{scenario.source}: build failed:\n{e}")
    counts = info["counts"]
    click.echo(
        f"{out}: {scenario.name} seed {info['seed']}: {counts['blocks']} blocks, "
        f"{counts['transactions']} transactions, {counts['addresses']} addresses, "
        f"{counts['actors']} actors, {counts['sites']} sites, {counts['listings']} listings "
        f"in {time.perf_counter() - started:.1f} s"
    )


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False), default="world.db")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(path, as_json):
    """Describe a built world: scenario, seed, digest, counts and sites.

    \b
    Example:
        sandbox info world.db --json
    """
    from .world.read import world_info

    try:
        data = world_info(path)
    except WorldError as e:
        _fail(str(e))
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"{data['title']} ({data['scenario']}, seed {data['seed']})")
    click.echo(f"digest  {data['digest']}")
    click.echo("counts  " + ", ".join(f"{k} {v}" for k, v in data["counts"].items()))
    for site in data["sites"]:
        click.echo(f"  {site['kind']:<9} {site['name']:<28} {site['address']}")
