"""The shipped schemas load, follow the house rules, evolve compatibly and match the models.

Broken schema directories are built in tmp dirs to show each check fails loudly, naming the
event, the versions and the field.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from frontdesk.contracts import (
    SchemaRegistry,
    catalogue_up_to_date,
    check_compatibility,
    check_schemas,
    default_registry,
    find_convention_issues,
    find_incompatibilities,
    models_up_to_date,
    render_models,
    schemas_dir,
)
from frontdesk.errors import SchemaCompatibilityError, SchemaError
from frontdesk.events import EVENT_TYPES
from frontdesk.queues import QueueType

REQUIRED = {
    "BookingCreated",
    "BookingModified",
    "BookingCancelled",
    "GuestCheckedIn",
    "GuestCheckedOut",
    "AvailabilityChanged",
    "RateChanged",
    "GuestMessageReceived",
    "GuestMessageSent",
    "NotificationRequested",
    "CleaningTaskScheduled",
    "CleaningTaskCompleted",
    "MaintenanceRequested",
    "ChannelSyncRequested",
    "PaymentCaptured",
    "PaymentRefunded",
    "ChannelBookingAcknowledged",
    "RoomTypeCapacityChanged",
}


def _rabin_fingerprint(data: bytes) -> int:
    """CRC-64-AVRO exactly as the Avro specification's reference code computes it."""
    empty = 0xC15D213AA4D7A795
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (empty & -(fp & 1))
        table.append(fp)
    fp = empty
    for byte in data:
        fp = (fp >> 8) ^ table[(fp ^ byte) & 0xFF]
    return fp


def _copy_schemas(tmp_path: Path) -> Path:
    root = tmp_path / "schemas"
    shutil.copytree(schemas_dir(), root)
    return root


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _add_version(root: Path, event_type: str, version: int, schema: dict[str, Any]) -> None:
    path = root / "events" / f"{event_type}.v{version}.avsc"
    path.write_text(json.dumps(schema, indent=2))


def _v3_from_v2(root: Path) -> dict[str, Any]:
    return _load(root / "events" / "BookingCreated.v2.avsc")


def test_every_event_type_is_shipped_with_a_model() -> None:
    registry = default_registry()
    assert set(registry.event_types) >= REQUIRED
    assert set(EVENT_TYPES) == set(registry.event_types)


def test_fingerprints_follow_the_specification_little_endian() -> None:
    for sv in default_registry():
        expected = _rabin_fingerprint(sv.canonical_form.encode())
        assert sv.fingerprint == expected.to_bytes(8, "little")
        assert sv.header == b"\xc3\x01" + sv.fingerprint


def test_canonical_form_expands_the_shared_envelope() -> None:
    canonical = default_registry().get("BookingCreated", 1).canonical_form
    assert canonical.startswith('{"name":"frontdesk.events.BookingCreated","type":"record"')
    assert '"name":"frontdesk.common.EventMeta"' in canonical
    assert "doc" not in canonical
    assert "frontdesk.queue" not in canonical


def test_booking_created_has_a_real_v2() -> None:
    registry = default_registry()
    assert [sv.version for sv in registry.versions("BookingCreated")] == [1, 2]
    v1_fields = {f["name"] for f in registry.get("BookingCreated", 1).schema["fields"]}
    v2_fields = {f["name"]: f for f in registry.latest("BookingCreated").schema["fields"]}
    assert set(v2_fields) - v1_fields == {"special_requests", "loyalty_id"}
    assert v2_fields["special_requests"]["default"] is None


