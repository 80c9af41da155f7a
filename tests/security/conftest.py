"""The security suite: one hostile scenario per file, each against the real parts.

Every tenant is hostile: its producers and workers are code we do not control, and
operators mistype files and forms. Each file states the hole it keeps closed in its
docstring and asserts both that the hole stays closed and that nothing was lost or
stalled for the other tenants. The threat model and the test behind each claim are in
docs/security.md.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/security" in str(item.path):
            item.add_marker(pytest.mark.security)
