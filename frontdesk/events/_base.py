"""Hand-written base of the generated event models: field types, rules and constructors.

The generated module only declares fields; everything a schema cannot say (what a tenant
id may look like, that amounts carry exactly the schema's scale, that a stay ends after it
starts, how a fresh envelope is filled in) lives here, once, so that regenerating the models
never loses behaviour.
"""

from __future__ import annotations

import uuid
import weakref
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationError,
    model_validator,
)

from frontdesk import naming
from frontdesk.errors import EventValidationError
from frontdesk.queues import QueueType

if TYPE_CHECKING:
    from frontdesk.events._generated import EventMeta

PROPERTY_ID_PATTERN = r"^[^\s/]{1,128}$"
"""No `/`: the partition key is `<tenant_id>/<property_id>` and must split unambiguously."""
DEFAULT_SOURCE = "pms"
"""`meta.source` when `new()` is not told which system produced the event."""

TenantId = Annotated[StrictStr, AfterValidator(naming.validate_tenant_id)]
"""Tenant ids become parts of topic names (`tenant.<id>.<queue>`): checked by the one
validator of `frontdesk.naming`, like everywhere else."""
PropertyId = Annotated[str, StringConstraints(pattern=PROPERTY_ID_PATTERN)]
Id = Annotated[str, StringConstraints(max_length=256, pattern=r"^\S(?:[^\r\n]*\S)?$")]
"""An identifier: 1-256 characters, one line, no surrounding blanks."""
Text = Annotated[str, StringConstraints(pattern=r"\S")]
"""Human text that must say something (not empty, not only blanks)."""
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
"""ISO 4217 alphabetic code."""
Int32 = Annotated[StrictInt, Field(ge=-(2**31), le=2**31 - 1)]
Int64 = Annotated[StrictInt, Field(ge=-(2**63), le=2**63 - 1)]
"""Counts and versions: strict, so `True` or `2.0` is refused instead of becoming 1 or 2 (no
PMS means a flag or a fraction where the schema says int)."""
Bool = StrictBool
"""A flag: strict, so `1` or `"yes"` is refused instead of becoming `True`."""
Float = StrictFloat
"""A float: strict, so a bool or a numeric string is refused (an int still reads as float)."""


def _utc_millis(value: datetime) -> datetime:
    # Avro timestamp-millis keeps milliseconds: truncate now so a decoded event equals the
    # one that was sent.
    value = value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_utc_millis)]
"""A timezone-aware instant, normalised to UTC and milliseconds (what Avro keeps)."""


def quantizer(scale: int) -> AfterValidator:
    """Fix a decimal's exponent to the schema scale, so equal amounts compare and encode alike."""
    exponent = Decimal(1).scaleb(-scale)

    def quantize(value: Decimal) -> Decimal:
        return value.quantize(exponent)

    return AfterValidator(quantize)


def utc_now() -> datetime:
    return _utc_millis(datetime.now(UTC))


OrderRule = tuple[str, str, bool]
"""(earlier field, later field, strictly later?): checked when both are set."""


