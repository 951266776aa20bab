"""`python -m sandbox`, the same as the `sandbox` command."""

from .cli import cli

cli()