@pytest.mark.parametrize(
    ("event_type", "queue", "ordered"),
    [
        ("BookingCreated", QueueType.OPERATIONAL, True),
        ("BookingModified", QueueType.OPERATIONAL, True),
        ("BookingCancelled", QueueType.OPERATIONAL, True),
        ("GuestCheckedIn", QueueType.OPERATIONAL, True),
        ("GuestCheckedOut", QueueType.OPERATIONAL, True),
        ("CleaningTaskScheduled", QueueType.OPERATIONAL, True),
        ("MaintenanceRequested", QueueType.OPERATIONAL, False),
        ("PaymentCaptured", QueueType.OPERATIONAL, True),
        ("GuestMessageReceived", QueueType.AUTOMATION, True),
        ("NotificationRequested", QueueType.AUTOMATION, False),
        ("AvailabilityChanged", QueueType.SYNC, True),
        ("RateChanged", QueueType.SYNC, True),
        ("ChannelSyncRequested", QueueType.SYNC, False),
        ("ChannelBookingAcknowledged", QueueType.SYNC, False),
    ],
)
def test_queue_and_ordering(event_type: str, queue: QueueType, ordered: bool) -> None:
    latest = default_registry().latest(event_type)
    model = EVENT_TYPES[event_type]
    assert (latest.queue, latest.ordered) == (queue, ordered)
    assert (model.queue, model.ordered, model.schema_version) == (queue, ordered, latest.version)


def test_shipped_schemas_pass_every_check() -> None:
    assert find_convention_issues() == []
    assert find_incompatibilities() == []
    check_compatibility()
    assert check_schemas() == []


def test_generated_models_are_current() -> None:
    assert models_up_to_date()
    from frontdesk.contracts.models import MODELS_PATH

    assert render_models() == MODELS_PATH.read_text(encoding="utf-8")


def test_committed_catalogue_is_current() -> None:
    assert catalogue_up_to_date()


def test_models_match_the_latest_schema_fields() -> None:
    registry = default_registry()
    for event_type, model in EVENT_TYPES.items():
        schema_fields = [f["name"] for f in registry.latest(event_type).schema["fields"]]
        assert list(model.model_fields) == schema_fields
        assert model.__doc__ == registry.latest(event_type).schema["doc"]


def test_schemas_dir_honours_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _copy_schemas(tmp_path)
    monkeypatch.setenv("FRONTDESK_SCHEMAS_DIR", str(root))
    assert schemas_dir() == root
    assert SchemaRegistry.load().root == root


def test_new_required_field_breaks_backward_compatibility(tmp_path: Path) -> None:
    root = _copy_schemas(tmp_path)
    v3 = _v3_from_v2(root)
    v3["fields"].append({"name": "rate_plan_id", "type": "string", "doc": "Rate plan."})
    _add_version(root, "BookingCreated", 3, v3)
    with pytest.raises(SchemaCompatibilityError) as caught:
        check_compatibility(SchemaRegistry.load(root))
    message = str(caught.value)
    assert (
        "BookingCreated: v3 cannot read v2 data (backward): field 'rate_plan_id' "
        "is missing from the writer and has no default"
    ) in message
    assert "v3 cannot read v1 data" in message


def test_removed_enum_symbol_without_default_breaks(tmp_path: Path) -> None:
    root = _copy_schemas(tmp_path)
    v3 = _v3_from_v2(root)
    status = next(f for f in v3["fields"] if f["name"] == "status")
    status["type"] = {
        "type": "enum",
        "name": "BookingStatus",
        "doc": "Commercial state of a booking.",
        "symbols": ["confirmed", "unknown"],
    }
    _add_version(root, "BookingCreated", 3, v3)
    issues = [str(i) for i in find_incompatibilities(SchemaRegistry.load(root))]
    assert any(
        "v3 cannot read v2 data (backward): field 'status' lost symbols ['tentative']" in i
        for i in issues
    ), issues
    assert any(
        "enum BookingStatus needs a default" in i
        for i in find_convention_issues(SchemaRegistry.load(root))
    )


def test_type_change_breaks(tmp_path: Path) -> None:
    root = _copy_schemas(tmp_path)
    v3 = _v3_from_v2(root)
    amount = next(f for f in v3["fields"] if f["name"] == "total_amount")
    amount["type"] = "string"
    _add_version(root, "BookingCreated", 3, v3)
    issues = [str(i) for i in find_incompatibilities(SchemaRegistry.load(root))]
    assert (
        "BookingCreated: v3 cannot read v2 data (backward): field 'total_amount' changed "
        "type from decimal(12, 2) to string"
    ) in issues


