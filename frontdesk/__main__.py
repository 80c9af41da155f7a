"""``python -m frontdesk``: the CLI, for places where the console script is not on PATH."""

from frontdesk.cli.main import app

app()
