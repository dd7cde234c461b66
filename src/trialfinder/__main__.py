"""`python -m trialfinder` runs the CLI."""

from trialfinder.cli.main import run

run()