def test_nested_envelope_change_is_named_by_path(tmp_path: Path) -> None:
    root = _copy_schemas(tmp_path)
    meta = _load(root / "common" / "EventMeta.v1.avsc")
    meta["fields"].append({"name": "region", "type": "string", "doc": "Data region."})
    (root / "common" / "EventMeta.v2.avsc").write_text(json.dumps(meta))
    v3 = _v3_from_v2(root)
    v3["frontdesk.refs"] = {"frontdesk.common.EventMeta": 2}
    _add_version(root, "BookingCreated", 3, v3)
    for event_type in default_registry().event_types:  # the old versions pin v1
        for path in (root / "events").glob(f"{event_type}.v*.avsc"):
            if path.name != "BookingCreated.v3.avsc":
                schema = _load(path)
                schema["frontdesk.refs"] = {"frontdesk.common.EventMeta": 1}
                path.write_text(json.dumps(schema))
    issues = [str(i) for i in find_incompatibilities(SchemaRegistry.load(root))]
    assert any("field 'meta.region' is missing from the writer" in i for i in issues), issues


def test_forward_break_only_matters_when_declared(tmp_path: Path) -> None:
    root = _copy_schemas(tmp_path)
    v3 = _v3_from_v2(root)
    v3["fields"] = [f for f in v3["fields"] if f["name"] != "guest_name"]
    _add_version(root, "BookingCreated", 3, v3)
    issues = [str(i) for i in find_incompatibilities(SchemaRegistry.load(root))]
    assert (
        "BookingCreated: v2 cannot read v3 data (forward): field 'guest_name' "
        "is missing from the writer and has no default"
    ) in issues
    v3["frontdesk.compatibility"] = "backward"
    _add_version(root, "BookingCreated", 3, v3)
    assert find_incompatibilities(SchemaRegistry.load(root)) == []


def test_added_optional_field_is_fully_compatible(tmp_path: Path) -> None:
    root = _copy_schemas(tmp_path)
    v3 = _v3_from_v2(root)
    v3["fields"].append(
        {"name": "vip", "type": ["null", "boolean"], "default": None, "doc": "VIP guest."}
    )
    _add_version(root, "BookingCreated", 3, v3)
    assert find_incompatibilities(SchemaRegistry.load(root)) == []


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda root: (root / "events" / "BookingCreated.v2.avsc").rename(
                root / "events" / "BookingCreated.v3.avsc"
            ),
            "versions must be 1..n",
        ),
        (lambda root: (root / "events" / "Oops.avsc").write_text("{}"), "<Name>.v<N>.avsc"),
        (lambda root: (root / "events" / "Broken.v1.avsc").write_text("{"), "cannot read schema"),
        (
            lambda root: shutil.copy(
                root / "common" / "EventMeta.v1.avsc", root / "common" / "EventMeta.v2.avsc"
            ),
            "pin one",
        ),
    ],
)
def test_unusable_schema_directories_are_refused(tmp_path: Path, mutate: Any, message: str) -> None:
    root = _copy_schemas(tmp_path)
    mutate(root)
    with pytest.raises(SchemaError, match=message.replace(".", r"\.")):
        SchemaRegistry.load(root)


def test_doc_only_version_is_refused(tmp_path: Path) -> None:
    root = _copy_schemas(tmp_path)
    v3 = _v3_from_v2(root)
    v3["doc"] = "Reworded."
    _add_version(root, "BookingCreated", 3, v3)
    with pytest.raises(SchemaError, match="same canonical form"):
        SchemaRegistry.load(root)


def test_convention_issues_name_the_field(tmp_path: Path) -> None:
    root = _copy_schemas(tmp_path)
    v3 = _v3_from_v2(root)
    v3["fields"].append({"name": "deposit_amount", "type": ["null", "double"], "default": None})
    v3["frontdesk.queue"] = "automation"
    _add_version(root, "BookingCreated", 3, v3)
    issues = find_convention_issues(SchemaRegistry.load(root))
    assert "BookingCreated v3: field BookingCreated.deposit_amount has no doc" in issues
    assert any("deposit_amount: money must be a decimal" in i for i in issues)
    assert any("queue/ordered changed from v1" in i for i in issues)