class Record(BaseModel):
    """Any Avro record as a frozen pydantic model that refuses unknown fields."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        use_attribute_docstrings=True,
        # A record given as a field value (or re-validated by `Event.validated`) is checked
        # again: it may have been built with `model_construct` or `model_copy(update=...)`.
        revalidate_instances="always",
    )

    _order_rules: ClassVar[tuple[OrderRule, ...]] = ()

    @model_validator(mode="after")
    def _check_order(self) -> Self:
        for first, second, strict in self._order_rules:
            early, late = getattr(self, first), getattr(self, second)
            if early is None or late is None:
                continue
            if late < early or (strict and late == early):
                relation = "after" if strict else "on or after"
                raise ValueError(f"{second} ({late}) must be {relation} {first} ({early})")
        return self


class MetaBase(Record):
    """Behaviour of the generated `EventMeta`: building a fresh envelope."""

    @classmethod
    def new(
        cls,
        event_type: str,
        *,
        tenant_id: str,
        property_id: str,
        source: str = DEFAULT_SOURCE,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        entity_version: int | None = None,
        occurred_at: datetime | None = None,
        event_id: uuid.UUID | None = None,
    ) -> Self:
        """A new envelope: fresh uuid4 id, now as `occurred_at`, a new flow unless told."""
        event_id = event_id or uuid.uuid4()
        return cls.model_validate(
            {
                "event_id": event_id,
                "event_type": event_type,
                "tenant_id": tenant_id,
                "property_id": property_id,
                "occurred_at": occurred_at or utc_now(),
                "source": source,
                "correlation_id": correlation_id or str(event_id),
                "causation_id": causation_id,
                "entity_version": entity_version,
            }
        )


_VALIDATED: weakref.WeakValueDictionary[int, Event] = weakref.WeakValueDictionary()
"""The events pydantic's validator built, by `id()`, while they live. `model_construct` and
`model_copy` make new objects that are not in it, so `Event.validated()` re-validates
exactly those and skips the second validation of an event built the ordinary way. Kept
outside the model so that it plays no part in equality, pickling or copying."""


class Event(Record):
    """Base of every event model; class attributes say where and how it travels."""

    event_type: ClassVar[str]
    """Avro record name, also `meta.event_type`."""
    queue: ClassVar[QueueType]
    ordered: ClassVar[bool]
    """Later events of the same key must never overtake this one."""
    schema_version: ClassVar[int]
    """The schema version this model matches, the one producers write."""

    if TYPE_CHECKING:
        meta: EventMeta

    @model_validator(mode="after")
    def _check_event_type(self) -> Self:
        if self.meta.event_type != self.event_type:
            raise ValueError(
                f"meta.event_type is {self.meta.event_type!r}, expected {self.event_type!r}"
            )
        _VALIDATED[id(self)] = self
        return self

    def validated(self) -> Self:
        """This event re-validated from its fields, or `EventValidationError` naming one.

        `model_copy(update=...)`, `model_construct()` and attribute writes bypass pydantic;
        the producers and the outbox call this before encoding, so whatever they are given
        is checked exactly as `model_validate` would (nested records included: the models
        re-validate instances, see `Record.model_config`).
        """
        if _VALIDATED.get(id(self)) is self:
            return self  # exactly what pydantic's validator built: checked already
        try:
            return type(self).model_validate(self)
        except ValidationError as exc:
            raise EventValidationError.from_pydantic(exc) from exc

    @property
    def key(self) -> str:
        """The Kafka key: every event of one property lands on one partition, in order."""
        return f"{self.meta.tenant_id}/{self.meta.property_id}"

    @classmethod
    def new(
        cls,
        *,
        tenant_id: str | None = None,
        property_id: str | None = None,
        cause: Event | None = None,
        source: str = DEFAULT_SOURCE,
        correlation_id: str | None = None,
        entity_version: int | None = None,
        occurred_at: datetime | None = None,
        event_id: uuid.UUID | None = None,
        **fields: Any,
    ) -> Self:
        """Build an event with its envelope filled in; see the package docstring."""
        if cause is not None:
            tenant_id = tenant_id or cause.meta.tenant_id
            property_id = property_id or cause.meta.property_id
            correlation_id = correlation_id or cause.meta.correlation_id
        if tenant_id is None or property_id is None:
            raise TypeError(f"{cls.__name__}.new() needs tenant_id and property_id (or cause)")
        meta_type = cls.model_fields["meta"].annotation
        if not (isinstance(meta_type, type) and issubclass(meta_type, MetaBase)):
            raise TypeError(f"{cls.__name__}.meta is not an EventMeta")
        meta = meta_type.new(
            cls.event_type,
            tenant_id=tenant_id,
            property_id=property_id,
            source=source,
            correlation_id=correlation_id,
            causation_id=str(cause.meta.event_id) if cause is not None else None,
            entity_version=entity_version,
            occurred_at=occurred_at,
            event_id=event_id,
        )
        return cls(meta=meta, **fields)
