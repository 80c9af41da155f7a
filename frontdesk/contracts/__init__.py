"""The event contracts: schema loading, compatibility proofs, model and catalogue generation.

Everything here runs without a broker; it is what `frontdesk schemas generate|check|
catalogue` calls and what the build runs so that no schema change can break a consumer.
"""

from __future__ import annotations

from pathlib import Path

from frontdesk.contracts.catalogue import (
    CATALOGUE_PATH,
    catalogue_up_to_date,
    render_catalogue,
    write_catalogue,
)
from frontdesk.contracts.compatibility import (
    CompatibilityIssue,
    check_compatibility,
    find_incompatibilities,
)
from frontdesk.contracts.conventions import find_convention_issues
from frontdesk.contracts.models import (
    MODELS_PATH,
    generate_models,
    models_up_to_date,
    render_models,
)
from frontdesk.contracts.registry import (
    Compatibility,
    SchemaRegistry,
    SchemaVersion,
    default_registry,
    schemas_dir,
)
from frontdesk.contracts.samples import sample_datum, sample_event


def check_schemas(
    registry: SchemaRegistry | None = None,
    *,
    models_path: Path | None = MODELS_PATH,
    catalogue_path: Path | None = CATALOGUE_PATH,
) -> list[str]:
    """Every problem with the schemas and what is generated from them; empty means fine.

    Pass `None` for a path to skip that freshness check (e.g. the catalogue in an
    installed package, where there is no docs/ directory).
    """
    registry = registry or default_registry()
    problems = find_convention_issues(registry)
    problems += [str(issue) for issue in find_incompatibilities(registry)]
    if models_path is not None and not models_up_to_date(registry, models_path):
        problems.append(f"{models_path} is stale: run `frontdesk schemas generate`")
    if catalogue_path is not None and not catalogue_up_to_date(registry, catalogue_path):
        problems.append(f"{catalogue_path} is stale: run `frontdesk schemas catalogue`")
    return problems


__all__ = [
    "CATALOGUE_PATH",
    "MODELS_PATH",
    "Compatibility",
    "CompatibilityIssue",
    "SchemaRegistry",
    "SchemaVersion",
    "catalogue_up_to_date",
    "check_compatibility",
    "check_schemas",
    "default_registry",
    "find_convention_issues",
    "find_incompatibilities",
    "generate_models",
    "models_up_to_date",
    "render_catalogue",
    "render_models",
    "sample_datum",
    "sample_event",
    "schemas_dir",
    "write_catalogue",
]
