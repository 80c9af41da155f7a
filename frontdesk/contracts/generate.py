"""`python -m frontdesk.contracts.generate`: rewrite everything derived from the schemas.

That is the event models and, in a source checkout, `docs/events.md`; `--check` only
reports what is stale (exit 1), for CI. Kept apart from the logic so importing
`frontdesk.contracts` never imports this entry point.
"""

from __future__ import annotations

import sys

from frontdesk.contracts.catalogue import CATALOGUE_PATH, catalogue_up_to_date, write_catalogue
from frontdesk.contracts.models import MODELS_PATH, generate_models, models_up_to_date


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    with_catalogue = CATALOGUE_PATH.parent.is_dir()  # only in a source checkout
    if "--check" in args:
        stale = [] if models_up_to_date() else [MODELS_PATH]
        if with_catalogue and not catalogue_up_to_date():
            stale.append(CATALOGUE_PATH)
        for path in stale:
            print(f"{path} is stale: run python -m frontdesk.contracts.generate")
        return 1 if stale else 0
    print(f"{MODELS_PATH}: {'written' if generate_models() else 'unchanged'}")
    if with_catalogue:
        print(f"{CATALOGUE_PATH}: {'written' if write_catalogue() else 'unchanged'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
