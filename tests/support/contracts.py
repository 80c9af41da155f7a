"""Codecs of consumers that ship fewer schema versions than the producers use.

A consumer deployed before a producer upgrade has an older `schemas/` and models generated
from it; these helpers build exactly that from the repository's schemas, for the
old-consumer tests.
"""

from __future__ import annotations

import shutil
import sys
import types
from pathlib import Path

from frontdesk.codec import Codec, SchemaLookup
from frontdesk.contracts.models import render_models
from frontdesk.contracts.registry import SchemaRegistry, SchemaVersion, default_registry


def evolved() -> list[tuple[SchemaVersion, SchemaVersion]]:
    """Every (writer v_n, reader v_{n-1}) pair of the shipped schemas."""
    registry = default_registry()
    return [
        (versions[n], versions[n - 1])
        for t in registry.event_types
        for versions in [registry.versions(t)]
        for n in range(1, len(versions))
    ]


def codec_without(
    root: Path, newer_than: dict[str, int], schemas: SchemaLookup | None = None
) -> Codec:
    """The codec of a consumer whose `schemas/` (copied under `root`) stops at
    `newer_than[type]` for the types named, with models generated from that directory."""
    source = default_registry().root
    shutil.copytree(source, root, dirs_exist_ok=True)
    for event_type, last in newer_than.items():
        for path in (root / "events").glob(f"{event_type}.v*.avsc"):
            if int(path.name.split(".v")[1].split(".")[0]) > last:
                path.unlink()
    registry = SchemaRegistry.load(root)
    module = types.ModuleType(f"old_consumer_models_{abs(hash(root))}")
    sys.modules[module.__name__] = module  # pydantic resolves annotations through it
    exec(render_models(registry), module.__dict__)  # the models an old consumer was built with
    models = module.EVENT_TYPES
    assert isinstance(models, dict)
    codec = Codec(registry, models=models)
    return codec.with_schemas(schemas) if schemas is not None else codec
