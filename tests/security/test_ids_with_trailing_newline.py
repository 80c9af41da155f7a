"""Names that reach Kafka or SQL refuse a trailing newline.

Hole: Python's `re.match` with `$` accepts a string that ends in "\\n", so a worker id, a
group id, an app name or an outbox table name such as "acme\\n" passed the checks and went
on into group ids, transactional ids and SQL. Contract: each check matches the whole
string; the same names without the newline are still accepted.
"""

from __future__ import annotations

import pytest

from frontdesk.outbox.schema import table_name
from frontdesk.worker.app import App
from frontdesk.worker.config import WorkerConfig
from frontdesk.worker.errors import PolicyError


@pytest.mark.parametrize("field", ["worker_id", "group_id"])
def test_worker_ids_refuse_a_trailing_newline(field: str) -> None:
    assert getattr(WorkerConfig(**{field: "ops-1"}), field) == "ops-1"
    with pytest.raises(PolicyError, match="invalid"):
        WorkerConfig(**{field: "ops-1\n"})


def test_app_name_refuses_a_trailing_newline() -> None:
    assert App("housekeeping", queue="operational").name == "housekeeping"
    with pytest.raises(PolicyError, match="invalid app name"):
        App("housekeeping\n", queue="operational")


def test_outbox_table_refuses_a_trailing_newline() -> None:
    assert table_name("pms_outbox") == "pms_outbox"
    with pytest.raises(ValueError, match="invalid outbox table name"):
        table_name("pms_outbox\n")
