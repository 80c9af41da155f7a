"""Client quotas for dedicated tenants: byte rates and request share per principal.

confluent-kafka has no client-quota admin API, so the two requests (DescribeClientQuotas,
AlterClientQuotas; KIP-546) are sent with aiokafka's protocol layer, which is already a
dependency (of faust). The topology owns the quotas of the principals it names: keys it
does not declare are removed on apply.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.protocol.admin import DescribeClientQuotasRequest
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import Array, Boolean, Float64, Int16, Int32, Schema, String

from frontdesk.topology import Topology

QUOTA_KEYS = ("producer_byte_rate", "consumer_byte_rate", "request_percentage")
_MATCH_EXACT = 0
_PROPAGATION_TIMEOUT = 30.0


class _AlterClientQuotasResponseV0(Response):
    API_KEY = 49
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "entries",
            Array(
                ("error_code", Int16),
                ("error_message", String("utf-8")),
                (
                    "entity",
                    Array(("entity_type", String("utf-8")), ("entity_name", String("utf-8"))),
                ),
            ),
        ),
    )


class _AlterClientQuotasRequestV0(RequestStruct):
    API_KEY = 49
    API_VERSION = 0
    RESPONSE_TYPE = _AlterClientQuotasResponseV0
    SCHEMA = Schema(
        (
            "entries",
            Array(
                (
                    "entity",
                    Array(("entity_type", String("utf-8")), ("entity_name", String("utf-8"))),
                ),
                (
                    "ops",
                    Array(("key", String("utf-8")), ("value", Float64), ("remove", Boolean)),
                ),
            ),
        ),
        ("validate_only", Boolean),
    )


class _AlterClientQuotasRequest(Request[_AlterClientQuotasRequestV0]):
    API_KEY: ClassVar[int] = 49

    def __init__(self, entries: list[Any], *, validate_only: bool = False) -> None:
        self._entries = entries
        self._validate_only = validate_only

    def build(
        self, request_struct_class: type[_AlterClientQuotasRequestV0]
    ) -> _AlterClientQuotasRequestV0:
        return request_struct_class(self._entries, self._validate_only)


def _num(value: float | None) -> str:
    return "unset" if value is None else format(value, ".12g")


@dataclass(frozen=True, slots=True)
class QuotaChange:
    user: str
    key: str
    current: float | None
    wanted: float | None  # None: remove

    def describe(self) -> str:
        if self.wanted is None:
            return f"quota User:{self.user}: remove {self.key} (was {_num(self.current)})"
        return f"quota User:{self.user}: {self.key} {_num(self.current)} -> {_num(self.wanted)}"


@dataclass(slots=True)
class QuotaPlan:
    changes: list[QuotaChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.changes


def desired_quotas(topology: Topology) -> dict[str, dict[str, float]]:
    """User name (the principal without ``User:``) -> quota key -> value."""
    wanted: dict[str, dict[str, float]] = {}
    for tenant in topology.dedicated_tenants():
        if tenant.principal is None:
            continue
        values = tenant.quotas.model_dump(exclude_none=True) if tenant.quotas else {}
        wanted[tenant.principal.removeprefix("User:")] = {k: float(v) for k, v in values.items()}
    return wanted


def _aiokafka_config(config: dict[str, Any]) -> dict[str, Any]:
    """Translate librdkafka connection settings into aiokafka's keyword arguments."""
    out: dict[str, Any] = {"bootstrap_servers": config["bootstrap.servers"]}
    if "security.protocol" in config:
        out["security_protocol"] = config["security.protocol"]
    if "sasl.mechanism" in config:
        out["sasl_mechanism"] = config["sasl.mechanism"]
        out["sasl_plain_username"] = config.get("sasl.username")
        out["sasl_plain_password"] = config.get("sasl.password")
    return out


async def _with_admin(config: dict[str, Any], work: Any) -> Any:
    admin = AIOKafkaAdminClient(**_aiokafka_config(config), request_timeout_ms=30_000)
    await admin.start()
    try:
        return await work(admin)
    finally:
        await admin.close()


async def _describe(admin: AIOKafkaAdminClient, user: str) -> dict[str, float]:
    request = DescribeClientQuotasRequest([("user", _MATCH_EXACT, user)], True)
    response = await admin._send_request(request)  # no public raw-request API
    if response.error_code:
        raise RuntimeError(f"DescribeClientQuotas failed: {response.error_message}")
    values: dict[str, float] = {}
    for _entity, entry_values in response.entries:
        values.update(dict(entry_values))
    return values


def plan_quotas(config: dict[str, Any], topology: Topology) -> QuotaPlan:
    wanted = desired_quotas(topology)

    async def work(admin: AIOKafkaAdminClient) -> QuotaPlan:
        plan = QuotaPlan()
        for user, values in sorted(wanted.items()):
            current = await _describe(admin, user)
            for key in QUOTA_KEYS:
                have, want = current.get(key), values.get(key)
                if have != want:
                    plan.changes.append(QuotaChange(user, key, have, want))
        return plan

    if not wanted:
        return QuotaPlan()
    result: QuotaPlan = asyncio.run(_with_admin(config, work))
    return result


def _by_user(plan: QuotaPlan) -> dict[str, list[QuotaChange]]:
    by_user: dict[str, list[QuotaChange]] = {}
    for change in plan.changes:
        by_user.setdefault(change.user, []).append(change)
    return by_user


def _entries(by_user: dict[str, list[QuotaChange]]) -> list[Any]:
    return [
        (
            [("user", user)],
            [(c.key, c.wanted or 0.0, c.wanted is None) for c in changes],
        )
        for user, changes in by_user.items()
    ]


def _failures(response: Any) -> list[str]:
    return [
        f"quota {'/'.join(f'{kind}:{name}' for kind, name in entity)}: {message or code}"
        for code, message, entity in response.entries
        if code
    ]


def validate_quotas(config: dict[str, Any], plan: QuotaPlan) -> list[str]:
    """What the broker would refuse in ``plan``, asked with ``validate_only`` (no change)."""
    if plan.empty:
        return []
    request = _AlterClientQuotasRequest(_entries(_by_user(plan)), validate_only=True)

    async def work(admin: AIOKafkaAdminClient) -> list[str]:
        return _failures(await admin._send_request(request))

    problems: list[str] = asyncio.run(_with_admin(config, work))
    return problems


def apply_quotas(config: dict[str, Any], plan: QuotaPlan) -> None:
    if plan.empty:
        return
    by_user = _by_user(plan)
    entries = _entries(by_user)

    async def work(admin: AIOKafkaAdminClient) -> None:
        response = await admin._send_request(_AlterClientQuotasRequest(entries))
        failures = _failures(response)
        if failures:
            raise RuntimeError(f"AlterClientQuotas failed: {'; '.join(failures)}")
        # Quotas propagate asynchronously, like ACLs: return once the broker reports them,
        # so a plan right after apply (or the tenant's next client) sees the new values.
        deadline = time.monotonic() + _PROPAGATION_TIMEOUT
        for user, changes in by_user.items():
            while True:
                current = await _describe(admin, user)
                if all(current.get(c.key) == c.wanted for c in changes):
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"quotas of User:{user} not reported within 30 s")
                await asyncio.sleep(0.1)

    asyncio.run(_with_admin(config, work))
