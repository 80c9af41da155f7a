"""``python -m frontdesk.worker MODULE:APP``: one worker process (what the supervisor runs)."""

from frontdesk.cli.worker import main

main()
