"""The `investigate` command: the trainee's toolkit."""

from __future__ import annotations

import click

from . import __version__


@click.group()
@click.version_option(__version__, prog_name="investigate")
def cli():
    """Work a darknet case: crawl, extract, trace, request, report.

    \b
    Example:
        investigate --version
    """
