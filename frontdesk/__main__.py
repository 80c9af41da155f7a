"""``python -m frontdesk``: the CLI, for places where the console script is not on PATH."""

from frontdesk.cli.main import app

if __name__ == "__main__":  # not when a spawned child re-imports it (frontdesk.isolated)
    app()
